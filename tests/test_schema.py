"""The data contract is defined once (crmkit/schema.py) and documented from it."""

from tests.conftest import ROOT

from crmkit.schema import KINDS, TABLES, data_model_markdown


def test_documentation_is_generated_from_the_schema():
    committed = (ROOT / "docs" / "data-model.md").read_text()
    assert committed.strip() == data_model_markdown().strip(), \
        "docs/data-model.md is stale: run `crmkit schema > docs/data-model.md`"


def test_contract_matches_the_design():
    assert list(TABLES) == ["customers", "orders", "leads", "campaigns", "tickets", "surveys",
                            "targets"]
    assert TABLES["orders"].required == ["order_id", "order_date", "amount"]
    assert TABLES["targets"].key == ("owner", "period_start")
    for table in TABLES.values():
        assert set(table.key) <= set(table.required), table.name
        for column in table.columns:
            assert column.kind in KINDS
            if column.references:
                parent, key = column.references.split(".")
                assert TABLES[parent].key == (key,)
