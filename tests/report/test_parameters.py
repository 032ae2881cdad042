import datetime as dt

import pytest

from crmkit.exceptions import ParameterError
from crmkit.report.parameters import (
    ParameterSpec,
    is_secret,
    read_parameters,
    redact,
    secret_texts,
    validate,
)

from .conftest import NOTEBOOKS


def notebook(source: str) -> dict:
    return {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": source,
                       "outputs": [], "execution_count": None}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_reads_typed_commented_parameters():
    specs = read_parameters(NOTEBOOKS / "overview.ipynb")
    assert list(specs) == ["start", "end", "region", "top_n", "show_detail", "segments", "db_url"]
    assert specs["start"] == ParameterSpec("start", "str", "2025-01-01", "inclusive", False, "str",
                                           '"2025-01-01"')
    assert specs["start"].is_date and specs["end"].is_date and not specs["region"].is_date
    assert (specs["top_n"].type, specs["top_n"].default) == ("int", 3)
    assert (specs["show_detail"].type, specs["show_detail"].default) == ("bool", True)
    assert (specs["segments"].type, specs["segments"].default) == ("list", ["smb", "enterprise"])
    assert specs["region"].comment == "filter: one region, empty for all"


def test_annotations_and_untyped_defaults():
    specs = read_parameters(notebook(
        "from datetime import date\n"
        "as_of: date = date(2025, 3, 31)  # snapshot day\n"
        "ids: list[int] = [1, 2]\n"
        "limit: int | None = None\n"
        "rate = 0.5  # no annotation\n"
        "label = 'x'\n"))
    assert specs["as_of"].type == "date" and specs["as_of"].default == dt.date(2025, 3, 31)
    assert specs["as_of"].comment == "snapshot day"
    assert (specs["ids"].type, specs["ids"].item_type) == ("list", "int")
    assert specs["limit"].optional and specs["limit"].type == "int"
    assert (specs["rate"].type, specs["rate"].default) == ("float", 0.5)
    assert specs["label"].type == "str"


def test_no_parameters_cell_declares_none():
    assert read_parameters({"cells": [], "metadata": {}}) == {}


def test_unsupported_annotation_names_the_parameter():
    with pytest.raises(ParameterError, match=r"'when' is annotated 'datetime'.*str, int, float, bool, date, list"):
        read_parameters(notebook("when: datetime = None\n"))


def test_validate_converts_cli_strings():
    specs = read_parameters(NOTEBOOKS / "overview.ipynb")
    typed = validate(specs, {"start": "2025-02-01", "top_n": "5", "show_detail": "no",
                             "segments": "smb, mid", "region": "East"})
    assert typed == {"start": dt.date(2025, 2, 1), "top_n": 5, "show_detail": False,
                     "segments": ["smb", "mid"], "region": "East"}


def test_validate_accepts_typed_values_and_json_lists():
    specs = read_parameters(notebook("ids: list[int] = [1]\nas_of: date = '2025-01-01'\nok: bool = True\n"))
    assert validate(specs, {"ids": "[3, 4]", "as_of": dt.date(2025, 5, 1), "ok": False}) == \
        {"ids": [3, 4], "as_of": dt.date(2025, 5, 1), "ok": False}


def test_unknown_parameter_lists_the_valid_ones():
    specs = read_parameters(NOTEBOOKS / "overview.ipynb")
    with pytest.raises(ParameterError) as err:
        validate(specs, {"regoin": "East"}, report="overview")
    message = str(err.value)
    assert "unknown parameter 'regoin' of report 'overview'" in message
    for name in specs:
        assert name in message
    assert 'start: date = "2025-01-01"  # inclusive' in message


@pytest.mark.parametrize("value", ["2025-13-01", "01/02/2025", "yesterday", ""])
def test_bad_date_says_the_format(value):
    specs = read_parameters(NOTEBOOKS / "overview.ipynb")
    with pytest.raises(ParameterError, match=r"parameter 'start'.*expected a date as YYYY-MM-DD"):
        validate(specs, {"start": value})


@pytest.mark.parametrize("name, value, expected", [
    ("top_n", "ten", "expected a whole number"),
    ("show_detail", "maybe", "expected true or false"),
])
def test_bad_values_name_parameter_and_expectation(name, value, expected):
    specs = read_parameters(NOTEBOOKS / "overview.ipynb")
    with pytest.raises(ParameterError, match=rf"parameter '{name}'.*{expected}"):
        validate(specs, {name: value})


def test_end_before_start_is_refused():
    specs = read_parameters(NOTEBOOKS / "overview.ipynb")
    with pytest.raises(ParameterError, match=r"end \(2024-12-31\) is before start \(2025-01-01\)"):
        validate(specs, {"end": "2024-12-31"})


def test_optional_accepts_none():
    specs = read_parameters(notebook("limit: int | None = None\n"))
    assert validate(specs, {"limit": "none"}) == {"limit": None}
    assert validate(specs, {"limit": "7"}) == {"limit": 7}


def test_secrets_by_name_and_by_url():
    assert is_secret("db_password", "x") and is_secret("api_token", "x") and is_secret("API_KEY", "x")
    assert is_secret("db_url", "postgresql://u:pw@h:5432/db")
    assert not is_secret("db_url", "postgresql://u@h/db") and not is_secret("region", "East")
    assert redact("db_url", "postgresql://u:s3cr%40t@h/db") == "postgresql://u:***@h/db"
    assert redact("db_password", "hunter2") == "***"
    assert redact("region", "East") == "East"
    assert secret_texts("db_url", "postgresql://u:s3cr%40t@h/db")[:1] == ["postgresql://u:s3cr%40t@h/db"]
    assert {"s3cr%40t", "s3cr@t"} <= set(secret_texts("db_url", "postgresql://u:s3cr%40t@h/db"))
