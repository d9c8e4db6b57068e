"""Predicted CLV quantiles from `churn_scores`, on a tiny hand-built database.

Scores on 2024-12-31 (consumer customers 1–3, enterprise customer 4):

| customer | clv_historical | clv_predicted |
|---|---|---|
| 1 | 100 | 300 |
| 2 | 200 | 500 |
| 3 | 400 | 900 |
| 4 | 1000 | 5000 |

Continuous quantiles of the consumers' predicted CLV [300, 500, 900] (position q·(n−1)):
q10 = 300 + 0.2·200 = 340, q25 = 400, q50 = 500, q75 = 700, q90 = 500 + 0.8·400 = 820;
historical [100, 200, 400]: 120, 150, 200, 300, 360. An earlier scoring on 2024-11-30
holds customer 1 only (predicted 250).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.filters import RetentionFilter
from analytics.metrics.predicted_value import (
    PREDICTED_QUANTILE_COLUMNS,
    latest_scoring_date,
    predicted_clv_quantiles,
    predicted_clv_quantiles_by,
)
from analytics.metrics.value import split_groups
from analytics.schema import OPTIONAL_TABLES

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
CUSTOMERS = [
    {"customer_id": 1, "signup_date": date(2023, 1, 1)},
    {"customer_id": 2, "signup_date": date(2023, 1, 1)},
    {"customer_id": 3, "signup_date": date(2023, 1, 1), "region": "north"},
    {"customer_id": 4, "signup_date": date(2023, 1, 1), "segment": "enterprise"},
]


def score(customer_id: int, as_of: date, historical: float, predicted: float) -> dict:
    return {"customer_id": customer_id, "as_of_date": as_of, "clv_historical": historical,
            "clv_predicted": predicted, "churn_probability": 0.1}


@pytest.fixture
def scored_db(make_db):
    dec, nov = date(2024, 12, 31), date(2024, 11, 30)
    rows = [score(1, dec, 100, 300), score(2, dec, 200, 500), score(3, dec, 400, 900), score(4, dec, 1000, 5000),
            score(1, nov, 90, 250)]
    return make_db(customers=CUSTOMERS, extra_tables={"churn_scores": (OPTIONAL_TABLES["churn_scores"], rows)})


def test_quantiles_of_the_latest_scoring(scored_db):
    flt = RetentionFilter(date(2024, 1, 1), date(2024, 12, 31), segments=("consumer",))
    df = predicted_clv_quantiles(scored_db, flt, QUANTILES)
    assert list(df.columns) == list(PREDICTED_QUANTILE_COLUMNS)
    assert list(df["quantile"]) == list(QUANTILES)
    assert list(df["clv_predicted"]) == pytest.approx([340, 400, 500, 700, 820])
    assert list(df["clv_historical"]) == pytest.approx([120, 150, 200, 300, 360])
    assert (df["customers"] == 3).all()
    assert (df["scored_as_of"] == pd.Timestamp("2024-12-31")).all()


def test_by_segment_in_one_query_equals_each_segment_alone(scored_db):
    year = RetentionFilter(date(2024, 1, 1), date(2024, 12, 31))
    long = predicted_clv_quantiles_by(scored_db, year, "segment", QUANTILES)
    assert sorted(set(long["group"])) == ["consumer", "enterprise"]
    # consumer: customers 1-3 as above; enterprise: customer 4 alone (every quantile = its value)
    groups = split_groups(long, ["consumer", "enterprise", "small_business"], PREDICTED_QUANTILE_COLUMNS)
    assert list(groups["consumer"]["clv_predicted"]) == pytest.approx([340, 400, 500, 700, 820])
    assert list(groups["enterprise"]["clv_predicted"]) == pytest.approx([5000] * 5)
    assert groups["small_business"].empty and list(groups["small_business"].columns) == list(PREDICTED_QUANTILE_COLUMNS)
    for segment in ("consumer", "enterprise"):
        alone = predicted_clv_quantiles(scored_db, RetentionFilter(year.start, year.end, segments=(segment,)),
                                        QUANTILES)
        pd.testing.assert_frame_equal(groups[segment], alone)
    by_region = split_groups(predicted_clv_quantiles_by(scored_db, year, "region", (0.5,)), ["north"],
                             PREDICTED_QUANTILE_COLUMNS)
    assert by_region["north"]["clv_predicted"].tolist() == [900]


def test_filters_pick_customers_and_the_scoring_date(scored_db):
    north = predicted_clv_quantiles(scored_db, RetentionFilter(date(2024, 1, 1), date(2024, 12, 31),
                                                               regions=("north",)), (0.5,))
    assert north["clv_predicted"].tolist() == [900] and north["customers"].tolist() == [1]
    # an as-of date between the scorings uses the earlier one
    mid_december = RetentionFilter(date(2024, 1, 1), date(2024, 12, 15))
    assert latest_scoring_date(scored_db, mid_december.as_of) == date(2024, 11, 30)
    earlier = predicted_clv_quantiles(scored_db, mid_december, (0.5,))
    assert earlier["clv_predicted"].tolist() == [250]
    assert earlier["scored_as_of"].tolist() == [pd.Timestamp("2024-11-30")]


def test_nothing_scored_gives_an_empty_frame(scored_db, make_db):
    before = RetentionFilter(date(2024, 1, 1), date(2024, 10, 31))
    assert latest_scoring_date(scored_db, before.as_of) is None
    assert predicted_clv_quantiles(scored_db, before).empty
    nobody = RetentionFilter(date(2024, 1, 1), date(2024, 12, 31), segments=("enterprise",), regions=("north",))
    df = predicted_clv_quantiles(scored_db, nobody)
    assert df.empty and list(df.columns) == list(PREDICTED_QUANTILE_COLUMNS)

    unscored = make_db(customers=CUSTOMERS)  # no churn_scores table at all
    df = predicted_clv_quantiles(unscored, RetentionFilter(date(2024, 1, 1), date(2024, 12, 31)))
    assert df.empty and list(df.columns) == list(PREDICTED_QUANTILE_COLUMNS)

    empty_table = make_db(customers=CUSTOMERS,
                          extra_tables={"churn_scores": (OPTIONAL_TABLES["churn_scores"], [])})
    assert predicted_clv_quantiles(empty_table, RetentionFilter(date(2024, 1, 1), date(2024, 12, 31))).empty


def test_quantiles_are_checked(scored_db):
    with pytest.raises(ValueError):
        predicted_clv_quantiles(scored_db, RetentionFilter(date(2024, 1, 1), date(2024, 12, 31)), (1.5,))
