"""Cohort retention triangles (analytics.metrics.cohorts), checked by hand."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.filters import RetentionFilter
from analytics.metrics.cohorts import COHORT_COLUMNS, cohort_retention
from tests.unit.metrics.conftest import d, open_built

AS_OF = d("2024-04-10")
FLT = RetentionFilter(d("2024-01-01"), AS_OF)
CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2024-01-31")),  # +1 month = Feb 29 (clamped)
    dict(customer_id=2, signup_date=d("2024-01-15"), churn_date=d("2024-03-15")),  # gone on its 2-month day
    dict(customer_id=3, signup_date=d("2024-01-10"), churn_date=d("2024-03-11")),  # still there on Mar 10
    dict(customer_id=4, signup_date=d("2024-02-01"), churn_date=d("2024-02-01")),  # leaves on signup day
    dict(customer_id=5, signup_date=d("2023-12-20")),  # cohort before the range
    dict(customer_id=6, signup_date=d("2024-02-20"), segment="enterprise"),
    dict(customer_id=7, signup_date=d("2024-01-20"), churn_date=d("2024-01-05")),  # inconsistent: left out
]
REVENUE = [
    dict(customer_id=c, month=d(m), mrr=v)
    for c, m, v in [
        (1, "2024-01-01", 10), (1, "2024-02-01", 20), (1, "2024-03-01", 20), (1, "2024-04-01", 20),
        (2, "2024-01-01", 30), (2, "2024-02-01", 30), (2, "2024-03-01", 30),
        (3, "2024-01-01", 10), (3, "2024-02-01", 10), (3, "2024-03-01", 10),
        (6, "2024-02-01", 50), (6, "2024-03-01", 50), (6, "2024-04-01", 60),
    ]
]


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS], monthly_revenue=REVENUE)


def _cells(df):
    return {
        (c.strftime("%Y-%m"), k): (b, r, comp)
        for c, k, b, r, comp in df[["cohort", "months_since_signup", "base", "retained", "complete"]].itertuples(index=False)
    }


def test_logo_cohorts(db):
    df = cohort_retention(db, FLT, "logo")
    assert list(df.columns) == list(COHORT_COLUMNS)
    cells = _cells(df)
    # January cohort = 1, 2, 3 (7 is inconsistent, 5 signed up in December).
    #  k=1: Feb 29 / Feb 15 / Feb 10 -> all active: 3 of 3.
    #  k=2: Mar 31 active / Mar 15 = c2's churn day, not active / Mar 10 active: 2 of 3.
    #  k=3: only c3 has reached it by Apr 10 (Apr 30 and Apr 15 are later) and it left: 0 of 1.
    assert cells[("2024-01", 0)] == (3, 3, True)
    assert cells[("2024-01", 1)] == (3, 3, True)
    assert cells[("2024-01", 2)] == (3, 2, True)
    assert cells[("2024-01", 3)] == (1, 0, False)
    # February cohort = 4, 6. Month 0 is 100% by construction (4 left on its signup day).
    #  k=1: Mar 1 (c4 gone) / Mar 20 (c6 active): 1 of 2.  k=2: only c4 (Apr 1) observable: 0 of 1.
    assert cells[("2024-02", 0)] == (2, 2, True)
    assert cells[("2024-02", 1)] == (2, 1, True)
    assert cells[("2024-02", 2)] == (1, 0, False)
    assert set(cells) == {("2024-01", k) for k in range(4)} | {("2024-02", k) for k in range(3)}
    assert (df.loc[df["months_since_signup"] == 0, "retention"] == 1.0).all()
    assert (df["cohort_customers"] == df["cohort"].map({df["cohort"].min(): 3, df["cohort"].max(): 2})).all()


def test_revenue_cohorts(db):
    df = cohort_retention(db, FLT, "revenue")
    got = {(c.strftime("%Y-%m"), k): r for c, k, r in df[["cohort", "months_since_signup", "retention"]].itertuples(index=False)}
    # January cohort MRR: month 0 = 10 + 30 + 10 = 50; Feb 20 + 30 + 10 = 60; Mar 60; Apr 20.
    assert [got[("2024-01", k)] for k in range(4)] == pytest.approx([1.0, 1.2, 1.2, 0.4])
    # February cohort: month 0 = 50 (c6; c4 never billed); Mar 50; Apr 60.
    assert [got[("2024-02", k)] for k in range(3)] == pytest.approx([1.0, 1.0, 1.2])


def test_segment_filter(db):
    flt = RetentionFilter(FLT.start, FLT.end, segments=("enterprise",))
    df = cohort_retention(db, flt, "logo")
    # Only c6 (Feb 20): k=0 and k=1 (Mar 20, active); Apr 20 is after the as-of date.
    assert _cells(df) == {("2024-02", 0): (1, 1, True), ("2024-02", 1): (1, 1, True)}


def test_empty_selection(db):
    flt = RetentionFilter(FLT.start, FLT.end, segments=("nobody",))
    for basis in ("logo", "revenue"):
        df = cohort_retention(db, flt, basis)
        assert df.empty and list(df.columns) == list(COHORT_COLUMNS)


def test_bad_basis(db):
    with pytest.raises(ValueError, match="basis"):
        cohort_retention(db, FLT, "logos")


def _plus_months(day: date, k: int) -> date:
    # Independent of the production helper: calendar arithmetic with the day clamped.
    y, m = divmod(day.month - 1 + k, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 180), st.one_of(st.none(), st.integers(0, 300))), min_size=1, max_size=20
    ),
    as_of_offset=st.integers(0, 120),
)
def test_logo_cohorts_match_the_definition(tmp_path_factory, rows, as_of_offset):
    origin = date(2023, 11, 1)
    custs = []
    for i, (s, churn) in enumerate(rows, start=1):
        row = dict(customer_id=i, signup_date=origin + timedelta(days=s))
        if churn is not None:
            row["churn_date"] = row["signup_date"] + timedelta(days=churn)
        custs.append(row)
    as_of = origin + timedelta(days=180 + as_of_offset)
    flt = RetentionFilter(origin, as_of)
    db = open_built(tmp_path_factory.mktemp("coh"), customers=[dict(c) for c in custs])
    try:
        df = cohort_retention(db, flt, "logo")
    finally:
        db.close()
    assert (df.loc[df["months_since_signup"] == 0, "retention"] == 1.0).all()
    assert df["retention"].between(0, 1).all()
    for cell in df.itertuples():
        members = [c for c in custs if c["signup_date"].replace(day=1) == cell.cohort.date()]
        k = cell.months_since_signup
        observed = [c for c in members if _plus_months(c["signup_date"], k) <= as_of]
        retained = [
            c for c in observed
            if k == 0 or c.get("churn_date") is None or c["churn_date"] > _plus_months(c["signup_date"], k)
        ]
        assert (cell.cohort_customers, cell.base, cell.retained) == (len(members), len(observed), len(retained))
        assert cell.complete == (len(observed) == len(members))
