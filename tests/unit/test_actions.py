"""The action store (analytics/actions.py): an append-only log whose latest row per customer
is the case's state, "my list" ordering, bulk assign, validation, migrations, concurrent
writers, and independence from the analytics DuckDB file. The `store` tests run twice: on a
SQLite file in tmp_path and on a fresh Postgres database (`store_url`, tests/unit/conftest.py)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from analytics import actions
from analytics.actions import HEAD, KEEP, ActionStoreError
from tests.builders import build_database


@pytest.fixture
def store(store_url):
    s = actions.open_store(store_url)
    yield s
    s.close()


def test_latest_row_is_the_case_and_fields_carry_forward(store):
    actions.record_action(store, 7, by="dana", status="attempted", owner="dana", follow_up_date="2025-03-04",
                          outcome="no answer")
    actions.record_action(store, 7, by="dana", status="reached", note="wants a cheaper plan")
    actions.record_action(store, 8, by="eli", note="first look")  # no status: a new case
    actions.record_action(store, 7, by="eli", status="Offer made", owner=None)  # label form; clears the owner
    cases = actions.current_cases(store)
    assert cases["customer_id"].tolist() == [7, 8]
    seven = cases.iloc[0]
    # status from the last row; owner cleared by it; follow-up carried from the first row
    assert seven["status"] == "offer_made" and pd.isna(seven["owner"])
    assert seven["follow_up_date"] == pd.Timestamp("2025-03-04")
    assert pd.isna(seven["outcome"]) and pd.isna(seven["note"])  # outcome and note belong to their own action
    assert (seven["updated_by"], seven["actions"]) == ("eli", 3)
    eight = cases.iloc[1]
    assert (eight["status"], eight["note"], eight["actions"]) == ("new", "first look", 1)
    # a subset, and ids without a case are simply absent
    assert actions.current_cases(store, [8, 99])["customer_id"].tolist() == [8]
    assert actions.current_cases(store, []).empty


def test_timeline_is_the_whole_log_newest_first(store):
    for status in ("attempted", "attempted", "reached", "saved"):
        actions.record_action(store, 3, by="dana", status=status)
    actions.record_action(store, 4, by="dana", status="lost")
    log = actions.timeline(store, 3)
    assert log["status"].tolist() == ["saved", "reached", "attempted", "attempted"]
    assert log["id"].is_monotonic_decreasing and (log["customer_id"] == 3).all()
    assert actions.timeline(store, 5).empty and list(actions.timeline(store, 5).columns) == list(actions.ACTION_COLUMNS)


def test_my_list_order_hand_worked(store):
    r = actions.record_action
    r(store, 10, by="lead", status="attempted", owner="dana", follow_up_date=date(2025, 3, 5))
    r(store, 11, by="lead", status="reached", owner="dana", follow_up_date=date(2025, 3, 1))
    r(store, 12, by="lead", status="new", owner="dana", follow_up_date=date(2025, 3, 5))
    r(store, 13, by="lead", status="offer_made", owner="dana")                       # no follow-up: after dated ones
    r(store, 14, by="lead", status="saved", owner="dana", follow_up_date=date(2025, 1, 1))   # closed
    r(store, 15, by="lead", status="not_now", owner="dana")                          # closed: no snooze date
    r(store, 16, by="lead", status="not_now", owner="dana", follow_up_date=date(2025, 3, 2))  # snoozed: open
    r(store, 17, by="lead", status="attempted", owner="dana", follow_up_date=date(2025, 2, 1))
    r(store, 17, by="lead", owner="eli")                                             # reassigned: eli's now
    losses = pd.DataFrame({"customer_id": [10, 11, 12, 13, 17], "expected_loss": [50.0, 10.0, 200.0, 1000.0, 9e9]})
    mine = actions.my_list(store, "dana", losses)
    # 11 (Mar 1) · 16 (Mar 2, loss unknown) · 12 then 10 (both Mar 5: 200 before 50) · 13 (no date, 1000)
    assert mine["customer_id"].tolist() == [11, 16, 12, 10, 13]
    assert mine["expected_loss"].tolist()[2:] == [200.0, 50.0, 1000.0] and pd.isna(mine["expected_loss"].iloc[1])
    assert actions.my_list(store, "eli")["customer_id"].tolist() == [17]
    assert actions.my_list(store, "nobody").empty
    # without losses: the date order, ties by id
    assert actions.my_list(store, "dana")["customer_id"].tolist() == [11, 16, 10, 12, 13]
    with pytest.raises(ValueError, match="lacks column"):
        actions.my_list(store, "dana", pd.DataFrame({"customer_id": [10]}))


def test_bulk_assign(store):
    actions.record_action(store, 1, by="dana", status="reached", owner="dana", follow_up_date="2025-05-01")
    written = actions.assign(store, [1, 2, 3, 3], "eli", by="lead")
    assert written == 3
    cases = actions.current_cases(store).set_index("customer_id")
    assert cases["owner"].tolist() == ["eli", "eli", "eli"]
    assert cases["status"].tolist() == ["reached", "new", "new"]  # status carried; no case yet = new
    assert cases.loc[1, "follow_up_date"] == pd.Timestamp("2025-05-01")
    assert actions.timeline(store, 1)["owner"].tolist() == ["eli", "dana"]  # nothing lost: the old owner is history
    audit = actions.audit_entries(store)
    assert audit[["actor", "action", "row_count"]].values.tolist()[0] == ["lead", "assign", 3]
    assert audit["action"].tolist() == ["assign", "record_action"]
    with pytest.raises(ValueError, match="owner to assign to is required"):
        actions.assign(store, [1], "  ", by="lead")
    assert actions.assign(store, [], "eli", by="lead") == 0


def test_bad_input_is_refused_with_a_message(store):
    with pytest.raises(ValueError, match=r"unknown status 'called'; use one of: new, attempted, reached, "
                                         r"offer_made, saved, lost, not_now"):
        actions.record_action(store, 1, by="dana", status="called")
    with pytest.raises(ValueError, match="follow-up date is a day like"):
        actions.record_action(store, 1, by="dana", follow_up_date="next week")
    with pytest.raises(ValueError, match=r"by\) is required"):
        actions.record_action(store, 1, by=" ", status="new")
    with pytest.raises(ValueError, match="customer id is a whole number"):
        actions.record_action(store, "12a", by="dana")
    assert actions.current_cases(store).empty and actions.audit_entries(store).empty  # nothing half-written


def test_migrations_run_at_open_and_again_are_a_no_op(store_url, tmp_path):
    url = store_url
    first = actions.open_store(url)
    assert actions.schema_version(first) == HEAD
    actions.record_action(first, 1, by="dana", status="attempted")
    first.close()
    again = actions.open_store(url)
    actions.upgrade(again)
    assert actions.schema_version(again) == HEAD
    with again.engine.connect() as conn:
        assert conn.execute(sa.text(f"select version_num from {actions.VERSION_TABLE}")).scalars().all() == [HEAD]
    assert actions.current_cases(again)["status"].tolist() == ["attempted"]
    again.close()
    if url.startswith("sqlite"):
        # WAL journal: readers do not block the writer; FULL sync: a commit is on disk when acknowledged
        con = sqlite3.connect(tmp_path / "actions.sqlite")
        assert con.execute("pragma journal_mode").fetchone() == ("wal",)
        con.close()


def test_sqlite_connections_are_durable_and_wait_for_the_writer(tmp_path):
    # what decision 021's crash guarantee rests on, read back from a pooled connection
    store = actions.open_store(f"sqlite:///{tmp_path / 'actions.sqlite'}")
    with store.engine.connect() as conn:
        pragma = {name: conn.exec_driver_sql(f"pragma {name}").scalar()
                  for name in ("journal_mode", "synchronous", "busy_timeout")}
    store.close()
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": actions.BUSY_TIMEOUT_MS}  # 2 = FULL


def test_a_store_from_a_newer_version_is_refused(store_url):
    actions.open_store(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"update {actions.VERSION_TABLE} set version_num = :v"), {"v": "0099"})
    engine.dispose()
    with pytest.raises(ActionStoreError, match="newer version"):
        actions.open_store(store_url)


def test_two_threads_writing_at_once_both_land(store):
    per_thread = 40
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def agent(name: str, customer: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                # the same two cases from both threads: each write reads the case, then appends
                actions.record_action(store, customer + i % 2, by=name, status="attempted", note=f"{name} {i}")
        except BaseException as err:  # noqa: BLE001 - reported by the assert below
            errors.append(err)

    threads = [threading.Thread(target=agent, args=(n, 1)) for n in ("dana", "eli")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    notes = pd.concat([actions.timeline(store, 1), actions.timeline(store, 2)])["note"].tolist()
    assert sorted(notes) == sorted(f"{n} {i}" for n in ("dana", "eli") for i in range(per_thread))
    assert len(actions.audit_entries(store, limit=1000)) == 2 * per_thread


def test_concurrent_saves_on_one_case_never_build_on_a_stale_read(store):
    # four agents on ONE case: each save either sets the owner to its author or keeps it
    # (KEEP). Were the previous state read outside the write lock, a KEEP row could carry
    # an owner another agent had already replaced: the lost update of a read-then-append.
    agents, per_agent = ("dana", "eli", "noa", "omer"), 25
    start = threading.Barrier(len(agents))
    errors: list[BaseException] = []

    def agent(name: str) -> None:
        try:
            start.wait()
            for i in range(per_agent):
                actions.record_action(store, 42, by=name, owner=name if i % 2 == 0 else KEEP, note=f"{name} {i}")
        except BaseException as err:  # noqa: BLE001 - reported by the assert below
            errors.append(err)

    threads = [threading.Thread(target=agent, args=(n,)) for n in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    log = actions.timeline(store, 42).iloc[::-1].reset_index(drop=True)  # oldest first, in the store's order
    assert len(log) == len(agents) * per_agent and log["note"].is_unique
    for i in range(1, len(log)):
        name, n = log.at[i, "note"].split()
        expected = name if int(n) % 2 == 0 else log.at[i - 1, "owner"]
        assert log.at[i, "owner"] == expected, f"row {i} ({log.at[i, 'note']}) carried a stale owner"


def test_the_store_survives_replacing_the_analytics_file(tmp_path, monkeypatch):
    db = build_database(tmp_path / "analytics.duckdb", customers=[{"customer_id": 1, "signup_date": date(2024, 1, 1)}])
    monkeypatch.setenv("RETENTION_DB", str(db))
    monkeypatch.delenv("RETENTION_ACTIONS_URL", raising=False)
    monkeypatch.setenv("RETENTION_CONFIG", str(tmp_path / "none.toml"))
    store = actions.open_store()  # the default: a file of its own next to the analytics file
    assert store.where == f"sqlite:///{tmp_path / 'actions.sqlite'}"
    actions.record_action(store, 1, by="dana", status="reached", note="call back Tuesday")
    store.close()
    db.unlink()  # what an import or a re-score does: a new analytics file
    build_database(db, customers=[{"customer_id": 1, "signup_date": date(2024, 1, 1)}])
    reopened = actions.open_store()
    assert actions.timeline(reopened, 1)["note"].tolist() == ["call back Tuesday"]
    reopened.close()
    with pytest.raises(ValueError, match="is the analytics database"):
        actions.open_store(f"sqlite:///{db}")


def test_the_url_comes_from_the_environment_then_the_config(tmp_path, monkeypatch):
    from analytics import config

    monkeypatch.delenv("RETENTION_ACTIONS_URL", raising=False)
    settings = tmp_path / "retention.toml"
    settings.write_text('[actions]\nurl = "sqlite:///team/actions.sqlite"\n')
    monkeypatch.setenv("RETENTION_CONFIG", str(settings))
    assert config.actions_url() == f"sqlite:///{config.PROJECT_ROOT / 'team' / 'actions.sqlite'}"  # from the root
    monkeypatch.setenv("RETENTION_ACTIONS_URL", "postgresql+psycopg://agent:secret@db.local/retention")
    assert config.actions_url() == "postgresql+psycopg://agent:secret@db.local/retention"
    monkeypatch.setenv("RETENTION_ACTIONS_URL", "not a url")
    with pytest.raises(ValueError, match="is not a database URL"):
        config.actions_url()


def test_keep_is_the_default_and_none_clears(store):
    actions.record_action(store, 5, by="dana", owner="dana", follow_up_date=date(2025, 1, 2))
    actions.record_action(store, 5, by="dana", owner=KEEP, follow_up_date=None)
    case = actions.current_cases(store).iloc[0]
    assert case["owner"] == "dana" and pd.isna(case["follow_up_date"])


def test_exports_and_imports_are_audited_and_filtered_newest_first(store):
    actions.record_action(store, 7, by="ret-001", status="attempted")
    actions.audit(store, "ret-001", "export", "at-risk-20260101.csv (the list of ret-001)", 42)
    actions.audit(store, "local user", "import", "customers (c.csv) into data/x.duckdb", 1000)
    log = actions.audit_entries(store)
    assert log[["actor", "action", "row_count"]].values.tolist() == [
        ["local user", "import", 1000], ["ret-001", "export", 42], ["ret-001", "record_action", 1]]
    assert actions.audit_entries(store, actor="ret-001")["action"].tolist() == ["export", "record_action"]
    assert actions.audit_entries(store, action="export")["detail"].tolist() == [
        "at-risk-20260101.csv (the list of ret-001)"]
    assert actions.audit_entries(store, actor="ret-001", action="import").empty
    assert actions.audit_actors_and_actions(store) == (["local user", "ret-001"], ["export", "import",
                                                                                   "record_action"])


@pytest.mark.parametrize("actor, kind, rows, message", [
    ("", "export", 1, "who acted"), ("a", "", 1, "the audited action is required"),
    ("a", "x" * 51, 1, "at most 50"), ("a", "export", -1, "0 or more"),
])
def test_a_bad_audit_row_is_refused_in_one_line(store, actor, kind, rows, message):
    with pytest.raises(ValueError, match=message):
        actions.audit(store, actor, kind, "detail", rows)
    assert actions.audit_entries(store).empty


def test_action_log_reads_dates_and_the_programme_log_keeps_assigned_customers_only(store):
    actions.record_action(store, 1, by="dana", status="attempted", follow_up_date="2025-03-04")
    actions.record_action(store, 2, by="dana", status="reached")
    actions.record_action(store, 1, by="eli", status="saved")
    actions.assign_holdout(store, [1, 3], date(2025, 3, 1), share=0.0, by="lead", on=date(2025, 3, 2))
    log = actions.action_log(store)
    assert log["id"].tolist() == sorted(log["id"]) and log["customer_id"].tolist() == [1, 2, 1]
    assert log["follow_up_date"].iloc[0] == pd.Timestamp("2025-03-04") and pd.isna(log["follow_up_date"].iloc[1])
    assert str(log["created_at"].dtype) == "datetime64[ns]" and log["created_at"].notna().all()
    assert actions.action_log(store, [2])["customer_id"].tolist() == [2]
    # customer 1 is assigned (worked group), 3 assigned without actions, 2 never assigned
    programme = actions.programme_action_log(store)
    assert programme["customer_id"].tolist() == [1, 1] and programme["status"].tolist() == ["attempted", "saved"]
    groups = actions.holdout_groups(store)
    assert groups["customer_id"].tolist() == [1, 3] and not groups["held_out"].any()
    assert groups["assigned_on"].tolist() == [pd.Timestamp("2025-03-02")] * 2
    assert groups["list_as_of"].tolist() == [pd.Timestamp("2025-03-01")] * 2


def test_last_logged_day_is_the_newest_actions_day(store):
    assert actions.last_logged_day(store) is None
    actions.record_action(store, 1, by="dana", status="attempted")
    assert actions.last_logged_day(store) == pd.Timestamp.now(tz="UTC").date()
