"""Metric rollups (analytics/rollups.py, docs/decisions/009-metric-rollups.md): every
function that reads a rollup gives the live query's result, a stale rollup is ignored,
a file without rollups still works, and `python -m analytics.rollups` builds them in one
transaction or changes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import analytics.metrics as metrics
from analytics import rollups
from analytics.db import open_database
from analytics.filters import RetentionFilter
from tests.builders import build_database

# Every function that reads a rollup, as a call returning a DataFrame.
FUNCTIONS = {
    "mrr_movements": metrics.mrr_movements,
    "mrr_by_month": metrics.mrr_by_month,
    # from the first of the period's start month: whole months (stored) and, for filters
    # ending mid-month, a cut last step (live)
    "mrr_waterfall": lambda db, f: metrics.mrr_waterfall(db, f, f.start.replace(day=1) - timedelta(days=62)),
    "mrr_waterfall (mid-month start)": lambda db, f: metrics.mrr_waterfall(
        db, f.with_period(f.start.replace(day=15), f.end), f.start.replace(day=1) - timedelta(days=62)),
    "revenue_retention (month)": lambda db, f: metrics.revenue_retention(db, f, "month"),
    # one-month periods only: over a quarter the live query answers (nothing to compare)
    "revenue_retention (range)": lambda db, f: metrics.revenue_retention(db, f.with_period(f.end.replace(day=1), f.end), "range"),
    "customer_clv": metrics.customer_clv,
    # quarter ends, a mid-month day, the filter's start and a day before any history
    "average_clv_at": lambda db, f: metrics.average_clv_at(
        db, f, (f.end, f.end - timedelta(days=47), f.start, date(f.end.year - 1, 12, 31), date(2000, 1, 1))),
    "clv_quantiles": metrics.clv_quantiles,
    "clv_pareto": lambda db, f: pd.DataFrame([asdict(metrics.clv_pareto(db, f))]),
    "value_tiers": metrics.value_tiers,
    "clv_cac_ratio (segment)": metrics.clv_cac_ratio,
    "clv_cac_ratio (region)": lambda db, f: metrics.clv_cac_ratio(db, f, "region"),
    "repeat_contact_rate": metrics.repeat_contact_rate,
    "repeat_contact_rate (all channels)": lambda db, f: metrics.repeat_contact_rate(db, f, by_channel=False),
    "first_contact_resolution": metrics.first_contact_resolution,
    "first_contact_resolution (all channels)": lambda db, f: metrics.first_contact_resolution(db, f, by_channel=False),
    "satisfaction_trend": metrics.satisfaction_trend,
    # whole months from rollup_wait_histogram, a clipped first or last month live
    "service_levels": metrics.service_levels,
    "service_levels (by month)": lambda db, f: metrics.service_levels(db, f, by_month=True),
    "note_signal_trend": metrics.note_signal_trend,
    "note_signal_summary": metrics.note_signal_summary,
    "data_quality_report": metrics.data_quality_report,
    "data_quality_report (20 examples)": lambda db, f: metrics.data_quality_report(db, f, examples=20),
}


def _filters(as_of: date) -> dict[str, RetentionFilter]:
    year = as_of - timedelta(days=364)
    return {
        "default": RetentionFilter(year, as_of),
        "segments+region": RetentionFilter(year, as_of, segments=("consumer", "enterprise"), regions=("north",)),
        "plan+channels": RetentionFilter(year, as_of, plans=("basic", "premium"), channels=("phone", "chat")),
        # a past as-of date with a mid-month start (value and data quality judged then)
        "past": RetentionFilter(date(2025, 2, 14), date(2025, 11, 20), segments=("small_business",)),
        "empty": RetentionFilter(year, as_of, segments=("no-such-segment",)),
    }


def assert_same_result(name: str, from_rollup: pd.DataFrame, live: pd.DataFrame) -> None:
    """Equal up to floating-point summation order (DuckDB sums in parallel)."""
    if name != "customer_clv":
        pd.testing.assert_frame_equal(from_rollup, live, check_exact=False, rtol=1e-9, atol=1e-6)
        return
    # Customers whose CLV is equal in exact arithmetic may differ in the last bits between
    # two summations, which swaps their ranks; compare per customer, and ranks and tiers
    # only where the CLV is not (nearly) tied with another customer's.
    a = from_rollup.sort_values("customer_id", ignore_index=True)
    b = live.sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(
        a.drop(columns=["value_rank", "value_tier"]), b.drop(columns=["value_rank", "value_tier"]),
        check_exact=False, rtol=1e-9, atol=1e-6,
    )
    untied = ~a["clv"].round(6).duplicated(keep=False)
    assert (a.loc[untied, "value_rank"] == b.loc[untied, "value_rank"]).all()
    assert (a.loc[untied, "value_tier"] == b.loc[untied, "value_tier"]).all()
    assert from_rollup["value_tier"].value_counts().to_dict() == live["value_tier"].value_counts().to_dict()


@pytest.fixture(scope="module")
def as_of(sample_db) -> date:
    return date.fromisoformat(sample_db.schema_info()["as_of_date"])


def test_the_sample_comes_with_fresh_rollups(sample_db, as_of):
    assert rollups.fresh_rollups(sample_db, *rollups.ROLLUPS) is not None
    assert rollups.fresh_rollup(sample_db, rollups.CUSTOMER_VALUE, as_of=as_of) is not None
    # value as of another day cannot come from it
    assert rollups.fresh_rollup(sample_db, rollups.CUSTOMER_VALUE, as_of=as_of - timedelta(days=1)) is None


@pytest.mark.parametrize("filter_name", ["default", "segments+region", "plan+channels", "past", "empty"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_rollup_and_live_paths_agree(sample_db, as_of, name, filter_name):
    flt = _filters(as_of)[filter_name]
    call = FUNCTIONS[name]
    from_rollup = call(sample_db, flt)
    with rollups.disabled():
        live = call(sample_db, flt)
    # (surveys come by e-mail and SMS: none in the phone + chat filter)
    if (filter_name not in ("empty", "past") and name != "data_quality_report (20 examples)"
            and (name, filter_name) != ("satisfaction_trend", "plan+channels")):
        assert len(live) > 0
    assert_same_result(name, from_rollup, live)


# --- copies of the sample that are changed -------------------------------------------


@pytest.fixture
def db_copy(sample_db_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.duckdb"
    shutil.copy(sample_db_path, target)
    return target


def _tables(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    finally:
        con.close()


def test_a_stale_rollup_is_ignored(db_copy, as_of):
    flt = _filters(as_of)["default"]
    db = open_database(db_copy, read_only=False)
    try:
        before = {name: FUNCTIONS[name](db, flt) for name in ("mrr_movements", "customer_clv",
                                                               "repeat_contact_rate", "data_quality_report")}
        # a reload: one month of revenue, a customer's service contacts and an e-mail change
        con = db.cursor()
        con.execute("delete from monthly_revenue where month = ?", [date(2026, 3, 1)])
        con.execute("delete from touchpoints where customer_id = (select min(customer_id) from touchpoints "
                    "where kind = 'complaint' and occurred_at >= ?)", [flt.start])
        assert rollups.fresh_rollups(db, *rollups.ROLLUPS) is None
        for name, old in before.items():
            now = FUNCTIONS[name](db, flt)
            with rollups.disabled():
                live = FUNCTIONS[name](db, flt)
            assert_same_result(name, now, live)
            if name != "data_quality_report":  # (its counts need not move with these rows)
                with pytest.raises(AssertionError):
                    assert_same_result(name, old, now)
    finally:
        db.close()


def test_a_rollup_of_another_version_is_ignored(db_copy):
    con = duckdb.connect(str(db_copy))
    try:
        con.execute(f"update {rollups.INFO_TABLE} set rollup_version = 'old'")
    finally:
        con.close()
    db = open_database(db_copy)
    try:
        assert rollups.fresh_rollups(db, rollups.MRR_MOVEMENTS) is None
    finally:
        db.close()


def test_metrics_work_without_rollups(db_copy, sample_db, as_of):
    con = duckdb.connect(str(db_copy))
    try:
        for table in (rollups.INFO_TABLE, *rollups.ROLLUPS):
            con.execute(f"drop table {table}")
    finally:
        con.close()
    db = open_database(db_copy)
    try:
        assert rollups.fresh_rollups(db, rollups.MRR_MOVEMENTS) is None
        for filter_name in ("default", "segments+region"):
            flt = _filters(as_of)[filter_name]
            for name, call in FUNCTIONS.items():
                assert_same_result(name, call(db, flt), call(sample_db, flt))
    finally:
        db.close()


def test_command_rebuilds_the_rollups(db_copy, capsys):
    day = RetentionFilter(date(2026, 9, 30), date(2026, 9, 30))

    def missing_email_examples() -> list[int]:
        db = open_database(db_copy)
        try:
            report = metrics.data_quality_report(db, day, examples=10_000)
        finally:
            db.close()
        return report.set_index("check").loc["missing_email", "examples"]

    con = duckdb.connect(str(db_copy))
    try:
        # An in-place edit that keeps every count and maximum: the fingerprint cannot see
        # it (docs/decisions/009), so the rollup still answers — hence "rebuild after loads".
        con.execute("update customers set email = null where customer_id = 1")
    finally:
        con.close()
    assert 1 not in missing_email_examples()
    assert rollups.main(["--db", str(db_copy)]) == rollups.EXIT_OK
    assert "built rollups as of 2026-09-30" in capsys.readouterr().out
    assert 1 in missing_email_examples()
    db = open_database(db_copy)
    try:
        assert rollups.fresh_rollups(db, *rollups.ROLLUPS) is not None
        report = metrics.data_quality_report(db, day)
        with rollups.disabled():
            live = metrics.data_quality_report(db, day)
    finally:
        db.close()
    assert_same_result("data_quality_report", report, live)


def test_if_stale_does_nothing_when_fresh(db_copy, capsys):
    assert rollups.main(["--db", str(db_copy), "--if-stale"]) == rollups.EXIT_OK
    assert "rollups are fresh; nothing to do" in capsys.readouterr().out
    con = duckdb.connect(str(db_copy))
    try:
        con.execute("delete from touchpoints where touchpoint_id = (select max(touchpoint_id) from touchpoints)")
    finally:
        con.close()
    assert rollups.main(["--db", str(db_copy), "--if-stale"]) == rollups.EXIT_OK
    assert "built rollups as of" in capsys.readouterr().out


def test_a_failed_build_changes_nothing(db_copy, monkeypatch):
    def broken_sources(db, as_of):
        good = original(db, as_of)
        good[rollups.DQ_CHECKED] = db.table("no_such_table")  # fails after five rollups
        return good

    original = rollups._sources
    db = open_database(db_copy, read_only=False)
    try:
        fingerprints = db.cursor().execute(f"select * from {rollups.INFO_TABLE} order by rollup").fetchall()
        monkeypatch.setattr(rollups, "_sources", broken_sources)
        with pytest.raises(Exception):
            rollups.build_rollups(db)
        assert db.cursor().execute(f"select * from {rollups.INFO_TABLE} order by rollup").fetchall() == fingerprints
        assert rollups.fresh_rollups(db, *rollups.ROLLUPS) is not None
    finally:
        db.close()


def test_locked_database_is_a_clear_error_and_changes_nothing(db_copy, capsys):
    def info() -> list[tuple]:
        con = duckdb.connect(str(db_copy), read_only=True)
        try:
            return con.execute(f"select * from {rollups.INFO_TABLE} order by rollup").fetchall()
        finally:
            con.close()

    before = info()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(db_copy)!r})  # read-write: DuckDB's exclusive lock
            print("ready", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert rollups.main(["--db", str(db_copy)]) == rollups.EXIT_LOCKED
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    err = capsys.readouterr().err
    assert "open in another program" in err and "Nothing was changed" in err
    assert info() == before


def test_repeated_customer_ids_get_no_rollups(tmp_path, capsys):
    path = tmp_path / "repeated.duckdb"
    build_database(
        path,
        customers=[
            {"customer_id": 1, "signup_date": date(2024, 1, 5), "segment": "consumer"},
            {"customer_id": 1, "signup_date": date(2024, 1, 5), "segment": "enterprise"},
        ],
        monthly_revenue=[{"customer_id": 1, "month": date(2024, 1, 1), "mrr": 10.0}],
    )
    assert rollups.main(["--db", str(path)]) == rollups.EXIT_OK
    assert "not unique" in capsys.readouterr().out
    assert not {rollups.INFO_TABLE, *rollups.ROLLUPS} & _tables(path)


# --- the edge cases of the filter semantics, on a tiny hand-made file ----------------


def test_rollups_keep_the_filter_semantics_of_edge_cases(tmp_path):
    """Rows without a customer record (counted only without a population filter), a
    customer with NULL attributes, a duplicate pair split across segments (a duplicate
    only when both are selected), a touchpoint after churn and a future revenue row."""
    path = tmp_path / "edge.duckdb"
    customers = [
        {"customer_id": 1, "full_name": "Dana Levi", "email": "dana@x.co", "phone": "050-1234567",
         "signup_date": date(2024, 1, 10), "segment": "consumer", "region": "north"},
        {"customer_id": 2, "full_name": "dana  levi", "email": "DANA@x.co ", "phone": "050-7654321",
         "signup_date": date(2024, 2, 1), "segment": "enterprise", "region": "north"},
        {"customer_id": 3, "full_name": "Noa", "email": "noa@x.co", "signup_date": date(2024, 1, 20),
         "segment": None, "region": "south", "churn_date": date(2024, 6, 5), "churn_reason": "price"},
        {"customer_id": 4, "full_name": "Noa", "email": "noa@x.co", "signup_date": date(2024, 3, 3),
         "segment": "consumer", "region": "south", "margin_rate": 0.5},
    ]
    first_month = {1: 1, 2: 2, 4: 3}
    revenue = (
        [{"customer_id": c, "month": date(2024, m, 1), "mrr": 10.0 * c + m}
         for c, first in first_month.items() for m in range(first, 13)]
        + [{"customer_id": 3, "month": date(2024, m, 1), "mrr": 30.0} for m in (1, 2, 3, 5)]  # a gap
        + [{"customer_id": 99, "month": date(2024, m, 1), "mrr": 7.0} for m in (4, 5, 9)]  # no customer
        + [{"customer_id": 1, "month": date(2025, 2, 1), "mrr": -1.0}]  # future and negative
    )
    touchpoints = [
        {"customer_id": cid, "occurred_at": pd.Timestamp(ts).to_pydatetime(), "subject": subj, "channel": ch}
        for cid, ts, subj, ch in [
            (1, "2024-03-01 10:00", "billing", "phone"), (1, "2024-03-05 09:00", "billing", "chat"),
            (1, "2024-03-20 09:00", "billing", "phone"), (2, "2024-04-02 08:00", "technical", "email"),
            (2, "2024-04-08 07:59", "technical", "phone"), (3, "2024-05-30 12:00", "general", "phone"),
            (3, "2024-06-03 12:00", "general", None), (3, "2024-06-20 12:00", "general", "sms"),
            (99, "2024-07-01 12:00", "general", "phone"), (99, "2024-07-02 12:00", "general", "phone"),
            (4, "2024-12-31 23:00", "technical", "web"), (4, "2025-01-02 09:00", "technical", "web"),
        ]
    ] + [{"customer_id": 4, "occurred_at": pd.Timestamp("2024-11-02 10:00").to_pydatetime(),
          "kind": "purchase", "amount": 40.0, "channel": "store"}]
    # surveys (one with both answers off the scales: a month with answers but none counted),
    # notes (a blank one alone in its month, a signal, one on an outbound call), FCR recorded
    # or not, and a row with no customer record
    touchpoints += [
        {"customer_id": cid, "occurred_at": pd.Timestamp(ts).to_pydatetime(), **extra}
        for cid, ts, extra in [
            (1, "2024-03-02 10:00", {"kind": "survey", "channel": "email", "csat": 5, "nps": 9}),
            (2, "2024-04-30 23:59", {"kind": "survey", "channel": "sms", "csat": 2, "nps": 6}),
            (3, "2024-05-02 08:00", {"kind": "survey", "channel": "email", "csat": 9, "nps": 11}),
            (99, "2024-06-02 08:00", {"kind": "survey", "channel": "email", "csat": 4, "nps": 8}),
            (1, "2024-02-02 09:00", {"note": "   ", "channel": "phone"}),
            (1, "2024-03-02 09:00", {"note": "wants to cancel, competitor is cheaper", "channel": "chat",
                                     "first_contact_resolution": True}),
            (2, "2024-03-31 23:00", {"note": "billing question", "channel": "phone", "direction": "outbound",
                                     "first_contact_resolution": False}),
            (3, "2024-05-02 09:00", {"channel": "phone", "first_contact_resolution": False}),
            (1, "2024-07-02 09:00", {"channel": None, "first_contact_resolution": True}),
        ]
    ]
    # waits (service_levels): on the 2nd of a month, above the exact 600 s, in the clipped
    # first and last months of the Feb 10 – Jul 15 filter, one with no customer record and
    # one of the superseded duplicate 4 (left out, decision 014)
    touchpoints += [
        {"customer_id": cid, "occurred_at": pd.Timestamp(ts).to_pydatetime(), "kind": kind, "channel": ch,
         "wait_seconds": wait}
        for cid, ts, kind, ch, wait in [
            (1, "2024-03-02 11:00", "service_request", "phone", 45),
            (3, "2024-02-09 08:00", "billing_issue", "chat", 130),
            (3, "2024-02-10 08:00", "billing_issue", "chat", 90),
            (1, "2024-07-15 23:30", "service_request", "phone", 5000),
            (1, "2024-07-16 00:10", "complaint", "phone", 61),
            (4, "2024-04-16 10:00", "complaint", "phone", 20),
            (99, "2024-07-02 13:00", "complaint", "phone", 700),
        ]
    ]
    # a custom attribute (the export's own column): rollups do not hold it, so a filter on
    # it must be answered live, not from a rollup that ignores it
    attributes = ({"customer_id": "BIGINT", "attribute": "VARCHAR", "value": "VARCHAR"},
                  [{"customer_id": c, "attribute": "tier", "value": v} for c, v in ((1, "gold"), (3, "gold"), (4, "basic"))])
    build_database(path, customers=customers, touchpoints=touchpoints, monthly_revenue=revenue,
                   extra_tables={"customer_attributes": attributes})
    assert rollups.main(["--db", str(path)]) == rollups.EXIT_OK
    end = date(2024, 12, 31)
    filters = [
        RetentionFilter(date(2024, 1, 1), end),
        RetentionFilter(date(2024, 3, 3), end, segments=("consumer",)),
        RetentionFilter(date(2024, 1, 1), end, regions=("north",)),
        RetentionFilter(date(2024, 1, 1), end, segments=("consumer", "enterprise")),
        RetentionFilter(date(2024, 2, 10), date(2024, 7, 15), channels=("phone",)),
        RetentionFilter(date(2024, 1, 1), end, regions=("south",), channels=("sms", "web")),
        RetentionFilter(date(2024, 1, 1), end, attributes={"tier": ("gold",)}),
    ]
    db = open_database(path)
    try:
        assert rollups.fresh_rollups(db, *rollups.ROLLUPS) is not None
        for flt in filters:
            for name, call in FUNCTIONS.items():
                from_rollup = call(db, flt)
                with rollups.disabled():
                    live = call(db, flt)
                assert_same_result(name, from_rollup, live)
        # hand-counted: a month of answers off the scales is a row with 0 responses; the
        # superseded duplicate (2)'s April survey is left out (decision 014); a contact
        # without a channel still counts
        sat = metrics.satisfaction_trend(db, filters[0])
        assert [m.month for m in sat["month"]] == [3, 5, 6]
        assert sat["csat_responses"].tolist() == [1, 0, 1]
        fcr = metrics.first_contact_resolution(db, filters[0], by_channel=False)
        assert [m.month for m in fcr["month"]] == [3, 5, 7]
        assert fcr["contacts"].tolist() == [1, 1, 1] and fcr["resolved_first_contact"].tolist() == [1, 0, 1]
        # the waits, hand-counted: Feb 10 – Jul 15 on the phone keeps 45 s (Mar), 5,000 s
        # (Jul 15) and the unknown customer's 700 s (Jul 2); Feb 9 and Jul 16 are outside
        phone = metrics.service_levels(db, filters[4]).set_index("channel")
        assert phone.index.tolist() == ["phone"]
        assert phone.loc["phone", "contacts"] == 3 and phone.loc["phone", "within_sla"] == 1
        assert phone.loc["phone", "wait_p50_seconds"] == pytest.approx(700, rel=0.005)
        trend = metrics.note_signal_trend(db, filters[0])
        competitor = trend[(trend["signal"] == "competitor") & (trend["notes"] > 0)]
        assert [m.month for m in competitor["month"]] == [3]
        # the duplicate pair: customer 2 is a duplicate of 1 only when both are selected
        dq = metrics.data_quality_report(db, filters[0]).set_index("check")
        assert dq.loc["duplicate_customer", "examples"] == [2, 4]
        dq = metrics.data_quality_report(db, filters[1]).set_index("check")
        assert dq.loc["duplicate_customer", "failing"] == 0
    finally:
        db.close()


def test_revenue_book_rollup_equals_live_on_churn_day_edges(tmp_path):
    """`revenue_retention` from the rollup's book columns equals the live query where the
    book depends on days: a churn on the 1st and on the 2nd of a month (both billed that
    month), on the last day of a month, a signup on the last day of a month, an
    inconsistent record (churn before signup) with revenue, a revenue row without a
    customer, a zero-MRR month, over whole months, a mid-month filter (clipped months run
    live) and population filters."""
    path = tmp_path / "book.duckdb"
    customers = [
        {"customer_id": 1, "signup_date": date(2023, 11, 5), "churn_date": date(2024, 3, 1), "segment": "consumer"},
        {"customer_id": 2, "signup_date": date(2023, 11, 5), "churn_date": date(2024, 3, 2), "segment": "consumer"},
        {"customer_id": 3, "signup_date": date(2023, 11, 5), "churn_date": date(2024, 2, 29), "segment": "enterprise"},
        {"customer_id": 4, "signup_date": date(2024, 1, 31), "segment": "enterprise"},
        {"customer_id": 5, "signup_date": date(2024, 2, 10), "churn_date": date(2024, 1, 5), "segment": "consumer"},
        {"customer_id": 6, "signup_date": date(2023, 10, 1), "segment": "consumer", "plan": "premium"},
    ]
    bills = {1: range(11, 16), 2: range(11, 16), 3: range(11, 15), 4: range(13, 18), 5: range(12, 18), 6: range(10, 18)}
    # months counted from Jan 2023 = 1: customer c pays 10c + m in month m (c6: 0 in March 2024)
    revenue = [
        {"customer_id": c, "month": date(2023 + (m - 1) // 12, (m - 1) % 12 + 1, 1),
         "mrr": 0.0 if (c, m) == (6, 15) else 10.0 * c + m}
        for c, months in bills.items() for m in months
    ] + [{"customer_id": 99, "month": date(2024, m, 1), "mrr": 7.0} for m in (1, 2, 3)]  # no customer
    build_database(path, customers=customers, monthly_revenue=revenue)
    assert rollups.main(["--db", str(path)]) == rollups.EXIT_OK
    db = open_database(path)
    try:
        assert rollups.fresh_rollup(db, rollups.MRR_MOVEMENTS) is not None
        filters = [
            RetentionFilter(date(2024, 1, 1), date(2024, 5, 31)),
            RetentionFilter(date(2024, 1, 15), date(2024, 4, 20)),
            RetentionFilter(date(2024, 2, 1), date(2024, 4, 30), segments=("consumer",)),
            RetentionFilter(date(2024, 3, 1), date(2024, 3, 31), plans=("premium",)),
        ]
        for flt in filters:
            for freq in ("month", "range"):
                from_rollup = metrics.revenue_retention(db, flt, freq)
                with rollups.disabled():
                    live = metrics.revenue_retention(db, flt, freq)
                assert_same_result(f"revenue_retention ({freq})", from_rollup, live)
            # the MRR waterfall's whole-month steps come from the same rollup
            from_rollup = metrics.mrr_waterfall(db, flt, date(2023, 10, 1))
            with rollups.disabled():
                live = metrics.mrr_waterfall(db, flt, date(2023, 10, 1))
            assert_same_result("mrr_waterfall", from_rollup, live)
        march = metrics.revenue_retention(db, RetentionFilter(date(2024, 3, 1), date(2024, 3, 31)), "month").iloc[0]
        # March: active on Mar 1 and paying in Feb = c1 (churns Mar 1), c2 (Mar 2), c4, c6;
        # not c3 (left Feb 29), not c5 (inconsistent), not 99 (no customer).
        # start = Feb MRR 10c + 14: 24 + 34 + 54 + 74 = 186; end: c1, c2 churned in March
        # (billed 25, 35 — counted 0), c4 55, c6 0 (the zero row) -> 55.
        # Old (every Feb payer, churn ignored): c1..c6 and 99: 301 -> 25 + 35 + 55 + 65 + 7 = 187.
        assert (march.start_customers, march.start_mrr, march.retained_end_mrr) == (4, 186, 55)
    finally:
        db.close()


def test_daily_rollup_has_a_column_per_note_signal():
    from analytics.metrics.note_signals import SIGNAL_ROWS
    from analytics.schema import OPTIONAL_TABLES

    columns = OPTIONAL_TABLES[rollups.TOUCHPOINT_DAILY]
    assert [c for c in columns if c in SIGNAL_ROWS] == list(SIGNAL_ROWS)


def test_service_levels_reads_the_whole_months_of_a_period_from_the_wait_histogram(sample_db, as_of):
    from analytics.metrics import service

    months = service._stored_wait_months
    default = service.DEFAULT_SLA_LIMITS
    year = RetentionFilter(date(2025, 10, 1), date(2026, 9, 30))
    assert months(sample_db, year, default) == tuple(date(2025 + (m > 12), (m - 1) % 12 + 1, 1) for m in range(10, 22))
    # a mid-month start and end: only the months wholly inside
    assert months(sample_db, RetentionFilter(date(2025, 2, 14), date(2025, 5, 30)), default) == (
        date(2025, 3, 1), date(2025, 4, 1))
    # other thresholds, or a custom attribute the rollup does not hold: live
    assert months(sample_db, year, (("phone", 90.0),)) == ()
    assert months(sample_db, RetentionFilter(year.start, year.end, attributes={"tier": ("gold",)}), default) == ()
    with rollups.disabled():
        assert months(sample_db, year, default) == ()
