"""Contract, plan and segment categories come from the data, not the sample business's lists
(issue 13): an export's "Satellite" plan or "SMB" segment is a feature value, a trained model
keeps its categories, and scoring a value it never saw gives a score, not an error.

Before this change every value outside analytics/schema.py's PLANS / SEGMENTS / CONTRACT_TYPES
became NaN in the feature frame, so on a real export these features carried nothing.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from analytics.risk.drivers import GROUPS_BY_NAME
from analytics.risk.features import (
    FEATURES,
    NUMERIC_FEATURES,
    OTHER,
    categories_from_counts,
    conform_features,
    feature_categories,
    snapshot_features,
)
from analytics.risk.linear import LogisticRiskModel
from analytics.risk.model import ChurnRiskModel
from analytics.schema import CONTRACT_TYPES, PLANS, SEGMENTS
from analytics.score import score_snapshot

TRAIN_AS_OF, CALIB_AS_OF, SCORE_AS_OF = date(2024, 6, 30), date(2024, 7, 31), date(2024, 12, 31)
PLANS_ = ("Satellite", "Fiber optic", "DSL")
SEGMENTS_ = ("SMB", "Home")
CONTRACTS_ = ("Month-to-month", "One year")


def _export_customers(n: int = 90) -> list[dict]:
    """`n` customers signed up on 2023-01-01 with the export's own values; every third one
    churns on 2024-08-15 (within 90 days of both the training and the calibration snapshot,
    and before the scoring date)."""
    rows = []
    for i in range(n):
        churns = i % 3 == 0
        rows.append(dict(customer_id=i + 1, signup_date=date(2023, 1, 1), plan=PLANS_[i % 3],
                         segment=SEGMENTS_[(i // 3) % 2], contract_type=CONTRACTS_[(i // 2) % 2],
                         churn_date=date(2024, 8, 15) if churns else None, monthly_revenue=50.0,
                         margin_rate=0.5))
    return rows


def test_the_feature_frame_carries_the_exports_own_values(tiny_db):
    customers = _export_customers(6)
    customers[5]["plan"] = "  "  # blank: missing, not a category
    db = tiny_db(customers=customers)
    frame = snapshot_features(db, TRAIN_AS_OF).set_index("customer_id")
    assert list(frame["plan"].cat.categories) == ["DSL", "Fiber optic", "Satellite"]  # sorted
    assert list(frame["segment"].cat.categories) == ["Home", "SMB"]
    assert list(frame["contract_type"].cat.categories) == ["Month-to-month", "One year"]
    assert frame["plan"].astype(object).to_dict() == {1: "Satellite", 2: "Fiber optic", 3: "DSL",
                                                      4: "Satellite", 5: "Fiber optic", 6: np.nan}
    assert frame["segment"].astype(object).tolist() == ["SMB", "SMB", "SMB", "Home", "Home", "Home"]
    assert frame["contract_type"].notna().all()


def test_categories_read_once_are_the_same_for_every_snapshot(tiny_db):
    db = tiny_db(customers=_export_customers(9))
    categories = feature_categories(db)
    assert categories == {"contract_type": ("Month-to-month", "One year"),
                          "plan": ("DSL", "Fiber optic", "Satellite"), "segment": ("Home", "SMB")}
    # every Satellite customer (1, 4, 7) churned on 2024-08-15: a later snapshot has none,
    # and still the same categories (stacked snapshots and a model see one set)
    late = snapshot_features(db, date(2024, 9, 30), categories=categories)
    assert set(late["plan"].astype(object)) == {"Fiber optic", "DSL"}
    assert list(late["plan"].cat.categories) == ["DSL", "Fiber optic", "Satellite"]


def test_many_categories_keep_the_most_frequent_and_group_the_rest_as_other():
    counts = pd.DataFrame({"feature": ["plan"] * 4 + ["segment", "contract_type"],
                           "value": ["b", "a", "c", "d", "SMB", "x"],
                           "customers": [5, 2, 2, 1, 3, 3]})
    # plan, top 2: b (5), then a and c tie at 2 -> a by sort order; c and d become "other"
    cats = categories_from_counts(counts, max_categories=2)
    assert cats == {"plan": ("a", "b", OTHER), "segment": ("SMB",), "contract_type": ("x",)}
    df = pd.DataFrame({"customer_id": [1, 2, 3, 4], "contract_type": ["x", "x", "y", None],
                       "plan": ["a", "c", "z", None], "segment": ["SMB"] * 4, "churned_90d": [0] * 4})
    for name in NUMERIC_FEATURES:
        df[name] = 0.0
    out = conform_features(df, date(2024, 1, 31), cats)
    # capped plan: an unlisted value (c, or z never seen) -> "other"; uncapped contract: unseen y -> missing
    assert out["plan"].astype(object).tolist() == ["a", OTHER, OTHER, np.nan]
    assert out["contract_type"].astype(object).tolist() == ["x", "x", np.nan, np.nan]


@pytest.mark.parametrize("model_class", [ChurnRiskModel, LogisticRiskModel])
def test_a_model_scores_a_plan_it_never_saw(tiny_db, model_class):
    db = tiny_db(customers=_export_customers())
    categories = feature_categories(db)
    train = snapshot_features(db, TRAIN_AS_OF, categories=categories)
    calib = snapshot_features(db, CALIB_AS_OF, categories=categories)
    assert train["churned_90d"].sum() == 30 and calib["churned_90d"].sum() == 30
    # (no revenue or surveys in this file: their all-missing columns are left out, as the
    # trainer does, `dropped_feature_groups`)
    features = tuple(c for c in FEATURES if train[c].notna().any())
    model = model_class(random_state=1, features=features).fit(train, calib)
    assert model.categories_ == categories

    # the file is re-imported: customer 2 moved to a "Cable" plan, customer 5 to segment "Student"
    # (neither in the training data); the churners are gone by the scoring date
    customers = _export_customers()
    customers[1]["plan"], customers[4]["segment"] = "Cable", "Student"
    again = tiny_db(customers=customers)
    scores = score_snapshot(again, model, SCORE_AS_OF, "test", datetime(2025, 1, 1))
    assert len(scores) == 60
    assert scores["churn_probability"].between(0, 1).all()
    drivers = " | ".join(scores[["driver_1", "driver_2", "driver_3"]].fillna("").astype(str).stack())
    assert "nan" not in drivers  # an unknown value is never rendered as "nan plan"

    # the scoring frame uses the model's categories: "Cable" is unknown (missing) to it
    frame = snapshot_features(again, SCORE_AS_OF, categories=model.categories_).set_index("customer_id")
    assert list(frame["plan"].cat.categories) == ["DSL", "Fiber optic", "Satellite"]
    assert pd.isna(frame.loc[2, "plan"]) and pd.isna(frame.loc[5, "segment"])

    # a model object without `categories_` (made before they were kept) scores with the data's
    del model.categories_
    assert len(score_snapshot(again, model, SCORE_AS_OF, "test", datetime(2025, 1, 1))) == 60


def test_drivers_say_the_exports_values_as_they_are_and_missing_as_unknown():
    plan, segment, contract = (GROUPS_BY_NAME[g].describe for g in ("plan", "segment", "contract"))
    assert plan({"plan": "Satellite"}) == "Satellite plan"
    assert plan({"plan": np.nan}) == "plan unknown"
    assert segment({"segment": "small_business"}) == "small-business customer"
    assert segment({"segment": "SMB"}) == "SMB segment"
    assert segment({"segment": None}) == "segment unknown"
    assert contract({"contract_type": "two_year"}) == "two-year contract"
    assert contract({"contract_type": "One year"}) == "One year contract"
    assert contract({"contract_type": np.nan}) == "contract type unknown"


def test_the_sample_gets_its_own_values_sorted(sample_db):
    assert feature_categories(sample_db) == {"contract_type": tuple(sorted(CONTRACT_TYPES)),
                                             "plan": tuple(sorted(PLANS)), "segment": tuple(sorted(SEGMENTS))}
