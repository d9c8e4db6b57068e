"""AppTest: the work queue on the At-risk page (issue 16) — log an action in the customer
360 and see it in the case's action log, the list's Status / Case owner columns and "My
list"; find a customer who is not on the list and open their 360. The action store is a
SQLite file in tmp_path (RETENTION_ACTIONS_URL)."""

from __future__ import annotations

from analytics import actions
from analytics.agents import directory_from_database
from analytics.db import open_database
from analytics.at_risk import AtRiskCriteria, at_risk_customers
from dashboard import work_queue
from tests.app.apptest import default_filter, no_exception, run_page

PAGE = "at_risk.py"


def test_an_action_logged_in_the_360_shows_everywhere(monkeypatch, tmp_path, scored_db, scored_db_path):
    url = f"sqlite:///{tmp_path / 'actions.sqlite'}"
    monkeypatch.setenv("RETENTION_ACTIONS_URL", url)
    at = run_page(monkeypatch, scored_db_path, PAGE)
    no_exception(at)
    table = at.dataframe[0].value
    assert {"Status", "Case owner", "Follow-up"} <= set(table.columns)
    assert set(table["Status"]) == {"New"}  # nobody acted yet
    cid = int(table["ID"].iloc[2])
    at.selectbox(key="at_risk_customer").set_value(cid).run()
    no_exception(at)
    assert any("No actions logged" in c.value for c in at.caption)
    at.selectbox(key=f"case_status_{cid}").set_value("reached")
    at.checkbox(key=f"case_take_{cid}").check()
    at.text_input(key=f"case_outcome_{cid}").input("thinking about the offer")
    at.text_area(key=f"case_note_{cid}").input("asked for 10% off")
    at.button(key=f"case_save_{cid}").click().run()
    no_exception(at)
    assert [s.value for s in at.success] == [work_queue.SAVED]
    # the form starts again from the case as saved: a second save changes only what is touched
    assert at.selectbox(key=f"case_status_{cid}").value == "reached"
    assert not at.checkbox(key=f"case_take_{cid}").value
    assert (at.text_input(key=f"case_outcome_{cid}").value, at.text_area(key=f"case_note_{cid}").value) == ("", "")
    # the store holds it, written by the local user
    store = actions.open_store(url)
    log = actions.timeline(store, cid)
    assert log[["status", "owner", "outcome", "note", "created_by"]].values.tolist() == [
        ["reached", "local user", "thinking about the offer", "asked for 10% off", "local user"]]
    # the 360's action log and the list's columns show it after the rerun (AppTest reruns the
    # whole page on a click; in a browser the case panel is a fragment and reruns alone, and
    # the list follows at the next full run: tests/e2e/test_kill_server_mid_write.py)
    shown = next(d.value for d in at.dataframe if "By" in d.value.columns)
    assert shown[["Status", "Owner", "Note", "By"]].values.tolist() == [
        ["Reached", "local user", "asked for 10% off", "local user"]]
    row = at.dataframe[0].value.set_index("ID").loc[cid]
    assert (row["Status"], row["Case owner"]) == ("Reached", "local user")
    # My list: the local user's open case
    at.toggle(key="at_risk_my_list").set_value(True).run()
    no_exception(at)
    mine = next(d.value for d in at.dataframe if "Due" in d.value.columns)
    assert mine["ID"].tolist() == [cid] and mine["Status"].tolist() == ["Reached"]
    # closing the case takes it off My list
    at.selectbox(key=f"case_status_{cid}").set_value("saved")
    at.button(key=f"case_save_{cid}").click().run()
    no_exception(at)
    assert not any("Due" in d.value.columns for d in at.dataframe)
    assert any("No open case is yours" in c.value for c in at.caption)
    assert actions.timeline(store, cid)["status"].tolist() == ["saved", "reached"]
    store.close()


def test_search_opens_a_customer_not_on_the_list(monkeypatch, tmp_path, scored_db, scored_db_path):
    monkeypatch.setenv("RETENTION_ACTIONS_URL", f"sqlite:///{tmp_path / 'actions.sqlite'}")
    flt = default_filter(scored_db_path)
    listed = set(at_risk_customers(scored_db, flt, AtRiskCriteria(min_probability=0.10))
                 .customers["customer_id"].head(500))
    con = scored_db.cursor()
    cid, name = next((int(i), n) for i, n in con.execute(
        "select customer_id, full_name from customers where full_name is not null order by customer_id").fetchall()
        if int(i) not in listed)
    at = run_page(monkeypatch, scored_db_path, PAGE)
    at.text_input(key="at_risk_search").input(str(cid)).run()
    no_exception(at)
    pick = at.selectbox(key="at_risk_search_pick")
    assert pick.options[0].startswith(f"{name} · #{cid}")
    pick.set_value(cid).run()
    no_exception(at)
    assert at.selectbox(key="at_risk_customer").value == cid
    assert any(m.value == f"### {name} · #{cid}" for m in at.markdown)
    assert any(m.value.startswith("**Case** — status New") for m in at.markdown)


