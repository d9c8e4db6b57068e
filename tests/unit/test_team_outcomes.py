"""The retention team's outcomes from the action store (analytics/team_outcomes.py): the
proactive funnel, saves, reach rate and first-attempt SLA per agent, on a hand-built log
whose rows carry chosen timestamps. Each case is a trap for a plausible wrong definition
(current status instead of "ever", a case opened before the period, a step after `as_of`,
a skipped step, a reassignment, the SLA boundary). Each test runs on SQLite and on Postgres
(the `store_url` fixture), so the SQL of the reads is checked on both dialects."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics import actions
from analytics.team_outcomes import NO_OWNER, team_outcomes

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
AS_OF = datetime(2026, 4, 10, 12, 0)


@pytest.fixture
def store(store_url):  # SQLite and Postgres (tests/unit/conftest.py)
    s = actions.open_store(store_url)
    yield s
    s.close()


def log(store, rows):
    """Append (customer_id, status, created_at "MM-DD HH:MM" in 2026, owner) rows in order."""
    with store.engine.begin() as conn:
        conn.execute(sa.insert(actions.customer_actions), [
            {"customer_id": cid, "status": status, "owner": owner, "follow_up_date": None, "outcome": None,
             "note": None, "created_at": datetime.strptime(f"2026-{at}", "%Y-%m-%d %H:%M"), "created_by": "lead"}
            for cid, status, at, owner in rows])


@pytest.fixture
def worked(store):
    log(store, [
        (6, "new", "02-28 10:00", "dana"),        # opened before March: not March's, whatever it did in March
        (1, "new", "03-02 09:00", "dana"),
        (6, "attempted", "03-01 09:00", "dana"),
        (1, "attempted", "03-03 08:00", "dana"),  # 23 h after opening: SLA met
        (1, "reached", "03-03 08:05", "dana"),
        (2, "new", "03-04 10:00", "dana"),
        (1, "offer_made", "03-05 11:00", "dana"),
        (1, "saved", "03-06 11:00", "dana"),
        (2, "attempted", "03-07 10:00", "dana"),  # 72 h: SLA missed
        (2, "reached", "03-07 10:30", "dana"),
        (2, "attempted", "03-07 10:31", "dana"),  # a correction: the case still *was* reached
        (3, "attempted", "03-10 14:00", "eli"),   # opened by its first attempt: 0 h
        (3, "saved", "03-11 09:00", "eli"),       # saved straight after the attempt: counts as reached and offered
        (9, "attempted", "03-15 09:00", "dana"),
        (9, "reached", "03-16 09:00", "eli"),     # reassigned: eli's case now
        (4, "new", "03-20 09:00", "eli"),
        (4, "lost", "03-21 09:00", "eli"),        # closed as lost, never attempted: not contacted, SLA missed
        (5, "new", "03-31 23:00", None),
        (5, "attempted", "04-02 23:00", ""),       # exactly 48 h: met (at most N days); blank owner = none
        (7, "attempted", "04-01 00:00", "eli"),   # opened in April
        (5, "reached", "04-15 09:00", ""),         # after as_of: not counted
    ])
    return store


def test_funnel_saves_reach_and_sla_hand_worked(worked):
    out = team_outcomes(worked, *MARCH, sla_days=2, as_of=AS_OF)
    # March's cases: 1, 2, 3, 4, 5, 9 (6 opened in February, 7 in April)
    assert out.cases["customer_id"].tolist() == [1, 2, 3, 4, 5, 9]
    assert out.cases["stage"].tolist() == [4, 2, 4, 0, 1, 2]
    t = out.team
    # contacted 1,2,3,5,9 · reached 1,2,3,9 · offered 1,3 · saved 1,3
    assert (t.cases, t.contacted, t.reached, t.offered, t.saved) == (6, 5, 4, 2, 2)
    assert t.reach_rate == pytest.approx(4 / 5) and t.save_rate == pytest.approx(2 / 5)
    assert (t.offer_rate, t.close_rate) == (pytest.approx(0.5), pytest.approx(1.0))
    # SLA: met 1 (23 h), 3 (0 h), 5 (48 h), 9 (0 h); missed 2 (72 h), 4 (never, deadline passed)
    assert (t.sla_due, t.sla_met) == (6, 4) and t.sla_attainment == pytest.approx(4 / 6)
    # days to the first attempt: 0, 0, 23/24, 2, 3 -> median 23/24
    assert t.median_days_to_attempt == pytest.approx(23 / 24)
    assert out.funnel["step"].tolist() == ["contacted", "reached", "offer made", "saved"]
    assert out.funnel["count"].tolist() == [5, 4, 2, 2]
    assert out.funnel["conversion"].tolist() == pytest.approx([1.0, 0.8, 0.5, 1.0])
    assert out.funnel["share_of_start"].tolist() == pytest.approx([1.0, 0.8, 0.4, 0.4])
    assert out.logged


def test_per_agent_goes_by_the_current_owner(worked):
    agents = team_outcomes(worked, *MARCH, sla_days=2, as_of=AS_OF).by_agent.set_index("agent")
    # most cases first, no owner last: eli 3, 4, 9 · dana 1, 2 · nobody 5
    assert agents.index.tolist() == ["eli", "dana", NO_OWNER]
    got = agents[["cases", "contacted", "reached", "offered", "saved", "sla_due", "sla_met"]]
    assert got.loc["eli"].tolist() == [3, 2, 2, 1, 1, 3, 2]
    assert got.loc["dana"].tolist() == [2, 2, 2, 1, 1, 2, 1]
    assert got.loc[NO_OWNER].tolist() == [1, 1, 0, 0, 0, 1, 1]
    assert agents.loc["dana", "sla_attainment"] == pytest.approx(0.5)
    assert pd.isna(agents.loc[NO_OWNER, "close_rate"])  # no offer: no rate, not 0
    assert agents[["cases", "contacted", "saved", "sla_due"]].sum().tolist() == [6, 5, 2, 6]


def test_cases_still_inside_their_window_are_not_judged(worked):
    # at 23:30 on 31 March case 5 is 30 minutes old and unattempted: not due yet
    out = team_outcomes(worked, *MARCH, sla_days=2, as_of=datetime(2026, 3, 31, 23, 30))
    assert (out.team.cases, out.team.contacted, out.team.sla_due, out.team.sla_met) == (6, 4, 5, 3)
    # with a 3-day SLA case 2 (72 h) meets it
    assert team_outcomes(worked, *MARCH, sla_days=3, as_of=AS_OF).team.sla_met == 5


def test_empty_store_and_empty_period(store, worked):
    out = team_outcomes(worked, date(2025, 1, 1), date(2025, 1, 31), as_of=AS_OF)
    assert out.logged and out.team.cases == 0 and out.funnel.empty and out.by_agent.empty
    assert pd.isna(out.team.reach_rate)


def test_a_store_without_actions_says_so(store_url):
    empty = actions.open_store(store_url)
    out = team_outcomes(empty, *MARCH)
    assert not out.logged and out.team.cases == 0 and out.funnel.empty
    assert list(out.by_agent.columns)[:3] == ["agent", "cases", "contacted"]
    empty.close()


def test_through_record_action(store):
    # the real write path: two agents' cases today
    actions.assign(store, [1, 2, 3], "dana", by="lead")
    actions.record_action(store, 1, by="dana", status="attempted")
    actions.record_action(store, 1, by="dana", status="reached")
    actions.record_action(store, 2, by="dana", status="attempted", owner="eli")
    today = date.today()
    t = team_outcomes(store, today, today).team
    assert (t.cases, t.contacted, t.reached, t.sla_met) == (3, 2, 1, 2)
    assert t.sla_due == 2  # case 3 is minutes old: not due
    by_agent = team_outcomes(store, today, today).by_agent
    assert by_agent["agent"].tolist() == ["dana", "eli"]


def test_bad_input_is_one_clear_line(store):
    with pytest.raises(ValueError, match="ends .* before it starts"):
        team_outcomes(store, date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValueError, match="above 0"):
        team_outcomes(store, *MARCH, sla_days=0)


def test_sla_days_from_the_config(tmp_path, monkeypatch):
    from analytics import config

    settings = tmp_path / "retention.toml"
    monkeypatch.setenv("RETENTION_CONFIG", str(settings))
    assert config.first_attempt_sla_days() == 2.0  # no file: the default
    settings.write_text("[actions]\nfirst_attempt_sla_days = 1.5\n")
    assert config.first_attempt_sla_days() == 1.5
    settings.write_text('[actions]\nfirst_attempt_sla_days = "two"\n')
    with pytest.raises(ValueError, match="first_attempt_sla_days = 'two'; give a number of days"):
        config.first_attempt_sla_days()
