"""Every metric whose queries are kept per filter shape (analytics/plans.py) answers, on
the scored sample, exactly as when each query is built from the real filter — for the
filter shapes the pages use, with and without the rollups — and no kept plan had a
placeholder escape (which would silently mean building on every call)."""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import asdict, replace
from datetime import date, timedelta

import pandas as pd
import pytest

from analytics import plans, rollups
from analytics.at_risk import margin_at_risk, margin_at_risk_trend
from analytics.filters import RetentionFilter
from analytics.metrics import churn_profile, customer_base, funnel, note_signals, revenue, service, value


def _metrics(as_of: date) -> dict:
    quarters = ((date(as_of.year, 1, 1), date(as_of.year, 3, 31)), (date(as_of.year, 4, 1), as_of))
    return {
        "churn_by_period": lambda db, f: customer_base.churn_by_period(db, f, "month"),
        "churn_summary": customer_base.churn_summary,
        "active_customers": customer_base.active_customers,
        "revenue_retention month": lambda db, f: revenue.revenue_retention(db, f, "month"),
        "revenue_retention range": lambda db, f: revenue.revenue_retention(db, f, "range"),
        "churn_by_dimensions": lambda db, f: churn_profile.churn_by_dimensions(
            db, f, ("segment", "region", "plan", "tenure_band")),
        "tenure_at_churn": churn_profile.tenure_at_churn,
        "churn_reasons": churn_profile.churn_reasons,
        "churn_reasons_by_month": churn_profile.churn_reasons_by_month,
        "average_clv_at": lambda db, f: value.average_clv_at(db, f, (as_of - timedelta(days=90), as_of)),
        "retention_funnel_summaries": funnel.retention_funnel_summaries,
        "retention_funnel_summary by agent": lambda db, f: funnel.retention_funnel_summary(db, f, "agent"),
        "saved_customers": funnel.saved_customers,
        "saved_customers_by_period": lambda db, f: funnel.saved_customers_by_period(db, f, quarters),
        "margin_at_risk": margin_at_risk,
        "margin_at_risk_trend": margin_at_risk_trend,
        "first_contact_resolution": service.first_contact_resolution,
        "repeat_contact_rate": service.repeat_contact_rate,
        "service_levels": service.service_levels,
        "satisfaction_trend": service.satisfaction_trend,
        "churn_by_service_histories": service.churn_by_service_histories,
        "note_signal_summary": note_signals.note_signal_summary,
        "note_signal_trend": note_signals.note_signal_trend,
        "note_signal_examples": note_signals.note_signal_examples,
    }


def _filters(as_of: date) -> list[RetentionFilter]:
    base = RetentionFilter(start=as_of - timedelta(days=364), end=as_of)
    return [base, replace(base, segments=("consumer",)), replace(base, segments=("small_business",)),
            replace(base, segments=("consumer", "enterprise")), replace(base, regions=("north",), plans=("basic",)),
            replace(base, channels=("phone",)), replace(base, channels=("chat", "email")),
            replace(base, segments=("nobody",))]


def _assert_same(kept, fresh, label: str) -> None:
    if isinstance(kept, pd.DataFrame):
        pd.testing.assert_frame_equal(kept, fresh, check_exact=False, rtol=1e-9, obj=label)
    elif hasattr(kept, "__dataclass_fields__"):
        a, b = asdict(kept), asdict(fresh)
        assert a.keys() == b.keys(), label
        for key in a:
            _assert_same(a[key], b[key], f"{label}.{key}")
    elif isinstance(kept, float):
        assert math.isclose(kept, fresh, rel_tol=1e-9) or (math.isnan(kept) and math.isnan(fresh)), label
    else:
        assert kept == fresh, label


@pytest.mark.parametrize("with_rollups", [True, False], ids=["rollups", "live"])
def test_kept_plans_answer_as_fresh_builds(scored_db, with_rollups) -> None:
    as_of = date.fromisoformat(scored_db.schema_info()["as_of_date"])
    cache = plans.plan_cache(scored_db)
    hits = cache.hits
    with nullcontext() if with_rollups else rollups.disabled():
        for name, metric in _metrics(as_of).items():
            for flt in _filters(as_of):
                kept = metric(scored_db, flt)
                with plans.building_every_call():
                    fresh = metric(scored_db, flt)
                _assert_same(kept, fresh, f"{name} {flt}")
    assert cache.hits > hits  # second values of a shape reused kept plans
    escaped = [key[0].__qualname__ for key in cache.keys() if cache.get(key)[1] is None]
    assert escaped == []

