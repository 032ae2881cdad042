"""The data contract is defined once (crmkit/schema.py) and documented from it."""

from tests.conftest import ROOT

from crmkit.schema import KINDS, TABLES, data_model_markdown


def test_documentation_is_generated_from_the_schema():
    committed = (ROOT / "docs" / "data-model.md").read_text()
    assert committed.strip() == data_model_markdown().strip(), \
        "docs/data-model.md is stale: run `crmkit schema > docs/data-model.md`"


def test_contract_matches_the_design():
    assert list(TABLES) == ["customers", "orders", "leads", "opportunities", "campaigns",
                            "tickets", "surveys", "targets"]
    assert TABLES["orders"].required == ["order_id", "order_date", "amount"]
    assert TABLES["opportunities"].required == ["opportunity_id"]
    assert TABLES["opportunities"].column("outcome").values == ("open", "won", "lost")
    assert TABLES["leads"].canonical_name("won") == "converted"
    # An alias names one column of its table, never a canonical name of another column.
    for table in TABLES.values():
        names = [n for c in table.columns for n in (c.name, *c.aliases)]
        assert len(names) == len(set(names)), table.name
    assert TABLES["targets"].key == ("owner", "period_start")
    for table in TABLES.values():
        assert set(table.key) <= set(table.required), table.name
        for column in table.columns:
            assert column.kind in KINDS
            if column.references:
                parent, key = column.references.split(".")
                assert TABLES[parent].key == (key,)
