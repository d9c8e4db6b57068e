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
