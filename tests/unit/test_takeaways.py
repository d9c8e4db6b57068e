"""Takeaway titles (analytics/takeaways.py): noise is not a change, two points are not a
trend, and a rate over fewer than MIN_N customers makes no claim. Every expected title is
worked out by hand from the tiny frames below."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics.takeaways import (
    MIN_N,
    churn_movers,
    churn_trend_takeaway,
    funnel_takeaway,
    movers_takeaway,
    note_signals_takeaway,
    rate_change_is_clear,
    satisfaction_takeaway,
    segments_takeaway,
    targets_takeaway,
    trend_of,
)


def months(rates, active_start=10_000, partial_last=False):
    n = len(rates)
    return pd.DataFrame({
        "period_start": pd.date_range("2025-10-01", periods=n, freq="MS"),
        "partial": [False] * (n - 1) + [partial_last],
        "active_start": active_start if isinstance(active_start, list) else [active_start] * n,
        "churn_rate": rates,
    })


def test_noise_is_not_a_change():
    # 3.77% of 32,773 against 3.66% of 31,033: se = √(.0377·.9623/32773 + .0366·.9634/31033)
    # = 0.00149, 1.96 se = 0.0029 > 0.0011 — noise; 3.00% is 0.0077 away — a change
    assert not rate_change_is_clear(0.0377, 32_773, 0.0366, 31_033)
    assert rate_change_is_clear(0.0377, 32_773, 0.0300, 31_033)
    assert not rate_change_is_clear(0.05, 0, 0.04, 100)
    assert not rate_change_is_clear(math.nan, 100, 0.04, 100)
    # 0% of 12 against 50% of 12 would pass the z-test (se 0.144, gap 0.5 > 0.28), but 12
    # customers are below MIN_N: no claim
    assert not rate_change_is_clear(0.0, 12, 0.5, 12)
    assert rate_change_is_clear(0.0, MIN_N, 0.5, MIN_N)


def test_a_trend_is_the_fitted_line_not_the_first_and_last_point():
    # rises 0.1 pp a month from Oct to May, then dips in June below October: first → last
    # says "fell" (1.0% → 0.9%); the least-squares slope is +0.04 pp/month with p = 0.29
    rises_then_dips = [0.010, 0.011, 0.012, 0.013, 0.014, 0.015, 0.016, 0.017, 0.009]
    t = trend_of(rises_then_dips)
    assert t.direction == "flat"
    assert t.slope == pytest.approx(0.0004)
    title = churn_trend_takeaway(months(rises_then_dips))
    assert title == "Monthly logo churn held around 1.30% over Oct 2025 – Jun 2026, no trend beyond noise"
    # a straight line up 0.1 pp a month: rising, from the line's 2.00% to 2.50%
    assert churn_trend_takeaway(months([0.020, 0.021, 0.022, 0.023, 0.024, 0.025])) == (
        "Monthly logo churn rising over Oct 2025 – Mar 2026: from about 2.00% to 2.50% on the trend line")
    falling = trend_of([0.025, 0.024, 0.023, 0.022])
    assert falling.direction == "falling" and falling.good(higher_is_better=False) is True
    assert trend_of([0.02, 0.03, 0.04]).direction == "unknown"  # three points: no claim


def test_a_clipped_month_and_a_small_month_stay_out_of_the_fit():
    # the last month is clipped (partial) and holds 40%: it must not turn a flat line up
    rates = [0.02, 0.02, 0.02, 0.02, 0.40]
    assert churn_trend_takeaway(months(rates, partial_last=True)) == (
        "Monthly logo churn held around 2.00% over Oct 2025 – Jan 2026, no trend beyond noise")
    t = trend_of(rates, n=[100, 100, 100, 100, 5])  # 5 customers behind the last point
    assert t.direction == "flat" and t.points == 4
    assert t.values[-1] == 0.40  # the sparkline still shows it


def test_small_samples_make_no_claim():
    assert churn_trend_takeaway(months([0.0, 1.0, 0.0, 0.5], active_start=2)) == (
        "Monthly logo churn: only 2 customers (fewer than 30): too few to read")
    assert funnel_takeaway(pd.DataFrame({"reach_rate": [1.0], "requests": [1]})) == (
        "Reach rate 100% of 1 requests — too few to read")
    # a one-day selection: one survey answer gives NPS +100 and CSAT 5.00
    one_day = pd.DataFrame({"month": [pd.Timestamp("2026-09-01")], "csat_responses": [1], "csat_mean": [5.0],
                            "nps_responses": [1], "nps": [100.0]})
    assert satisfaction_takeaway(one_day) == (
        "CSAT: only 1 answers, too few to read; NPS: only 1 answers, too few to read")
    seg = pd.DataFrame({"group": ["consumer"], "active_start": [3], "churn_rate": [0.0], "retention_rate": [1.0]})
    assert segments_takeaway(seg, pd.DataFrame(columns=["dimension", "clear"])) == (
        "Retention by segment: only 3 customers (fewer than 30): too few to read")


def test_funnel_takeaway():
    now = pd.DataFrame({"reach_rate": [0.37], "requests": [5_000]})
    assert funnel_takeaway(now, pd.DataFrame({"reach_rate": [0.24], "requests": [5_000]})) == (
        "Reach rate 37% — above the 20–30% baseline, up from 24% the period before")
    assert funnel_takeaway(now, pd.DataFrame({"reach_rate": [0.366], "requests": [5_000]})).endswith(
        "level with the period before (37%)")
    assert funnel_takeaway(now.assign(reach_rate=0.15)) == "Reach rate 15% — below the 20–30% baseline"


def by_dimension(rows):
    return pd.DataFrame(rows, columns=["dimension", "group", "active_start", "churn_rate"])


def test_movers_and_segments_share_one_comparison():
    # consumer: 20% of 20,000 → 17% of 20,000: se = √(.17·.83/2e4 + .2·.8/2e4) = 0.0039, a
    # 3.0 pp move is clear. Enterprise 6.0% → 7.0% of 300: se = 0.020, 1.96 se = 0.040 > 0.01:
    # noise. Business 10% of 40 is below the 50-customer floor for movers.
    now = by_dimension([("segment", "consumer", 20_000, 0.17), ("segment", "enterprise", 300, 0.07),
                        ("segment", "business", 40, 0.10)])
    before = by_dimension([("segment", "consumer", 20_000, 0.20), ("segment", "enterprise", 300, 0.06),
                           ("segment", "business", 40, 0.50)])
    movers = churn_movers(now, before)
    assert list(movers["group"]) == ["consumer", "enterprise"]
    assert list(movers["clear"]) == [True, False]
    assert movers_takeaway(movers) == "Biggest move: Segment: Consumer churn down 3.0 pp (20.0% → 17.0%)"
    seg = now.assign(retention_rate=1 - now["churn_rate"])
    # business (40 ≥ MIN_N) takes part in best/worst: 93.0% enterprise best, 83.0% consumer worst
    assert segments_takeaway(seg, movers) == (
        "Enterprise kept 93.0% of its customers, consumer 83.0%; "
        "biggest move: Consumer churn down 3.0 pp (20.0% → 17.0%)")
    flat = churn_movers(now, now)
    assert movers_takeaway(flat) == "No group's churn moved beyond noise"


def test_targets_takeaway():
    frame = pd.DataFrame({"metric": ["churn_rate", "nrr", "saved_customers"], "target": [0.04, 0.98, 210.0],
                          "met": pd.array([True, False, False], dtype="boolean"), "partial": [True] * 3})
    assert targets_takeaway(frame, "2026Q3") == "1 of 3 targets met in 2026Q3 so far — NRR and saved customers short"
    assert targets_takeaway(frame.iloc[:1], "2026Q3") == "All 1 targets met in 2026Q3 so far"


def test_note_signals_trend_not_endpoints():
    # price notes: 10% of notes each whole month, 30% in the clipped last month — flat;
    # service notes climb 2 pp a month — rising
    month = pd.date_range("2026-01-01", periods=5, freq="MS")
    rows = []
    for i, m in enumerate(month):
        partial = i == 4
        rows.append({"month": m, "signal": "price", "notes": 30 if partial else 10, "all_notes": 100,
                     "share_of_notes": 0.30 if partial else 0.10, "partial": partial})
        rows.append({"month": m, "signal": "service", "notes": 10 + 2 * i, "all_notes": 100,
                     "share_of_notes": 0.10 + 0.02 * i, "partial": partial})
    title = note_signals_takeaway(pd.DataFrame(rows))
    assert title == "Service notes rising: about 10.0% → 16.0% of notes on the trend line"


def test_mrr_waterfall_takeaway_nets_the_movements():
    import pandas as pd
    from analytics import formatting as fmt
    from analytics.takeaways import mrr_waterfall_takeaway
    w = pd.Series(dict(opening_mrr=440.0, new_mrr=50.0, expansion_mrr=50.0, reactivation_mrr=0.0,
                       contraction_mrr=80.0, churned_mrr=80.0, closing_mrr=380.0))
    money = fmt.money
    assert mrr_waterfall_takeaway(w, "Q1 2024") == (
        f"MRR down {money(60)} (-13.6%) over Q1 2024: {money(100)} added, {money(160)} lost")
    # nothing at the opening (a new business): no percentage change, just the closing MRR
    w["opening_mrr"] = 0.0
    assert mrr_waterfall_takeaway(w, "Q1 2024") == f"MRR {money(380)} at the end of Q1 2024"
