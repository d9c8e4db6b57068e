"""Headline KPIs (analytics/headlines.py) on a tiny hand-built file: the windows, the n
behind each rate, the small-sample guard, no comparison before the history starts, and
targets hidden under a population filter."""

from __future__ import annotations

import math
from datetime import date

import pytest

from analytics import periods
from analytics.db import open_database
from analytics.filters import RetentionFilter
from analytics.headlines import Kpi, headline_kpis
from tests.builders import build_database

HISTORY = {"as_of_date": "2024-06-30", "history_start": "2024-01-01"}


@pytest.fixture
def tiny(tmp_path):
    # Ten consumers signed up in June 2023, before the history starts (left-truncated).
    # One leaves on 15 Feb 2024 (Q1); two leave in Q2 — one on 2 May, the 2nd of a month.
    # Two enterprise customers signed up in the history and stay.
    customers = [{"customer_id": i, "signup_date": date(2023, 6, 1), "segment": "consumer"} for i in range(1, 11)]
    customers[0]["churn_date"] = date(2024, 2, 15)
    customers[1]["churn_date"] = date(2024, 5, 2)
    customers[2]["churn_date"] = date(2024, 6, 30)
    customers += [{"customer_id": 11, "signup_date": date(2024, 3, 1), "segment": "enterprise"},
                  {"customer_id": 12, "signup_date": date(2024, 4, 10), "segment": "enterprise"}]
    path = build_database(tmp_path / "tiny.duckdb", customers=customers, schema_info=HISTORY)
    db = open_database(path)
    yield db
    db.close()


def test_quarter_to_date_windows_and_their_n(tiny):
    board = headline_kpis(tiny, RetentionFilter(date(2024, 1, 1), date(2024, 6, 30)))
    churn = board.kpi("logo_churn")
    assert (churn.window, churn.previous_window) == ("Q2 2024", "Q1 2024")
    # Q2: active at 1 Apr = 9 consumers (one left in Feb) + customer 11 = 10; customers 2
    # (2 May) and 3 (30 Jun) left → 2 / 10. Q1: active at 1 Jan = 10 consumers, one left → 1/10.
    assert churn.value == pytest.approx(0.2) and churn.n == 10
    assert churn.previous == pytest.approx(0.1) and churn.previous_n == 10
    assert churn.show_change() == "+10.00 pp"
    # 10 customers is fewer than 30: shown with its n, greyed (neutral), no claim
    assert not churn.reliable and churn.tone == "neutral"
    assert churn.n_note == "n = 10, too few"
    # active on 30 Jun: 12 − 3 leavers (30 Jun counts as gone) = 9; on 31 Mar: 10
    active = board.kpi("active_customers")
    assert (active.value, active.previous) == (9, 10)
    assert active.reliable  # a count, not a rate
    assert board.kpi("margin_at_risk").unavailable  # no churn_scores table


def test_no_comparison_before_the_history(tiny):
    # the filter period Jan–Jun 2024 against the six months before: before the history
    # starts there are no churn records, so the previous window would look perfect
    board = headline_kpis(tiny, RetentionFilter(date(2024, 1, 1), date(2024, 6, 30)), periods.FILTER_PERIOD)
    assert not board.has_previous
    churn = board.kpi("logo_churn")
    assert math.isnan(churn.previous) and churn.show_change() == "—"
    # over the whole half-year: 10 active at 1 Jan, 3 left by 30 Jun
    assert churn.value == pytest.approx(0.3)


def test_targets_are_hidden_under_a_population_filter(tiny):
    flt = RetentionFilter(date(2024, 1, 1), date(2024, 6, 30), segments=("consumer",))
    board = headline_kpis(tiny, flt)
    assert board.targets.empty
    assert board.targets_takeaway == board.targets_note
    assert "clear the segment, region and plan filters" in board.targets_note
    assert all(math.isnan(k.target) for k in board.kpis)
    # the consumers alone: 9 active at 1 Apr, 2 left in Q2
    assert board.kpi("logo_churn").value == pytest.approx(2 / 9)