def test_bulk_assign_the_shown_rows(monkeypatch, tmp_path, scored_db_path):
    url = f"sqlite:///{tmp_path / 'actions.sqlite'}"
    monkeypatch.setenv("RETENTION_ACTIONS_URL", url)
    at = run_page(monkeypatch, scored_db_path, PAGE)
    at.slider(key="at_risk_min_probability").set_value(60).run()  # a short list
    ids = at.dataframe[0].value["ID"].tolist()
    assert 0 < len(ids) <= 500
    at.multiselect(key="at_risk_assign_pick").select(ids[0]).select(ids[1])
    # the sample's agents directory: the owner is picked by code and shown by name
    db = open_database(scored_db_path)
    try:
        directory = directory_from_database(db).set_index("id")["name"]
    finally:
        db.close()
    picker = at.selectbox(key="at_risk_assign_owner")
    picker.select_index(picker.options.index(directory["ret-003"]))  # the options show names
    at.button(key="at_risk_assign").click().run()
    no_exception(at)
    table = at.dataframe[0].value.set_index("ID")
    assert table.loc[ids[:2], "Case owner"].tolist() == [directory["ret-003"]] * 2 != ["ret-003"] * 2
    assert (table.loc[ids[2:], "Case owner"] == "").all()  # no owner yet: blank
    at.button(key="at_risk_take").click().run()  # nothing picked: every shown customer, to me
    no_exception(at)
    assert set(at.dataframe[0].value["Case owner"]) == {"local user"}
    store = actions.open_store(url)
    audit = actions.audit_entries(store)
    assert audit.loc[audit["action"] != "holdout", "row_count"].tolist() == [len(ids), 2]
    # working the list recorded its groups first (decision 022); no held-out customer was assigned
    groups = actions.holdout_groups(store)
    held = set(groups.loc[groups["held_out"], "customer_id"])
    assert audit["action"].tolist()[-1] == "holdout" and audit["row_count"].iloc[-1] == len(groups)
    assert held and not held & set(ids) and actions.current_cases(store, held).empty
    store.close()


def test_a_held_out_customer_found_by_search_is_marked_do_not_contact(monkeypatch, tmp_path, scored_db_path):
    url = f"sqlite:///{tmp_path / 'actions.sqlite'}"
    monkeypatch.setenv("RETENTION_ACTIONS_URL", url)
    at = run_page(monkeypatch, scored_db_path, PAGE)  # working the list holds out part of it
    no_exception(at)
    store = actions.open_store(url)
    groups = actions.holdout_groups(store)
    store.close()
    held = int(groups.loc[groups["held_out"], "customer_id"].iloc[0])
    worked = int(groups.loc[~groups["held_out"], "customer_id"].iloc[0])
    assert held not in at.dataframe[0].value["ID"].tolist()
    at.text_input(key="at_risk_search").input(str(held)).run()
    at.selectbox(key="at_risk_search_pick").set_value(held).run()
    no_exception(at)
    assert any("Control group — do not contact" in w.value for w in at.warning)
    at.text_input(key="at_risk_search").input(str(worked)).run()
    at.selectbox(key="at_risk_search_pick").set_value(worked).run()
    no_exception(at)
    assert not any("Control group" in w.value for w in at.warning)


def test_the_timeline_names_the_agents(monkeypatch, tmp_path, scored_db_path):
    """The sample's agents directory names the service and retention agents on the 360's
    timeline too, not only the case owners."""
    monkeypatch.setenv("RETENTION_ACTIONS_URL", f"sqlite:///{tmp_path / 'actions.sqlite'}")
    db = open_database(scored_db_path)
    try:
        names = directory_from_database(db).set_index("id")["name"]
    finally:
        db.close()
    at = run_page(monkeypatch, scored_db_path, PAGE)
    no_exception(at)
    agents: set[str] = set()
    for cid in at.dataframe[0].value["ID"].iloc[:5]:  # the 360 of the first few customers
        at.selectbox(key="at_risk_customer").set_value(int(cid)).run()
        no_exception(at)
        timeline = next(d.value for d in at.dataframe if {"What", "Agent"} <= set(d.value.columns))
        agents |= {a for a in timeline["Agent"] if a}
    assert agents and agents <= set(names) and not agents & set(names.index)
