"""Customer counts and logo churn (analytics.metrics.customer_base), checked by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.filters import RetentionFilter
from analytics.metrics.customer_base import (
    CHURN_COLUMNS,
    active_customers,
    churn_by_period,
    churn_summary,
)
from tests.unit.metrics.conftest import d, open_built

# The base fixture, one line per customer and what it exercises (Q1 2024 reporting):
CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2023-06-01")),  # active throughout
    dict(customer_id=2, signup_date=d("2023-06-01"), churn_date=d("2024-01-01")),  # leaves on Jan 1: Jan churn
    dict(customer_id=3, signup_date=d("2023-12-31"), churn_date=d("2024-02-29"), segment="enterprise"),
    dict(customer_id=4, signup_date=d("2024-01-15"), churn_date=d("2024-01-20")),  # new and gone in Jan
    dict(customer_id=5, signup_date=d("2024-02-01"), segment="enterprise"),  # new in Feb
    dict(customer_id=6, signup_date=d("2024-03-31"), churn_date=d("2024-04-05")),  # new on Mar 31
    dict(customer_id=7, signup_date=d("2024-02-10"), churn_date=d("2024-02-01")),  # churn before signup: ignored
    dict(customer_id=8, signup_date=d("2023-01-01"), churn_date=d("2023-12-31")),  # gone before the range
    dict(customer_id=9, signup_date=d("2024-04-01")),  # signs up after the range
]
Q1 = RetentionFilter(d("2024-01-01"), d("2024-03-31"))


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS])


def test_monthly_counts_and_rates(db):
    df = churn_by_period(db, Q1, "month")
    assert list(df.columns) == list(CHURN_COLUMNS)
    assert list(df["period"]) == ["2024-01", "2024-02", "2024-03"]
    # Jan: active at the start of Jan 1 = signed up before it and not gone before it:
    #   1, 2 (leaves on Jan 1, so it churns *in* January), 3 -> 3.  8 left on Dec 31.
    #   new: 4.  churned: 2, 4.  churned of the starting 3: just 2.  end (active Jan 31): 1, 3.
    #   3 + 1 - 2 = 2; churn rate 1/3.
    # Feb: start 1, 3; new 5 (7 is inconsistent and left out); churned 3 (Feb 29); end 1, 5.
    #   2 + 1 - 1 = 2; rate 1/2.
    # Mar: start 1, 5; new 6 (Mar 31); nobody churns; end 1, 5, 6; rate 0.
    assert list(df["active_start"]) == [3, 2, 2]
    assert list(df["new"]) == [1, 1, 1]
    assert list(df["churned"]) == [2, 1, 0]
    assert list(df["churned_from_start"]) == [1, 1, 0]
    assert list(df["active_end"]) == [2, 2, 3]
    assert df["churn_rate"].tolist() == pytest.approx([1 / 3, 1 / 2, 0.0])
    assert df["retention_rate"].tolist() == pytest.approx([2 / 3, 1 / 2, 1.0])
    assert not df["partial"].any()
    assert df["period_start"].iloc[1] == pd.Timestamp("2024-02-01")
    assert df["period_end"].iloc[1] == pd.Timestamp("2024-02-29")


def test_quarter_and_custom_range_are_not_the_mean_of_months(db):
    q = churn_by_period(db, Q1, "quarter")
    # Q1: start 1, 2, 3 (= 3); new 4, 5, 6; churned 2, 3, 4; of the starting three 2 and 3
    # left -> 2/3 (the monthly rates 1/3, 1/2, 0 do not average to it); end 1, 5, 6.
    assert q[["period", "active_start", "new", "churned", "churned_from_start", "active_end"]].values.tolist() == [
        ["2024Q1", 3, 3, 3, 2, 3]
    ]
    assert q["churn_rate"].iloc[0] == pytest.approx(2 / 3)
    s = churn_summary(db, Q1)
    assert len(s) == 1 and s["period"].iloc[0] == "2024-01-01..2024-03-31"
    assert s["churn_rate"].iloc[0] == pytest.approx(2 / 3)


def test_partial_periods_are_clipped_and_flagged(db):
    flt = RetentionFilter(d("2024-01-15"), d("2024-03-10"))
    df = churn_by_period(db, flt, "month")
    assert df["partial"].tolist() == [True, False, True]
    assert df["period_start"].iloc[0] == pd.Timestamp("2024-01-15")
    assert df["period_end"].iloc[2] == pd.Timestamp("2024-03-10")
    # Jan 15-31: active at the start of Jan 15 = 1, 3 (2 left Jan 1); new 4 (Jan 15);
    # churned 4; none of the starting two left -> rate 0; end 1, 3.
    assert df.iloc[0][["active_start", "new", "churned", "churned_from_start", "active_end"]].tolist() == [
        2, 1, 1, 0, 2,
    ]


def test_segment_filter_changes_the_numbers(db):
    flt = RetentionFilter(Q1.start, Q1.end, segments=("enterprise",))
    df = churn_by_period(db, flt, "month")
    # Enterprise = customers 3 and 5. Jan: start 3, end 3. Feb: start 3, new 5, 3 churns
    # (rate 1/1), end 5. Mar: start 5, end 5.
    assert list(df["active_start"]) == [1, 1, 1]
    assert list(df["new"]) == [0, 1, 0]
    assert list(df["churned_from_start"]) == [0, 1, 0]
    assert df["churn_rate"].tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_active_customers_on_the_as_of_date(db):
    # Active on Mar 31: 1, 5, 6 (6 signed up that day; 3 left Feb 29).
    assert active_customers(db, Q1) == 3
    assert active_customers(db, RetentionFilter(Q1.start, Q1.end, segments=("enterprise",))) == 1


def test_empty_selection_gives_empty_frame_with_columns(db):
    flt = RetentionFilter(Q1.start, Q1.end, regions=("nowhere",))
    for freq in ("month", "quarter", "range"):
        df = churn_by_period(db, flt, freq)
        assert df.empty and list(df.columns) == list(CHURN_COLUMNS)
    assert active_customers(db, flt) == 0


def test_period_without_anyone_has_nan_rate(make_db):
    db = make_db(customers=[dict(customer_id=1, signup_date=d("2024-02-15"))])
    df = churn_by_period(db, Q1, "month")
    # Jan: nobody at the start -> NaN, not an error; Feb: 1 new; Mar: 1 at the start.
    assert pd.isna(df["churn_rate"].iloc[0])
    assert list(df["active_start"]) == [0, 0, 1]


def test_unknown_freq_is_rejected(db):
    with pytest.raises(ValueError, match="freq"):
        churn_by_period(db, Q1, "week")


# --- properties: the counts follow from the active-on-day rule -------------------------

def _active_on(c: dict, day: date) -> bool:
    return c["signup_date"] <= day and (c.get("churn_date") is None or c["churn_date"] > day)


customer_rows = st.lists(
    st.tuples(
        st.integers(0, 300),  # signup, days after 2023-10-01
        st.one_of(st.none(), st.integers(0, 200)),  # days from signup to churn
        st.sampled_from(["consumer", "enterprise"]),
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=customer_rows,
    start_offset=st.integers(0, 200),
    length=st.integers(0, 150),
    freq=st.sampled_from(["month", "quarter", "range"]),
)
def test_counts_match_the_day_rule(tmp_path_factory, rows, start_offset, length, freq):
    origin = date(2023, 10, 1)
    custs = []
    for i, (s, churn, seg) in enumerate(rows, start=1):
        row = dict(customer_id=i, signup_date=origin + timedelta(days=s), segment=seg)
        if churn is not None:
            row["churn_date"] = row["signup_date"] + timedelta(days=churn)
        custs.append(row)
    start = origin + timedelta(days=start_offset)
    flt = RetentionFilter(start, start + timedelta(days=length))
    db = open_built(tmp_path_factory.mktemp("cb"), customers=[dict(c) for c in custs])
    try:
        df = churn_by_period(db, flt, freq)
    finally:
        db.close()
    if df.empty:
        return
    for row in df.itertuples():
        s, e = row.period_start.date(), row.period_end.date()
        before = s - timedelta(days=1)
        expect_start = sum(_active_on(c, before) for c in custs)
        expect_new = sum(s <= c["signup_date"] <= e for c in custs)
        expect_churned = sum(c.get("churn_date") is not None and s <= c["churn_date"] <= e for c in custs)
        expect_from_start = sum(
            _active_on(c, before) and c.get("churn_date") is not None and c["churn_date"] <= e for c in custs
        )
        expect_end = sum(_active_on(c, e) for c in custs)
        assert (row.active_start, row.new, row.churned, row.churned_from_start, row.active_end) == (
            expect_start, expect_new, expect_churned, expect_from_start, expect_end,
        )
        assert row.active_start + row.new - row.churned == row.active_end
        if row.active_start:
            assert 0.0 <= row.churn_rate <= 1.0
            assert row.churn_rate + row.retention_rate == pytest.approx(1.0)
    # the closing count of one period is the opening count of the next
    assert df["active_end"].iloc[:-1].tolist() == df["active_start"].iloc[1:].tolist()
