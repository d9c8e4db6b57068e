"""The measured programme (analytics/programme.py) and the holdout assignments of the action
store (analytics/actions.py, migration 0002): Newcombe's interval against the paper, a
hand-worked measurement of 100 worked / 20 held-out customers, the holdout's share and
stability, what the section says with nothing to measure, and the migration from 0001."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics import actions, programme
from analytics.actions import ActionStore
from analytics.programme import measure_programme, newcombe_interval, wilson_interval


@pytest.fixture
def store(tmp_path):
    s = actions.open_store(f"sqlite:///{tmp_path / 'actions.sqlite'}")
    yield s
    s.close()


# --- intervals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("counts, expected", [
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, method 10 (hybrid score)
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
])
def test_newcombe_reproduces_the_published_examples(counts, expected):
    _, low, high = newcombe_interval(*counts)
    assert (round(low, 4), round(high, 4)) == expected


def test_interval_input_is_checked():
    with pytest.raises(ValueError, match="whole counts"):
        wilson_interval(5, 0)
    with pytest.raises(ValueError, match="whole counts"):
        newcombe_interval(3, 2, 1, 5)


# --- the measurement, hand-worked ---------------------------------------------------------------

def _log(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "status", "outcome", "note", "created_at"])
    frame.insert(0, "id", range(1, len(frame) + 1))
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame


def test_measured_roi_hand_worked_100_worked_20_held_out():
    # 100 worked (ids 1-100) and 20 held out (201-220), all assigned on 1 Mar 2025, 90-day
    # window to 30 May 2025, data to 30 Sep 2025. Worked: 15 churn in the window; held
    # out: 6. Traps: churn on the assignment day (not in the window: excluded as churned
    # before), churn on day 91 (after the window), a pending assignment, a customer the
    # data lacks.
    assigned = [(c, False, "2025-03-01") for c in range(1, 101)] + [(c, True, "2025-03-01") for c in range(201, 221)]
    assigned += [(300, False, "2025-08-01"),    # window ends 30 Oct: pending
                 (301, False, "2025-03-01"),    # not in the data
                 (302, True, "2025-03-01")]     # churned on the assignment day: not found
    groups = pd.DataFrame(assigned, columns=["customer_id", "held_out", "assigned_on"])
    churn = {c: "2025-04-15" for c in range(1, 15)} | {15: "2025-05-30"}           # 15 worked, last on day 90
    churn |= {16: "2025-05-31"}                                                    # day 91: after the window
    churn |= {c: "2025-03-10" for c in range(201, 207)} | {207: "2025-06-20"}      # 6 held out (+1 after the window)
    churn |= {302: "2025-03-01"}
    customers = pd.DataFrame({"customer_id": [c for c in list(range(1, 101)) + list(range(201, 221)) + [300, 302]]})
    customers["churn_date"] = pd.to_datetime(customers["customer_id"].map(churn))
    rows = [(c, "attempted", "no answer", None, "2025-03-02 10:00") for c in range(1, 101)]      # 100 actions
    rows += [(c, "saved", "accepted 10% off", None, "2025-03-20 11:00") for c in range(21, 31)]  # 10 actions, 10 offers
    rows += [(c, "saved", None, None, "2025-03-21 09:00") for c in range(21, 26)]   # same status, nothing written: free
    rows += [(40, "attempted", None, None, "2025-04-01 09:00")]                      # reassignment only: free
    rows += [(41, "reached", "call back", None, "2025-06-15 09:00")]                 # after the window: not counted
    rows += [(205, "attempted", "no answer", None, "2025-03-05 09:00")]              # a held-out customer contacted
    result = measure_programme(groups, customers, _log(rows), as_of=date(2025, 9, 30), follow_up_days=90,
                               cost_per_action=20, cost_per_offer=100, value_per_saved=500)
    assert result.measured and result.needs is None
    assert (result.assigned, result.pending, result.not_found) == (123, 1, 2)
    assert (result.worked, result.worked_churned, result.held_out, result.held_out_churned) == (100, 15, 20, 6)
    assert result.worked_churn == pytest.approx(0.15) and result.held_out_churn == pytest.approx(0.30)
    # uplift 0.30 − 0.15 = 0.15; Wilson 6/20 = (0.14548, 0.51897), 15/100 = (0.09306, 0.23284):
    # low = 0.15 − √(0.15452² + 0.08284²) = −0.02533, high = 0.15 + √(0.21897² + 0.05694²) = 0.37625
    assert result.uplift == pytest.approx(0.15)
    assert (round(result.uplift_low, 4), round(result.uplift_high, 4)) == (-0.0253, 0.3763)
    assert result.saves == pytest.approx(15.0)
    assert (round(result.saves_low, 2), round(result.saves_high, 2)) == (-2.53, 37.63)
    # 110 actions × 20 + 10 offers × 100 = 3,200; value 15 × 500 = 7,500; ROI (7,500 − 3,200) ÷ 3,200
    assert (result.actions, result.offers, result.cost) == (110, 10, 3200.0)
    assert result.value == pytest.approx(7500.0) and result.net_benefit == pytest.approx(4300.0)
    assert result.roi == pytest.approx(1.34375)
    assert result.roi_low == pytest.approx((result.saves_low * 500 - 3200) / 3200)
    assert (round(result.roi_low, 3), round(result.roi_high, 3)) == (-1.396, 4.879)
    assert result.held_out_contacted == 1


def test_nothing_to_measure_says_what_it_needs_in_one_line():
    empty_groups = pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "held_out": pd.Series(dtype=bool),
                                 "assigned_on": pd.Series(dtype="datetime64[ns]")})
    customers = pd.DataFrame({"customer_id": [1, 2], "churn_date": pd.to_datetime([None, None])})
    log = _log([])
    none = measure_programme(empty_groups, customers, log, as_of=date(2025, 9, 30), holdout_share=0.1)
    assert none.needs.startswith("The measured programme needs a control group") and "10%" in none.needs
    assert math.isnan(none.uplift) and math.isnan(none.roi) and "\n" not in none.needs
    recent = pd.DataFrame({"customer_id": [1, 2], "held_out": [False, True], "assigned_on": ["2025-09-01"] * 2})
    pending = measure_programme(recent, customers, log, as_of=date(2025, 9, 30))
    assert "needs 90 days of follow-up" in pending.needs and "30 Nov 2025" in pending.needs
    one_sided = recent.assign(held_out=False, assigned_on="2025-05-01")
    assert "needs customers in both groups: 2 worked and 0 held out" in \
        measure_programme(one_sided, customers, log, as_of=date(2025, 9, 30)).needs


# --- the holdout in the store ----------------------------------------------------------------------

def test_holdout_share_is_respected_and_assignments_are_stable(store):
    ids = list(range(1, 5001))
    first = actions.assign_holdout(store, ids, date(2026, 9, 30), share=0.10, by="dana", on=date(2026, 10, 1))
    assert first["customer_id"].tolist() == ids
    held = int(first["held_out"].sum())
    # Binomial(5000, 0.1): mean 500, sd 21.2 — the hash draw is fixed, so this is one number
    assert 450 <= held <= 550
    assert held == sum(actions.holdout_draw(ids, "2026", 0.10))
    # again, with another share and another session: nobody changes group, nothing is added
    again = actions.assign_holdout(store, ids[::-1] + [6000], date(2026, 6, 30), share=0.5, by="eli",
                                   on=date(2026, 11, 1))
    assert again.set_index("customer_id").loc[ids, "held_out"].tolist() == first["held_out"].tolist()
    groups = actions.holdout_groups(store)
    assert len(groups) == 5001 and groups["period"].unique().tolist() == ["2026"]
    kept = groups.set_index("customer_id")
    assert kept.loc[1, "assigned_on"] == pd.Timestamp("2026-10-01") and kept.loc[1, "list_as_of"] == pd.Timestamp("2026-09-30")
    assert (kept.loc[1, "assigned_by"], kept.loc[1, "share"]) == ("dana", 0.10)
    assert (kept.loc[6000, "assigned_by"], kept.loc[6000, "share"]) == ("eli", 0.5)
    audit = actions.audit_entries(store)
    assert audit["action"].tolist() == ["holdout", "holdout"] and audit["row_count"].tolist() == [1, 5000]
    # nothing new: no write, no audit row
    actions.assign_holdout(store, ids[:10], date(2026, 9, 30), share=0.1, by="dana")
    assert len(actions.audit_entries(store)) == 2
    # a new programme period (2027) draws anew, about the same share
    later = actions.assign_holdout(store, ids, date(2027, 1, 31), share=0.10, by="dana")
    assert 450 <= int(later["held_out"].sum()) <= 550
    assert (later["held_out"] != first["held_out"]).any()
    assert actions.assign_holdout(store, ids[:100], date(2027, 1, 31), share=0.0, by="dana")["held_out"].sum() \
        == later["held_out"].iloc[:100].sum()  # the first assignment stands


def test_holdout_input_is_checked(store):
    with pytest.raises(ValueError, match=r"holdout share is a number in \[0, 1\)"):
        actions.assign_holdout(store, [1], date(2026, 1, 1), share=1.0, by="dana")
    with pytest.raises(ValueError, match="as-of date is required"):
        actions.assign_holdout(store, [1], None, share=0.1, by="dana")
    assert actions.holdout_groups(store).empty
    assert actions.holdout_draw([1, 2, 3], "2026", 0.0) == [False, False, False]


def test_measured_programme_over_an_empty_store_and_a_tiny_database(store, tmp_path):
    from analytics.db import open_database
    from tests.builders import build_database

    path = build_database(tmp_path / "tiny.duckdb", customers=[
        {"customer_id": c, "signup_date": date(2024, 1, 1), "churn_date": date(2025, 4, 1) if c in (2, 3) else None}
        for c in range(1, 5)])
    db = open_database(path)
    try:
        settings = {"holdout_share": 0.1, "follow_up_days": 90, "cost_per_action": 20.0, "cost_per_offer": 100.0}
        empty = programme.measured_programme(db, store, as_of=date(2025, 9, 30), value_per_saved=100,
                                             settings=settings)
        assert empty.needs.startswith("The measured programme needs a control group")
        with store.engine.begin() as conn:  # groups written as the at-risk page would, on 1 Mar 2025
            conn.execute(sa.insert(actions.holdout_assignments), [
                {"customer_id": c, "period": "2025", "held_out": c in (3, 4), "share": 0.5,
                 "assigned_on": date(2025, 3, 1), "list_as_of": date(2025, 2, 28), "assigned_by": "dana",
                 "created_at": datetime(2025, 3, 1)} for c in range(1, 5)])
        actions.record_action(store, 1, by="dana", status="attempted", outcome="no answer")  # dated today: outside
        result = programme.measured_programme(db, store, as_of=date(2025, 9, 30), value_per_saved=100,
                                              settings=settings)
    finally:
        db.close()
    # worked 1, 2: one churned (2); held out 3, 4: one churned (3) -> no difference
    assert (result.worked, result.worked_churned, result.held_out, result.held_out_churned) == (2, 1, 2, 1)
    assert result.uplift == 0 and result.actions == 0 and math.isnan(result.roi)


# --- the migration ---------------------------------------------------------------------------------

def test_upgrade_from_0001_keeps_existing_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'actions.sqlite'}"
    engine = sa.create_engine(url)
    old = ActionStore(engine, url)
    actions.upgrade(old, "0001")
    assert actions.schema_version(old) == "0001"
    with engine.begin() as conn:  # rows as the 0001 app wrote them
        conn.execute(sa.text("insert into customer_actions (customer_id, status, owner, created_at, created_by) "
                             "values (7, 'reached', 'dana', '2026-01-02 10:00:00', 'dana')"))
        conn.execute(sa.text("insert into audit_log (occurred_at, actor, action, detail, row_count) "
                             "values ('2026-01-02 10:00:00', 'dana', 'record_action', 'customer 7', 1)"))
        assert "holdout_assignments" not in sa.inspect(conn).get_table_names()
    old.close()
    store = actions.open_store(url)  # runs 0002
    try:
        assert actions.schema_version(store) == actions.HEAD == "0002"
        case = actions.current_cases(store).iloc[0]
        assert (case["customer_id"], case["status"], case["owner"]) == (7, "reached", "dana")
        assert actions.audit_entries(store)["detail"].tolist() == ["customer 7"]
        actions.assign_holdout(store, [7, 8], date(2026, 1, 31), share=0.1, by="dana")
        assert actions.holdout_groups(store)["customer_id"].tolist() == [7, 8]
    finally:
        store.close()


# --- the generated sample: a planted uplift to recover ----------------------------------------------

def test_the_sample_plants_an_uplift_the_measurement_recovers(sample_db, sample_db_path):
    # the session sample (10,000 customers, seed 11) wrote its simulated year to the store next to it
    store = actions.open_store(f"sqlite:///{sample_db_path.parent / 'actions.sqlite'}")
    try:
        groups = actions.holdout_groups(store)
        info = sample_db.schema_info()
        planted = float(info["planted_holdout_uplift"])
        result = programme.measured_programme(
            sample_db, store, as_of=date.fromisoformat(info["as_of_date"]), value_per_saved=1000.0,
            settings={"holdout_share": 0.1, "follow_up_days": 90, "cost_per_action": 20.0, "cost_per_offer": 100.0})
    finally:
        store.close()
    assert 0.08 <= groups["held_out"].mean() <= 0.12  # the generator's 10 % share, by the app's own draw
    assert result.measured and result.held_out_contacted == 0  # the control group was never contacted
    assert planted > 0.02  # a real effect was planted...
    assert result.uplift_low <= planted <= result.uplift_high  # ...and the interval holds it
    assert result.actions > result.worked * 0.5 and result.offers > 0  # the outreach was logged and priced


def test_the_sample_action_store_is_deterministic_by_seed(tmp_path):
    from sample_data.generate import generate

    frames = []
    for where in ("a", "b"):
        generate(tmp_path / where / "sample.duckdb", customers=2_000, seed=5)
        store = actions.open_store(f"sqlite:///{tmp_path / where / 'actions.sqlite'}")
        try:
            frames.append((actions.holdout_groups(store), actions.action_log(store)))
        finally:
            store.close()
    (groups_a, log_a), (groups_b, log_b) = frames
    assert len(groups_a) > 0 and len(log_a) > 0
    pd.testing.assert_frame_equal(groups_a, groups_b)
    pd.testing.assert_frame_equal(log_a, log_b)


def test_programme_settings_default_and_refuse_bad_values(tmp_path, monkeypatch):
    from analytics import config

    settings = tmp_path / "retention.toml"
    monkeypatch.setenv("RETENTION_CONFIG", str(settings))
    settings.write_text("[display]\ncurrency = '$'\n")
    assert config.programme_settings() == {"holdout_share": 0.10, "follow_up_days": 90, "cost_per_action": 20.0,
                                           "cost_per_offer": 100.0}
    settings.write_text("[actions]\nholdout_share = 0.2\nfollow_up_days = 60\ncost_per_offer = 0\n")
    assert config.programme_settings() == {"holdout_share": 0.2, "follow_up_days": 60, "cost_per_action": 20.0,
                                           "cost_per_offer": 0.0}
    for line, message in (("holdout_share = 1", r"holdout_share = 1; use a share in \[0, 1\)"),
                          ("holdout_share = '10%'", r"holdout_share = '10%'; use a share"),
                          ("follow_up_days = 2.5", r"follow_up_days = 2.5; use whole days >= 1"),
                          ("cost_per_action = -5", r"cost_per_action = -5; use an amount >= 0")):
        settings.write_text(f"[actions]\n{line}\n")
        with pytest.raises(ValueError, match=message):
            config.programme_settings()
