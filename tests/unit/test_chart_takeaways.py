"""Chart titles moved out of the chart builders (analytics/chart_takeaways.py): the guards
hold — no claim from fewer than MIN_N behind a rate, no "churns most" within noise, a
threshold where the wording changes."""

from __future__ import annotations

import pandas as pd

from analytics.chart_takeaways import (churn_by_group_takeaway, reach_gauge_takeaway, reach_judged,
                                       score_history_takeaway, sla_takeaway)


def churn_groups(rows):
    return pd.DataFrame(rows, columns=["group", "churned", "active_start"]).assign(
        churn_rate=lambda d: d["churned"] / d["active_start"])


def test_churn_by_group_names_the_highest_when_beyond_noise_and_ignores_tiny_groups():
    # 20/100 vs 10/100: |0.2 − 0.1| = 0.10 > 1.96 × √(0.2·0.8/100 + 0.1·0.9/100) = 1.96 × 0.05 = 0.098;
    # the 1-customer group churning 100% is drawn but not judged (fewer than 30)
    df = churn_groups([("enterprise", 20, 100), ("smb", 10, 100), ("mid_market", 1, 1)])
    assert churn_by_group_takeaway(df, "segment") == "Enterprise churns most: 20.0%, 2.0× Smb"


def test_churn_by_group_claims_nothing_within_noise():
    # 12/100 vs 10/100: 0.02 < 1.96 × √(0.12·0.88/100 + 0.1·0.9/100) ≈ 0.086
    df = churn_groups([("enterprise", 12, 100), ("smb", 10, 100)])
    assert churn_by_group_takeaway(df, "segment") == "No segment churns more than another beyond noise"


def test_sla_title_says_only_below_90_percent():
    levels = pd.DataFrame({"channel": ["email", "phone"], "sla_attainment": [0.85, 0.95],
                           "sla_seconds": [3600, 60], "contacts": [100, 100]})
    assert sla_takeaway(levels) == "Email meets its 60.0 min SLA on only 85% of 100 contacts"
    at_line = levels.assign(sla_attainment=[0.90, 0.95])
    assert sla_takeaway(at_line) == "Email meets its 60.0 min SLA on 90% of 100 contacts"


def test_reach_gauge_makes_no_verdict_on_too_few_requests():
    assert not reach_judged(10) and reach_judged(30) and reach_judged(None)
    assert reach_gauge_takeaway(0.5, 10) == "10 requests: too few to judge"
    assert reach_gauge_takeaway(0.15, 40) == "Below the baseline"


def test_score_history_within_one_point_held_steady():
    history = pd.DataFrame({"churn_probability": [0.100, 0.105]})
    assert score_history_takeaway(history) == "Churn risk held steady at 10.5%"
    rising = pd.DataFrame({"churn_probability": [0.10, 0.25]})
    assert score_history_takeaway(rising) == "Churn risk rose from 10.0% to 25.0%"