def test_a_customers_only_file_says_what_each_number_needs(tmp_path):
    # only customers and their churn dates: no revenue, no touchpoints. Logo churn is known;
    # revenue churn, NRR, GRR, CLV and saves would read 0 or "—" without a reason.
    customers = [{"customer_id": i, "signup_date": date(2023, 6, 1)} for i in range(1, 41)]
    for i, c in enumerate(customers[:4]):  # two dates: one shared date would read as a single snapshot
        c["churn_date"] = date(2024, 5, 2) if i % 2 else date(2024, 5, 20)
    path = build_database(tmp_path / "only.duckdb", customers=customers, schema_info=HISTORY)
    db = open_database(path)
    try:
        board = headline_kpis(db, RetentionFilter(date(2024, 1, 1), date(2024, 6, 30)))
    finally:
        db.close()
    churn = board.kpi("logo_churn")
    assert churn.value == pytest.approx(4 / 40) and churn.n == 40 and not churn.unavailable
    for key in ("revenue_churn", "nrr", "grr"):
        assert board.kpi(key).needs == "Needs monthly revenue.", key
        assert math.isnan(board.kpi(key).value)
    assert board.kpi("average_clv").needs == "Needs revenue or purchases."
    saved = board.kpi("saved_customers")
    assert saved.needs == "Needs cancellation requests." and math.isnan(saved.value)  # not 0
    # no target is judged on a number the data cannot give
    judged = board.targets.dropna(subset=["met"])
    assert set(judged["metric"]) <= {"churn_rate", "retention_rate"}


def test_a_single_snapshot_shows_no_period_churn(tmp_path):
    # 40 customers, 8 flagged churned: every churner has the as-of date, as the importer
    # gives a Yes/No flag. A quarter's churn would read 8 / 40 "in Q2" — wrong: they left
    # at unknown times. Active on the as-of date (32) is right and stays.
    customers = [{"customer_id": i, "signup_date": date(2023, 6, 1), "segment": "consumer",
                  "churn_date": date(2024, 6, 30) if i <= 8 else None} for i in range(1, 41)]
    path = build_database(tmp_path / "snapshot.duckdb", customers=customers, schema_info=HISTORY)
    db = open_database(path)
    try:
        board = headline_kpis(db, RetentionFilter(date(2024, 1, 1), date(2024, 6, 30)))
    finally:
        db.close()
    note = "Churn over time needs churn dates — your data records who has left, not when (a single snapshot)."
    assert board.churn_dates_note == note
    for key in ("logo_churn", "revenue_churn", "nrr", "grr"):
        k = board.kpi(key)
        assert math.isnan(k.value) and k.trend is None and k.needs == "Needs churn dates.", key
    active = board.kpi("active_customers")
    assert active.value == 32 and math.isnan(active.previous) and active.trend is None
    assert board.churn_trend_takeaway == board.revenue_retention_takeaway == board.movers_takeaway == note
    assert board.movers.empty and board.segments_now.empty and board.segments_before.empty
    if not board.targets.empty:  # no churn target is judged on a number the data cannot give
        assert board.targets.loc[board.targets["metric"] == "churn_rate", "met"].isna().all()


def _rate(key: str, value: float, previous: float, n: float, higher_is_better: bool) -> Kpi:
    return Kpi(key, key, value, previous, math.nan, "rate", higher_is_better, "Q2 2024", "Q1 2024", key,
               n=n, previous_n=n)


def test_the_delta_colour_follows_the_business_not_the_sign():
    # churn up by 5 points on 1,000 customers each side (clearly beyond noise): bad, though "up"
    assert _rate("logo_churn", 0.10, 0.05, 1000, False).change_tone == "bad"
    assert _rate("logo_churn", 0.05, 0.10, 1000, False).change_tone == "good"
    assert _rate("nrr", 1.02, 0.95, 1000, True).change_tone == "good"  # NRR above 100% is fine
    # within noise (0.2 points on 1,000) or on too few customers: grey
    assert _rate("logo_churn", 0.052, 0.050, 1000, False).change_tone == "neutral"
    assert _rate("logo_churn", 0.50, 0.05, 10, False).change_tone == "neutral"
    # counts and money have no noise band: the sign decides, judged by higher_is_better
    saved = Kpi("saved_customers", "Saved", 70, 71, math.nan, "count", True, "Q2 2024", "Q1 2024", "s")
    assert saved.change_tone == "bad" and saved.change_words == "vs Q1 2024"
    assert saved.previous_words == "Q1 2024: 71."
    risk = Kpi("margin_at_risk", "Risk", 90.0, 100.0, math.nan, "money", False, "d", "30 Jun 2024", "m")
    assert risk.change_tone == "good" and risk.change_words == "vs 30 Jun 2024"


def test_the_overview_carries_mrr_arr_arpa_and_the_waterfall(tiny):
    board = headline_kpis(tiny, RetentionFilter(date(2024, 1, 1), date(2024, 6, 30)))
    r = board.recurring
    if r.note:  # the tiny file has no revenue: one line instead of zeros
        assert r.note.startswith("MRR, ARR, ARPA and the MRR movements need monthly revenue per customer")
        assert not r.kpis
    else:
        mrr, arr = r.kpi("mrr"), r.kpi("arr")
        assert arr.value == 12 * mrr.value and mrr.window == "30 Jun 2024"
