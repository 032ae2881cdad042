"""Filters: normalisation, periods, parameters, and the one rule that applies them."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.exceptions import ParameterError
from crmkit.metrics import Filters, apply_filters, unapplied_filters
from crmkit.metrics.derived import execute

T = pd.Timestamp


def ids(table, column):
    return sorted(execute(table)[column])


# -- the object ------------------------------------------------------------------------
def test_values_are_normalised():
    f = Filters(start="2025-01-01 13:45", end=T("2025-03-31"), region=["East", "West"],
                segment="SMB", channel="", product=[], attributes={"contract": ["Annual"]})
    assert f.start == T("2025-01-01") and f.end == T("2025-03-31")
    assert f.region == ("East", "West") and f.segment == "SMB"
    assert f.channel is None and f.product is None
    assert f.attributes == {"contract": "Annual"}
    assert f.end_exclusive == T("2025-04-01") and f.days == 90
    assert hash(f) == hash(Filters.from_params(f.to_params()))


def test_bad_values_say_what_to_fix():
    with pytest.raises(ParameterError, match="`start` must be a date"):
        Filters(start="last tuesday")
    with pytest.raises(ParameterError, match="before it starts"):
        Filters(start="2025-02-01", end="2025-01-01")
    with pytest.raises(ParameterError, match="set it as the `region` filter"):
        Filters(attributes={"region": "East"})


@pytest.mark.parametrize(("start", "end", "prev", "last_year"), [
    # whole quarter -> previous quarter, not the 90 days before
    ("2025-04-01", "2025-06-30", ("2025-01-01", "2025-03-31"), ("2024-04-01", "2024-06-30")),
    # a month -> the month before; leap February a year back
    ("2025-03-01", "2025-03-31", ("2025-02-01", "2025-02-28"), ("2024-03-01", "2024-03-31")),
    ("2025-02-01", "2025-02-28", ("2025-01-01", "2025-01-31"), ("2024-02-01", "2024-02-29")),
    # any other span -> the same number of days just before
    ("2025-01-10", "2025-01-16", ("2025-01-03", "2025-01-09"), ("2024-01-10", "2024-01-16")),
])
def test_previous_period_and_same_period_last_year(start, end, prev, last_year):
    f = Filters(start=start, end=end, region="East")
    before = f.previous_period()
    assert (before.start, before.end) == (T(prev[0]), T(prev[1]))
    assert before.region == "East"
    ly = f.same_period_last_year()
    assert (ly.start, ly.end) == (T(last_year[0]), T(last_year[1]))


def test_comparisons_need_a_closed_period():
    with pytest.raises(ParameterError, match="needs a period with both"):
        Filters(start="2025-01-01").previous_period()


def test_params_round_trip_and_describe():
    params = {"start": "2025-01-01", "end": "2025-03-31", "region": "East,West",
              "sales_rep": "", "attr_contract": "Annual", "title": "ignored",
              "attributes": '{"country": ["DE", "FR"]}'}
    f = Filters.from_params(params)
    assert f.region == ("East", "West") and f.sales_rep is None
    assert f.attributes == {"contract": "Annual", "country": ("DE", "FR")}
    assert f.to_params() == {"start": "2025-01-01", "end": "2025-03-31",
                             "region": ["East", "West"],
                             "attributes": {"contract": "Annual", "country": ["DE", "FR"]}}
    assert Filters.from_params(f.to_params()) == f
    assert f.describe() == ("1 Jan 2025 – 31 Mar 2025; region: East or West; "
                            "contract: Annual; country: DE or FR")
    assert Filters().describe() == "all data, no filters"
    assert Filters(start="2025-01-01").describe() == "from 1 Jan 2025"
    with pytest.raises(ParameterError, match="JSON object"):
        Filters.from_params({"attributes": "contract=Annual"})


# -- applying them ---------------------------------------------------------------------
def test_period_is_inclusive_of_the_whole_end_day(tiny_wh, q1):
    orders = apply_filters(tiny_wh, "orders", q1)
    # o7 is at 23:00 on 31 March (in), o8 on 1 April (out), o1 in December (out).
    assert ids(orders, "order_id") == ["o2", "o3", "o4", "o5", "o6", "o7", "o9"]


def test_each_table_uses_its_own_date(tiny_wh, q1):
    assert ids(apply_filters(tiny_wh, "leads", q1), "lead_id") == ["l2", "l3", "l5"]
    assert ids(apply_filters(tiny_wh, "tickets", q1), "ticket_id") == ["t1", "t2", "t3", "t5"]
    assert ids(apply_filters(tiny_wh, "surveys", q1), "response_id") == ["r1", "r2", "r3", "r4"]
    assert ids(apply_filters(tiny_wh, "campaigns", q1), "campaign_id") == ["k2"]
    # customers are the base, not cut by date; period=False leaves dates out anywhere
    assert len(execute(apply_filters(tiny_wh, "customers", q1))) == 5
    assert len(execute(apply_filters(tiny_wh, "orders", q1, period=False))) == 10


def test_a_filtered_table_is_built_once_per_filters(tiny_wh, q1):
    """The warehouse keeps filtered tables (ibis expressions are immutable): equal filters
    give the same expression, other filters or period=False another; clear_cache forgets."""
    orders = apply_filters(tiny_wh, "orders", q1)
    assert apply_filters(tiny_wh, "orders", Filters.from_params(q1.to_params())) is orders
    assert apply_filters(tiny_wh, "orders", q1, period=False) is not orders
    assert apply_filters(tiny_wh, "orders", Filters(region="East")) is not orders
    tiny_wh.clear_cache()
    again = apply_filters(tiny_wh, "orders", q1)
    assert again is not orders and again.equals(orders)


def test_first_purchases_are_kept_in_a_temporary_table(tiny_wh):
    """No filter changes each customer's first purchase: the warehouse computes it once
    into a temporary table, with the same rows as the query; clear_cache drops it."""
    from crmkit.metrics.derived import _first_purchases, first_purchases

    kept = first_purchases(tiny_wh)
    assert first_purchases(tiny_wh) is kept
    (name,) = [n for n in tiny_wh.con.list_tables() if n.startswith("crmkit_first_purchases")]
    # a grouping's rows come back in the order DuckDB's parallel hash aggregation finishes
    # them: compare the rows sorted by customer, not the position each came back at
    def rows(table):
        return execute(table).sort_values("customer_id").reset_index(drop=True)

    pd.testing.assert_frame_equal(rows(kept), rows(_first_purchases(tiny_wh)))
    tiny_wh.clear_cache()
    assert name not in tiny_wh.con.list_tables()
    assert first_purchases(tiny_wh) is not kept


def test_own_column_first_then_through_customers(tiny_wh):
    east = Filters(region="East")
    # orders.region (the sales region) is used, not the customer's region
    assert ids(apply_filters(tiny_wh, "orders", east), "order_id") == [
        "o1", "o10", "o2", "o5", "o6", "o7"]
    # tickets have no region: through customers c1, c3, c5
    assert ids(apply_filters(tiny_wh, "tickets", east), "ticket_id") == ["t1", "t3", "t5"]
    smb = Filters(segment="SMB")
    # orders reach segment through customers; the guest order o9 drops out
    assert ids(apply_filters(tiny_wh, "orders", smb), "order_id") == ["o1", "o2", "o3", "o4",
                                                                       "o7"]
    assert ids(apply_filters(tiny_wh, "leads", smb), "lead_id") == ["l1", "l5"]


def test_sales_rep_means_owner_on_leads_and_targets(tiny_wh):
    bob = Filters(sales_rep="Bob")
    assert ids(apply_filters(tiny_wh, "leads", bob), "lead_id") == ["l3", "l4", "l5"]
    assert ids(apply_filters(tiny_wh, "targets", bob), "owner") == ["Bob"]
    assert ids(apply_filters(tiny_wh, "orders", bob), "order_id") == ["o3", "o4", "o6", "o7",
                                                                       "o9"]


def test_attribute_filters_reach_any_table_with_customer_id(tiny_wh):
    annual = Filters(attributes={"contract": "Annual"})  # c1, c3
    assert ids(apply_filters(tiny_wh, "customers", annual), "customer_id") == ["c1", "c3"]
    assert ids(apply_filters(tiny_wh, "surveys", annual), "response_id") == ["r1", "r3", "r5"]
    assert ids(apply_filters(tiny_wh, "orders", Filters(attributes={"contract": ["Annual"]},
                                                        product="B")),
               "order_id") == ["o6", "o7"]


def test_filters_that_cannot_reach_a_table_are_named(tiny_wh, q1):
    f = Filters(start="2025-01-01", product="A", segment="SMB")
    assert unapplied_filters(tiny_wh, "tickets", f) == ["product"]
    assert unapplied_filters(tiny_wh, "campaigns", f) == ["segment", "product"]
    assert unapplied_filters(tiny_wh, "orders", f) == []
    # ... and they leave the table uncut
    assert len(execute(apply_filters(tiny_wh, "campaigns", Filters(segment="SMB")))) == 2
    # the channel filter is the sales channel: it does not cut ticket or campaign channels
    assert unapplied_filters(tiny_wh, "campaigns", Filters(channel="Email")) == ["channel"]
