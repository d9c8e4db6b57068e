"""AppTest: the "Retention team" section of the Churn funnel page (issue 16) — the proactive
funnel, saves, reach rate and first-attempt SLA of the cases logged in the action store,
with the per-agent table; one line when nothing is logged; shown even when the imported data
has no cancellation requests. The store is a SQLite file in tmp_path (RETENTION_ACTIONS_URL)."""

from __future__ import annotations

from datetime import date

from analytics import actions
from dashboard.team_outcomes import NOTHING_LOGGED
from tests.app.apptest import chart_count, metric_values, no_exception, run_page
from tests.builders import build_database

PAGE = "churn_funnel.py"
SECTION = "Retention team: cases worked in the app"
TEAM_KPIS = ["Cases opened", "Contacted", "Team reach rate", "Saves", "Tried within 2 days"]


def _store(monkeypatch, tmp_path) -> actions.ActionStore:
    url = f"sqlite:///{tmp_path / 'actions.sqlite'}"
    monkeypatch.setenv("RETENTION_ACTIONS_URL", url)
    monkeypatch.setenv("RETENTION_CONFIG", str(tmp_path / "none.toml"))  # the default 2-day SLA
    return actions.open_store(url)


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_nothing_logged_is_one_line(monkeypatch, tmp_path, sample_db_path):
    _store(monkeypatch, tmp_path).close()
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert SECTION in [s.value for s in at.subheader]
    assert any(NOTHING_LOGGED in c for c in _captions(at))
    assert not set(TEAM_KPIS) & set(metric_values(at))
    assert chart_count(at) == 7  # the reactive page's charts only


def test_logged_cases_fill_the_funnel_and_the_agent_table(monkeypatch, tmp_path, sample_db_path):
    store = _store(monkeypatch, tmp_path)
    actions.assign(store, [1, 2, 3, 4], "dana", by="lead")
    actions.assign(store, [5], "eli", by="lead")
    for cid, steps in {1: ["attempted", "reached", "offer_made", "saved"], 2: ["attempted", "reached", "lost"],
                       3: ["attempted"], 5: ["attempted", "reached", "offer_made"]}.items():
        for status in steps:
            actions.record_action(store, cid, by="dana", status=status)
    store.close()
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    values = metric_values(at)
    # 5 cases, 4 contacted (1, 2, 3, 5), 3 reached (1, 2, 5), 1 saved; all first attempts within minutes,
    # case 4 is minutes old and unattempted: not due
    # rates on so few cases are greyed (ui.kpi: fewer than takeaways.MIN_N)
    assert [values[k] for k in TEAM_KPIS] == ["5", "4", ":gray[75.0%]", "1", ":gray[100.0%]"]
    notes = {m.label: m.proto.delta_description for m in at.metric}
    assert notes["Saves"].startswith("25.0% of contacted")
    assert chart_count(at) == 8  # + the team funnel
    agents = next(d.value for d in at.dataframe if "Agent" in d.value.columns and "Cases" in d.value.columns)
    assert list(agents.columns) == ["Agent", "Cases", "Contacted", "Reached", "Offer made", "Saved", "Reach rate",
                                    "Save rate", "Tried ≤ 2 days", "SLA n", "Days to 1st try"]
    assert agents["Agent"].tolist() == ["dana", "eli"]
    assert agents[["Cases", "Contacted", "Reached", "Offer made", "Saved"]].values.tolist() == [
        [4, 3, 2, 1, 1], [1, 1, 1, 1, 0]]
    # a period before any case: says so, and no KPI
    at.date_input(key="team_period").set_value((date(2020, 1, 1), date(2020, 1, 31))).run()
    no_exception(at)
    assert "Cases opened" not in metric_values(at)
    assert any("No case was opened from 01 Jan 2020 to 31 Jan 2020" in i.value for i in at.info)


def test_the_section_shows_without_cancellation_requests(monkeypatch, tmp_path):
    db = build_database(tmp_path / "tiny.duckdb", customers=[{"customer_id": 1, "signup_date": date(2024, 1, 5)}])
    store = _store(monkeypatch, tmp_path)
    actions.record_action(store, 1, by="dana", status="attempted", owner="dana")
    store.close()
    at = run_page(monkeypatch, db, PAGE)
    no_exception(at)
    assert SECTION in [s.value for s in at.subheader]
    assert metric_values(at)["Contacted"] == "1"


def test_a_store_that_stopped_opens_on_its_last_30_days(monkeypatch, tmp_path, sample_db_path):
    """The sample's simulated year of work ends with its data: the default window is the
    30 days up to the newest logged action, not the 30 days up to today (empty)."""
    from datetime import datetime

    store = _store(monkeypatch, tmp_path)
    monkeypatch.setattr(actions, "_now", lambda: datetime(2026, 9, 20, 10, 0))
    actions.assign(store, [1, 2], "dana", by="lead")
    actions.record_action(store, 1, by="dana", status="attempted")
    monkeypatch.setattr(actions, "_now", lambda: datetime(2026, 8, 1, 10, 0))  # outside the window
    actions.assign(store, [3], "dana", by="lead")
    store.close()
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.date_input(key="team_period").value == (date(2026, 8, 22), date(2026, 9, 20))
    assert metric_values(at)["Cases opened"] == "2"
