"""The default report period: the last full calendar quarter the data covers."""

from datetime import date

import pytest

from crmkit.periods import audited_quarter, last_full_quarter


@pytest.mark.parametrize("last,expected", [
    (date(2025, 6, 30), (date(2025, 4, 1), date(2025, 6, 30))),   # ends on a quarter end
    (date(2025, 6, 29), (date(2025, 1, 1), date(2025, 3, 31))),   # one day short
    (date(2025, 1, 15), (date(2024, 10, 1), date(2024, 12, 31))),  # across a year
    (date(2024, 12, 31), (date(2024, 10, 1), date(2024, 12, 31))),
    (date(2025, 10, 1), (date(2025, 7, 1), date(2025, 9, 30))),
])
def test_last_full_quarter(last, expected):
    assert last_full_quarter(last) == expected


def test_audited_quarter_reads_the_order_date_range():
    audit = {"tables": {"orders": {"date_range": {"max": "2025-06-30T18:05:00"}}}}
    assert audited_quarter(audit) == (date(2025, 4, 1), date(2025, 6, 30))
    assert audited_quarter({}) is None
    assert audited_quarter({"tables": {"orders": {"date_range": {"max": None}}}}) is None
