"""crmkit.sample_zh: the retail sample in Chinese (``crmkit sample --language zh``) is the
English sample of the same seed in Chinese words: the same numbers, dates and ids, Chinese
names, regions, products, channels, reasons, comments and campaigns; deterministic; GBK
exports of it ingest with ``encoding: gbk``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from crmkit import sample, sample_zh
from crmkit.cli import main
from crmkit.exceptions import ConfigError, CrmkitError
from crmkit.sample import RETAIL_COLUMNS, write_sample
from tests.test_sample import check_required_and_keys, check_schema_rules, read_tables

ROOT = Path(__file__).resolve().parents[1]
TABLE_ORDER = tuple(RETAIL_COLUMNS)
XSS = "<script>alert(1)</script>"
CUSTOMERS, SEED = 1500, 7
HAN = re.compile(r"[\u4e00-\u9fff]")
# Columns whose values are codes the contract gives meaning to (or ids, dates, numbers,
# e-mail addresses): the same in both languages.
CODES = {
    "customers": {"customer_id", "signup_date", "status", "churn_date",
                  "tenure_months", "acquisition_cost", "monthly_revenue"},
    "orders": {"order_id", "order_date", "amount", "customer_id", "quantity", "unit_price",
               "status", "campaign_id"},
    "leads": {"lead_id", "created_date", "stage", "won", "closed_date", "amount",
              "campaign_id", "customer_id"},
    "campaigns": {"campaign_id", "start_date", "end_date", "cost"},
    "tickets": {"ticket_id", "opened_at", "customer_id", "type", "closed_at", "csat"},
    "surveys": {"response_id", "date", "customer_id", "csat", "nps"},
    "targets": {"period_start", "target_amount", "period_end"},
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    zh, en = tmp_path_factory.mktemp("zh"), tmp_path_factory.mktemp("en")
    counts = write_sample(zh, customers=CUSTOMERS, seed=SEED, language="zh")
    assert write_sample(en, customers=CUSTOMERS, seed=SEED) == counts
    return zh, en


@pytest.fixture(scope="module")
def zh(folders):
    return read_tables(folders[0])


@pytest.fixture(scope="module")
def en(folders):
    return read_tables(folders[1])


# --- the English sample in Chinese words -----------------------------------------------------

def test_same_rows_numbers_dates_and_codes_as_the_english_sample(zh, en):
    for name in TABLE_ORDER:
        assert list(zh[name].columns) == list(RETAIL_COLUMNS[name]), name
        assert len(zh[name]) == len(en[name]), name
        for column in CODES[name]:
            pd.testing.assert_series_equal(zh[name][column], en[name][column],
                                           obj=f"{name}.{column}")


def test_every_word_column_is_chinese(zh):
    for name, frame in zh.items():
        for column in set(frame.columns) - CODES[name] - {"email"}:
            values = frame[column].dropna().astype(str)
            values = values[values != XSS]
            assert len(values), f"{name}.{column}"
            latin = values[~values.str.contains(HAN)]
            assert latin.empty, f"{name}.{column}: {sorted(set(latin))[:5]}"


def test_vocabularies(zh):
    customers, orders = zh["customers"], zh["orders"]
    assert set(customers["region"]) == set(sample_zh.REGIONS)
    assert set(orders["region"]) == set(sample_zh.REGIONS)
    assert set(customers["country"]) == {"中国"}
    assert set(customers["segment"]) == set(sample_zh.SEGMENTS.values())
    assert set(orders["category"]) == set(sample_zh.CATEGORIES.values())
    assert set(orders["product"]) <= set(sample_zh.PRODUCTS.values())
    assert set(orders["channel"]) == {"线上商城", "门店", "经销商", "电话销售"}
    assert set(zh["campaigns"]["channel"]) <= set(sample_zh.ACQUISITION.values())
    assert set(zh["tickets"]["reason"]) <= set(sample_zh.TICKET_REASONS.values())
    assert set(zh["surveys"]["comment"].dropna()) <= set(sample_zh.SURVEY_COMMENTS.values())
    reps = {name for name, _ in sample_zh.REPS.values()}
    assert set(zh["targets"]["owner"]) == reps
    for table, column in (("customers", "owner"), ("orders", "sales_rep"), ("leads", "owner")):
        assert set(zh[table][column]) <= reps, table
    # the vocabularies cover the English ones, one Chinese word for each
    assert set(sample_zh.PRODUCTS) == set(sample._PRODUCT_NAMES)
    assert set(sample_zh.CATEGORIES) == set(sample.PRODUCTS)
    assert set(sample_zh.CAMPAIGNS) == {c[0] for c in sample.CAMPAIGN_CALENDAR}
    for mapping in (sample_zh.PRODUCTS, sample_zh.TICKET_REASONS, sample_zh.SURVEY_COMMENTS):
        assert len(set(mapping.values())) == len(mapping)


def test_people_for_consumers_companies_otherwise(zh):
    customers = zh["customers"].set_index("customer_id")
    consumer = customers["segment"] == "个人消费者"
    names = customers["name"]
    company = names.str.endswith("公司")
    assert (company | (names == XSS))[~consumer].all()
    assert (~company)[consumer].all()
    assert names[consumer].str.len().between(2, 4).all()
    # a company is registered in a city of its region
    for region, cities in sample_zh.CITIES.items():
        in_region = names[~consumer & (customers["region"] == region) & names.str.endswith(
            "有限公司") & ~names.isin([s[0] for s in sample_zh.SPECIAL_CUSTOMERS])]
        assert in_region.str.startswith(tuple(cities)).all(), region
    assert customers["email"].is_unique
    assert names.nunique() > 0.6 * len(names)


def test_awkward_names_sit_where_the_english_ones_do(zh, en):
    special = [s[0] for s in sample_zh.SPECIAL_CUSTOMERS]
    english = [s[0] for s in sample.SPECIAL_CUSTOMERS]
    zh_names, en_names = zh["customers"]["name"], en["customers"]["name"]
    for zh_name, en_name in zip(special, english):
        assert (zh_names == zh_name).sum() == 1, zh_name
        assert zh_names[en_names == en_name].tolist() == [zh_name]
    assert (zh_names == XSS).sum() == 1
    # names a CSV has to quote, traditional characters, characters GBK has and GB2312 not
    assert any('"' in s for s in special) and any("," in s for s in special)
    for name in special:
        name.encode("gbk")
    assert any(_not_gb2312(name) for name in special)


def _not_gb2312(text: str) -> bool:
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return False


def test_regions_follow_the_account_owner(zh):
    customers, orders, targets = zh["customers"], zh["orders"], zh["targets"]
    home = {name: region for name, region in sample_zh.REPS.values()}
    assert (customers["region"] == customers["owner"].map(home)).all()
    assert (targets["region"] == targets["owner"].map(home)).all()
    region = customers.set_index("customer_id")["region"]
    known = orders["customer_id"].notna()
    assert (orders.loc[known, "region"].to_numpy()
            == region[orders.loc[known, "customer_id"]].to_numpy()).all()
    guests = orders[~known]
    assert (guests["region"] == guests["sales_rep"].map(home)).all()
    # 华东 is the biggest region
    assert customers["region"].value_counts().idxmax() == "华东"


def test_campaigns_are_named_by_year(zh, en):
    campaigns = zh["campaigns"]
    year = campaigns["start_date"].dt.year.astype(str)
    assert (campaigns["name"].str[:5] == year + "年").all()
    words = {v: k for k, v in sample_zh.CAMPAIGNS.items()}
    english = [f"{words[name[5:]]} {name[:4]}" for name in campaigns["name"]]
    assert english == en["campaigns"]["name"].tolist()


def test_survey_comments_keep_their_score(zh, en):
    both = pd.DataFrame({"zh": zh["surveys"]["comment"], "en": en["surveys"]["comment"]})
    both = both.dropna()
    assert len(both) and (both["zh"] == both["en"].map(sample_zh.SURVEY_COMMENTS)).all()


def test_service_is_worst_in_the_south(zh):
    surveys = zh["surveys"].merge(zh["customers"][["customer_id", "region"]], on="customer_id")
    csat = surveys.groupby("region")["csat"].mean().sort_values()
    assert set(csat.index[:2]) == {"华南", "西南"}, csat


def test_contract_holds(zh):
    check_required_and_keys(zh)
    check_schema_rules(zh)


def test_every_text_is_gbk(folders):
    for name in TABLE_ORDER:
        (folders[0] / f"{name}.csv").read_text(encoding="utf-8").encode("gbk")


# --- determinism, formats, arguments, the command --------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_files(tmp_path, fmt):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_sample(a, customers=300, seed=11, fmt=fmt, language="zh")
    write_sample(b, customers=300, seed=11, fmt=fmt, language="zh")
    write_sample(c, customers=300, seed=12, fmt=fmt, language="zh")
    for name in TABLE_ORDER:
        assert (a / f"{name}.{fmt}").read_bytes() == (b / f"{name}.{fmt}").read_bytes(), name
    assert (a / f"customers.{fmt}").read_bytes() != (c / f"customers.{fmt}").read_bytes()


def test_english_sample_is_unchanged_by_the_language_argument(tmp_path):
    write_sample(tmp_path / "a", customers=200, seed=3)
    write_sample(tmp_path / "b", customers=200, seed=3, language="en")
    for name in TABLE_ORDER:
        assert (tmp_path / "a" / f"{name}.csv").read_bytes() == \
            (tmp_path / "b" / f"{name}.csv").read_bytes(), name


def test_blocks_stream_into_one_consistent_data_set(tmp_path, monkeypatch):
    monkeypatch.setattr(sample, "BLOCK_CUSTOMERS", 120)
    counts = write_sample(tmp_path, customers=500, seed=5, fmt="parquet", language="zh")
    customers = pq.read_table(tmp_path / "customers.parquet").to_pandas()
    orders = pq.read_table(tmp_path / "orders.parquet").to_pandas()
    assert pq.ParquetFile(tmp_path / "orders.parquet").metadata.num_row_groups == 5
    assert counts["customers"] == 500 and customers["customer_id"].is_unique
    assert customers["email"].is_unique
    assert (customers["name"] == XSS).sum() == 1
    region = customers.set_index("customer_id")["region"]
    known = orders["customer_id"].notna()
    assert (orders.loc[known, "region"].to_numpy()
            == region[orders.loc[known, "customer_id"]].to_numpy()).all()


@pytest.mark.parametrize("customers", [1, 5])
def test_tiny_samples(tmp_path, customers):
    write_sample(tmp_path, customers=customers, seed=1, language="zh")
    names = pd.read_csv(tmp_path / "customers.csv")["name"].tolist()
    assert names.count(XSS) == 1
    assert names == [s[0] for s in sample_zh.SPECIAL_CUSTOMERS[:customers]]


def test_unknown_language_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="language 'fr'.*en, zh"):
        write_sample(tmp_path / "out", language="fr")
    assert not (tmp_path / "out").exists()


def test_command_writes_the_chinese_sample(tmp_path, capsys):
    assert main(["sample", "--language", "zh", "--out", str(tmp_path / "zh"),
                 "--customers", "200", "--seed", "3"]) == 0
    write_sample(tmp_path / "api", customers=200, seed=3, language="zh")
    for name in TABLE_ORDER:
        assert (tmp_path / "zh" / f"{name}.csv").read_bytes() == \
            (tmp_path / "api" / f"{name}.csv").read_bytes(), name
    capsys.readouterr()
    assert main(["sample", "--language", "zh", "--shape", "b2b",
                 "--out", str(tmp_path / "b2b")]) == 2
    assert "retail shape only" in capsys.readouterr().err
    assert not (tmp_path / "b2b").exists()


def test_example_config_names_the_currency(tmp_path):
    from crmkit.ingest import resolve_config

    text = (ROOT / "examples" / "sample_zh.yaml").read_text(encoding="utf-8")
    settings = yaml.safe_load(text)
    assert settings["currency"] == "CNY" and settings["source"] == "../data/sample-zh"
    write_sample(tmp_path / "data" / "sample-zh", customers=50, seed=1, language="zh")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "sample_zh.yaml").write_text(text, encoding="utf-8")
    config = resolve_config(tmp_path / "examples" / "sample_zh.yaml")
    assert config.currency == "CNY"
    assert set(config.tables) == set(TABLE_ORDER)


# --- a GBK export ingests with `encoding: gbk` -----------------------------------------------

GBK_TABLES = ("customers", "orders")


def gbk_export(folder, out):
    """The sample with customers.csv and orders.csv re-encoded to GBK (as Excel on a
    Chinese Windows saves them); the other tables stay UTF-8."""
    out.mkdir()
    for name in TABLE_ORDER:
        text = (folder / f"{name}.csv").read_text(encoding="utf-8")
        encoding = "gbk" if name in GBK_TABLES else "utf-8"
        (out / f"{name}.csv").write_bytes(text.encode(encoding))
    return out


def test_gbk_export_ingests_with_encoding_gbk(folders, tmp_path):
    from crmkit.ingest import ingest, resolve_config
    from crmkit.warehouse import Warehouse

    export = gbk_export(folders[0], tmp_path / "export")
    with pytest.raises(UnicodeDecodeError):
        (export / "customers.csv").read_bytes().decode("utf-8")
    tables = {name: {"file": f"{name}.csv", **({"encoding": "gbk"} if name in GBK_TABLES
                                                else {})} for name in TABLE_ORDER}
    config = tmp_path / "crmkit.yaml"
    config.write_text(yaml.safe_dump({"source": "export", "currency": "CNY",
                                      "tables": tables}, allow_unicode=True),
                      encoding="utf-8")
    audit = ingest(resolve_config(config), tmp_path / "wh")
    assert audit["reconciled"]
    for name in TABLE_ORDER:
        counts = audit["tables"][name]
        assert counts["rows_in"] == counts["kept"] + counts["flagged"] + counts["quarantined"]
        assert counts["rows_in"] == len(pd.read_csv(folders[0] / f"{name}.csv")), name
        assert counts["quarantined"] == 0, name
    wh = Warehouse.open(tmp_path / "wh")
    source = pd.read_csv(folders[0] / "customers.csv", dtype=str)
    stored = wh.table("customers").execute().set_index("customer_id")
    for column in ("name", "email", "segment", "region", "country", "acquisition_channel",
                   "owner", "churn_reason"):
        expected = source.set_index("customer_id")[column]
        got = stored[column].reindex(expected.index)
        assert (got.fillna("") == expected.fillna("")).all(), column
    for name, _ in sample_zh.SPECIAL_CUSTOMERS:
        assert (stored["name"] == name).sum() == 1, name
    orders = wh.table("orders").execute()
    source_orders = pd.read_csv(folders[0] / "orders.csv", dtype=str)
    assert sorted(orders["product"].unique()) == sorted(source_orders["product"].unique())
    assert sorted(orders["region"].unique()) == sorted(sample_zh.REGIONS)
    assert np.isclose(orders["amount"].sum(), source_orders["amount"].astype(float).sum())


def test_gbk_export_read_as_utf8_names_the_file_and_the_setting(folders, tmp_path):
    from crmkit.ingest import ingest, resolve_config

    export = gbk_export(folders[0], tmp_path / "export")
    with pytest.raises(CrmkitError) as error:
        ingest(resolve_config(source=export), tmp_path / "wh")
    message = str(error.value)
    assert re.search(r"customers\.csv|orders\.csv", message), message
    assert "encoding:" in message and "gbk" in message, message
