"""analytics.roi on hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from analytics import roi


def test_programme_roi_by_hand():
    # 10 saved × ₪500 = 5,000 kept; 100 calls × ₪20 + 10 offers × ₪100 = 3,000 spent
    result = roi.programme_roi(saved_customers=10, value_per_saved=500, actions=100, cost_per_action=20,
                               offers=10, cost_per_offer=100)
    assert result.retained_value == 5_000
    assert result.programme_cost == 3_000
    assert result.net_benefit == 2_000
    assert result.roi == pytest.approx(2 / 3)


def test_programme_roi_without_cost_is_nan_not_an_error():
    result = roi.programme_roi(3, 100, 0, 20, 0, 100)
    assert result.net_benefit == 300
    assert math.isnan(result.roi)


def test_programme_roi_rejects_negative_inputs():
    with pytest.raises(ValueError, match="cost_per_action"):
        roi.programme_roi(1, 1, 1, -5, 1, 1)


def test_monthly_churn_rate_compounds_back():
    # 19% over two 30.4375-day months: 1 - sqrt(0.81) = 10% a month
    assert roi.monthly_churn_rate(0.19, 2 * roi.DAYS_PER_MONTH) == pytest.approx(0.10)
    # a year: 1 - 0.9 ** (1/12)
    assert roi.monthly_churn_rate(0.10, 365.25) == pytest.approx(1 - 0.9 ** (1 / 12))
    with pytest.raises(ValueError):
        roi.monthly_churn_rate(1.5, 30)
    with pytest.raises(ValueError):
        roi.monthly_churn_rate(0.1, 0)


def test_book_revenue_by_hand():
    assert roi.book_revenue(1_000, 0.10, 1) == pytest.approx(1_000)
    assert roi.book_revenue(1_000, 0.10, 3) == pytest.approx(1_000 + 900 + 810)
    assert roi.book_revenue(1_000, 0.0, 12) == 12_000
    assert roi.book_revenue(1_000, 1.0, 5) == pytest.approx(1_000)  # everyone leaves after month 1
    assert roi.book_revenue(1_000, 0.10, 0) == 0


def test_churn_reduction_whatif_by_hand():
    # 10% -> 5% a month on ₪1,000 MRR: 2 months 1,900 -> 1,950; 3 months 2,710 -> 2,852.5
    result = roi.churn_reduction_whatif(1_000, 0.10, 0.05, horizons=(2, 3))
    assert result.improved_churn == pytest.approx(0.05)
    two, three = result.horizons
    assert (two.months, two.baseline_revenue, two.improved_revenue) == (2, pytest.approx(1_900), pytest.approx(1_950))
    assert two.extra_revenue == pytest.approx(50)
    assert three.improved_revenue == pytest.approx(1_000 + 950 + 902.5)
    assert three.extra_revenue == pytest.approx(142.5)


def test_churn_cannot_be_cut_below_zero():
    result = roi.churn_reduction_whatif(100, 0.01, 0.05, horizons=(12,))
    assert result.improved_churn == 0
    assert result.horizons[0].improved_revenue == 1_200


def test_replace_or_keep_by_hand():
    # 100 lost; keeping one costs a ₪20 call + ₪30 offer = ₪50; observed CAC ₪300; 5× rule = ₪250
    result = roi.replace_or_keep(100, cost_per_action=20, cost_per_offer=30, observed_cac=300, multiple=5)
    assert result.keep_cost_per_customer == 50
    assert result.keep_cost == 5_000
    assert result.replace_at_observed_cac == 30_000
    assert result.replace_at_multiple == 25_000
    assert result.saving == 25_000  # against the observed CAC when known


def test_replace_or_keep_without_observed_cac_uses_the_multiple():
    result = roi.replace_or_keep(10, 20, 30, observed_cac=None, multiple=6)
    assert math.isnan(result.replace_at_observed_cac)
    assert result.replace_at_multiple == 10 * 6 * 50
    assert result.saving == 3_000 - 500


# --- the value of a saved customer: future value, not margin already earned (issue 14) ------
#
# Consumers 1-3 and enterprise customer 4, all signed up in 2023, margin rate 0.5. Each
# consumer was billed 2,000 a month through 2024, so their historical CLV is 12 × 2,000 ×
# 0.5 = 12,000 — the old default (average historical CLV) was 12,000. Scores of 2024-12-31:
#
# | customer | p90 | clv_historical | clv_predicted | clv_future          |
# |----------|-----|----------------|---------------|---------------------|
# | 1        | 0.6 | 12,000         | 12,200        | 200                 |
# | 2        | 0.3 | 12,000         | 12,300        | 300                 |
# | 3        | 0.1 | 12,000         | 12,500        | NULL (older row): 500 = predicted − historical |
# | 4 (ent.) | 0.1 | 1,000          | 5,000         | 4,000               |
#
# A saved customer is one we expected to lose, so each weighs by p: the consumers' value of
# a saved customer = (0.6·200 + 0.3·300 + 0.1·500) / (0.6 + 0.3 + 0.1) = 260 / 1.0 = 260
# (margin at risk ÷ expected leavers; the unweighted mean would be 333.33). All four:
# (260 + 0.1·4,000) / 1.1 = 600.

def _value_db(tmp_path, scores: bool):
    from datetime import date

    from analytics.db import open_database
    from analytics.schema import OPTIONAL_TABLES
    from tests.builders import build_database

    customers = [{"customer_id": i, "signup_date": date(2023, 1, 1), "margin_rate": 0.5,
                  "segment": "enterprise" if i == 4 else "consumer"} for i in (1, 2, 3, 4)]
    revenue = [{"customer_id": i, "month": date(2024, m, 1), "mrr": 2000.0} for i in (1, 2, 3) for m in range(1, 13)]
    rows = []
    for cid, p, hist, pred, future in ((1, 0.6, 12000.0, 12200.0, 200.0), (2, 0.3, 12000.0, 12300.0, 300.0),
                                       (3, 0.1, 12000.0, 12500.0, None), (4, 0.1, 1000.0, 5000.0, 4000.0)):
        rows.append({"customer_id": cid, "as_of_date": date(2024, 12, 31), "churn_probability": p,
                     "clv_historical": hist, "clv_predicted": pred, "clv_future": future})
    extra = {"churn_scores": (OPTIONAL_TABLES["churn_scores"], rows)} if scores else None
    return open_database(build_database(tmp_path / f"value-{scores}.duckdb", customers=customers,
                                        monthly_revenue=revenue, extra_tables=extra))


def test_value_of_a_saved_customer_is_the_average_future_value(tmp_path):
    from datetime import date

    from analytics.filters import RetentionFilter
    from analytics.metrics import clv_pareto, saved_customer_value

    db = _value_db(tmp_path, scores=True)
    try:
        flt = RetentionFilter(date(2024, 1, 1), date(2024, 12, 31), segments=("consumer",))
        v = saved_customer_value(db, flt)
        assert v.basis == "scores" and v.customers == 3 and v.scored_on == date(2024, 12, 31)
        assert v.average == pytest.approx(260.0) and v.value == 260.0
        pareto = clv_pareto(db, flt)
        assert pareto.total_clv / pareto.customers == pytest.approx(12_000)  # the old default
        # ROI with 10 saved, 100 actions at 10, 10 offers at 100 (cost 2,000): 10 × 260 = 2,600
        # kept -> ROI 30 %; the old default gave 10 × 12,000 = 120,000 kept -> ROI 5,900 %
        assert roi.programme_roi(10, v.value, 100, 10, 10, 100).roi == pytest.approx(0.30)
        assert saved_customer_value(db, RetentionFilter(date(2024, 1, 1), date(2024, 12, 31))).average == \
            pytest.approx(600.0)
    finally:
        db.close()


def test_value_of_a_saved_customer_without_scores(tmp_path):
    # No churn scores: the same formula on averages. December 2024 (31 days): the three
    # consumers are active at its start and none leaves -> churn 0. Their monthly margin is
    # 2,000 × 0.5 = 1,000 each, so the value is 1,000 × Σ_{t=1..24} 1.1^(-t/12)
    # = 1,000 × q(1 − q^24)/(1 − q), q = 1.1^(-1/12) = 0.992089, q^24 = 1/1.21
    # = 1,000 × 21.7646 = 21,764.6 -> 21,760.
    from datetime import date

    from analytics.filters import RetentionFilter
    from analytics.metrics import saved_customer_value

    db = _value_db(tmp_path, scores=False)
    try:
        v = saved_customer_value(db, RetentionFilter(date(2024, 12, 1), date(2024, 12, 31), segments=("consumer",)))
        assert v.basis == "churn rate" and v.customers == 3 and v.scored_on is None
        assert v.average == pytest.approx(21_764.57, abs=0.01) and v.value == 21_760.0
        nobody = saved_customer_value(db, RetentionFilter(date(2024, 12, 1), date(2024, 12, 31),
                                                          segments=("small_business",)))
        assert nobody.basis == "none" and nobody.value == 0.0 and "not known" in nobody.note
    finally:
        db.close()
