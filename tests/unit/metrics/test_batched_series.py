"""The Overview's quarterly series computed in one query each must equal the one-period
functions they batch (themselves checked by hand in test_value.py and test_funnel.py):
`average_clv_at` against `clv_pareto` at each date, `saved_customers_by_period` against
`saved_customers` for each period — on the session sample, with and without filters."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.filters import RetentionFilter
from analytics.metrics import average_clv_at, clv_pareto, saved_customers, saved_customers_by_period

AS_OF = date(2026, 9, 30)
FILTERS = [
    RetentionFilter(date(2025, 10, 1), AS_OF),
    RetentionFilter(date(2025, 10, 1), AS_OF, segments=("consumer",), regions=("north", "center"),
                    channels=("phone",)),
    RetentionFilter(date(2025, 10, 1), AS_OF, segments=("enterprise",), regions=("north",), plans=("basic",)),
]
DATES = [date(2024, 2, 15), date(2025, 12, 31), date(2026, 6, 30), AS_OF]
PERIODS = [(date(2025, 10, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 3, 31)),
           (date(2026, 7, 1), AS_OF), (date(2026, 4, 1), date(2026, 5, 12)), (date(2026, 1, 1), date(2026, 3, 31))]


@pytest.mark.parametrize("flt", FILTERS, ids=["all", "consumer-north-centre-phone", "small-group"])
def test_average_clv_at_equals_clv_pareto_per_date(sample_db, flt):
    series = average_clv_at(sample_db, flt, DATES)
    assert series["as_of"].dt.date.tolist() == DATES
    for row, day in zip(series.itertuples(), DATES):
        one = clv_pareto(sample_db, flt.with_period(day, day))
        assert row.customers == one.customers
        assert row.total_clv == pytest.approx(one.total_clv, rel=1e-9, abs=1e-6)
        if one.customers:
            assert row.average_clv == pytest.approx(one.total_clv / one.customers, rel=1e-9)


@pytest.mark.parametrize("flt", FILTERS, ids=["all", "consumer-north-centre-phone", "small-group"])
def test_saved_customers_by_period_equals_saved_customers(sample_db, flt):
    series = saved_customers_by_period(sample_db, flt, PERIODS)
    unique = list(dict.fromkeys(PERIODS))  # the repeated period is answered once
    assert list(zip(series["start"].dt.date, series["end"].dt.date)) == unique
    expected = [saved_customers(sample_db, flt.with_period(s, e)) for s, e in unique]
    assert series["saved"].tolist() == expected
    if flt == FILTERS[0]:
        assert sum(expected) > 0  # the comparison is not between zeros


def test_empty_inputs(sample_db):
    flt = FILTERS[0]
    assert average_clv_at(sample_db, flt, []).empty
    assert saved_customers_by_period(sample_db, flt, []).empty
    with pytest.raises(ValueError):
        saved_customers_by_period(sample_db, flt, [(date(2026, 2, 1), date(2026, 1, 1))])
    before_anyone = average_clv_at(sample_db, flt, [date(2000, 1, 1)])
    assert before_anyone["customers"].tolist() == [0] and before_anyone["average_clv"].isna().all()
