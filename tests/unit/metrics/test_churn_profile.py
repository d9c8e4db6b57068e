"""Who / when / why churns (analytics.metrics.churn_profile), checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.filters import RetentionFilter
from analytics.metrics.churn_profile import (
    BY_GROUP_COLUMNS,
    REASON_COLUMNS,
    REASON_TREND_COLUMNS,
    TENURE_COLUMNS,
    churn_by_dimension,
    churn_by_dimensions,
    churn_reasons,
    churn_reasons_by_month,
    tenure_at_churn,
)
from tests.unit.metrics.conftest import d

Q1 = RetentionFilter(d("2024-01-01"), d("2024-03-31"))
CUSTOMERS = [
    # tenure at Jan 1 (whole months) / tenure at churn
    dict(customer_id=1, signup_date=d("2023-01-01"), churn_date=d("2024-01-11"), churn_reason="price"),  # 12 / 12
    dict(customer_id=2, signup_date=d("2023-11-01"), churn_date=d("2024-02-21"), churn_reason="service",
         segment="enterprise"),  # 2 / 3
    dict(customer_id=3, signup_date=d("2023-06-01")),  # 7, stays
    dict(customer_id=4, signup_date=d("2024-01-05"), churn_date=d("2024-01-21")),  # new; reason unknown; 0 at churn
    dict(customer_id=5, signup_date=d("2021-01-01"), churn_date=d("2024-03-31"), churn_reason="price"),  # 36 / 38
    dict(customer_id=6, signup_date=d("2023-12-31"), churn_date=d("2024-04-02"), churn_reason="moving"),  # 0, leaves after Q1
    dict(customer_id=7, signup_date=d("2022-01-01"), churn_date=d("2023-12-31"), churn_reason="price"),  # gone before Q1
]


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS])


def test_churn_by_segment(db):
    df = churn_by_dimension(db, Q1, "segment")
    assert list(df.columns) == list(BY_GROUP_COLUMNS)
    # Active at the start: consumer 1, 3, 5, 6 (4 is new, 7 gone) and enterprise 2.
    # Churned in Q1 among them: consumer 1, 5 -> 2/4; enterprise 2 -> 1/1.
    assert df[["group", "active_start", "churned"]].values.tolist() == [["consumer", 4, 2], ["enterprise", 1, 1]]
    assert df["churn_rate"].tolist() == pytest.approx([0.5, 1.0])
    assert df["share_of_churned"].tolist() == pytest.approx([2 / 3, 1 / 3])


def test_churn_by_tenure_band(db):
    df = churn_by_dimension(db, Q1, "tenure_band")
    # Whole months at Jan 1: c2 2 and c6 0 -> 0-3 (c2 churns); c3 7 -> 6-12;
    # c1 12 (Jan 1 2023 + 12 months = Jan 1 2024) -> 12-24, churns; c5 36 -> 24+, churns.
    assert df[["group", "active_start", "churned"]].values.tolist() == [
        ["0-3 months", 2, 1], ["6-12 months", 1, 0], ["12-24 months", 1, 1], ["24+ months", 1, 1],
    ]


def test_tenure_at_churn(db):
    df = tenure_at_churn(db, Q1)
    assert list(df.columns) == list(TENURE_COLUMNS)
    # Churned in Q1: c4 after 0 months, c2 after 3, c1 after 12, c5 after 38.
    assert df["churned"].tolist() == [1, 1, 0, 1, 1]
    assert df["share"].tolist() == pytest.approx([0.25, 0.25, 0.0, 0.25, 0.25])


def test_reasons(db):
    df = churn_reasons(db, Q1)
    assert list(df.columns) == list(REASON_COLUMNS)
    # Churned in Q1: price (1, 5), service (2), unknown (4: NULL reason).
    assert df[["reason", "churned"]].values.tolist() == [["price", 2], ["service", 1], ["unknown", 1]]
    assert df["share"].tolist() == pytest.approx([0.5, 0.25, 0.25])
    trend = churn_reasons_by_month(db, Q1)
    assert list(trend.columns) == list(REASON_TREND_COLUMNS)
    got = [(m.strftime("%m"), r, n, s) for m, r, n, s in trend.itertuples(index=False)]
    # Jan: c1 price, c4 unknown (1/2 each); Feb: c2 service; Mar: c5 price.
    assert got == [("01", "price", 1, 0.5), ("01", "unknown", 1, 0.5), ("02", "service", 1, 1.0), ("03", "price", 1, 1.0)]


def test_segment_filter(db):
    flt = RetentionFilter(Q1.start, Q1.end, segments=("enterprise",))
    assert churn_reasons(db, flt)[["reason", "churned"]].values.tolist() == [["service", 1]]
    assert churn_by_dimension(db, flt, "plan")[["group", "active_start", "churned"]].values.tolist() == [
        ["standard", 1, 1]
    ]


def test_empty_selection(db):
    flt = RetentionFilter(Q1.start, Q1.end, segments=("none",))
    for df, cols in (
        (churn_by_dimension(db, flt, "segment"), BY_GROUP_COLUMNS),
        (tenure_at_churn(db, flt), TENURE_COLUMNS),
        (churn_reasons(db, flt), REASON_COLUMNS),
        (churn_reasons_by_month(db, flt), REASON_TREND_COLUMNS),
    ):
        assert df.empty and list(df.columns) == list(cols)
    with pytest.raises(ValueError, match="split by"):
        churn_by_dimension(db, Q1, "email")


def test_several_dimensions_at_once_equal_each_alone(db, sample_db):
    """The Overview's movers ask for four dimensions in one query: each dimension's rows
    must be exactly what its own call returns (hand-checked above), on the tiny file and
    on the sample, with and without a population filter."""
    dims = ("segment", "region", "plan", "contract_type", "tenure_band")
    last_year = RetentionFilter(d("2025-10-01"), d("2026-09-30"))
    for database, flt in ((db, Q1), (db, RetentionFilter(Q1.start, Q1.end, segments=("enterprise",))),
                          (sample_db, last_year), (sample_db, RetentionFilter(last_year.start, last_year.end,
                                                                                regions=("north",), plans=("basic",)))):
        together = churn_by_dimensions(database, flt, dims)
        alone = [churn_by_dimension(database, flt, by) for by in dims]
        expected = pd.concat([f for f in alone if not f.empty], ignore_index=True)
        pd.testing.assert_frame_equal(together, expected)
    empty = churn_by_dimensions(db, RetentionFilter(Q1.start, Q1.end, segments=("none",)), dims)
    assert empty.empty and list(empty.columns) == list(BY_GROUP_COLUMNS)
    with pytest.raises(ValueError, match="split by"):
        churn_by_dimensions(db, Q1, ("segment", "email"))
