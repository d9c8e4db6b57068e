"""Kill the server during writes (issue 16, "Load and faults"): on restart every
acknowledged update is there.

The real Streamlit server runs over the scored e2e sample with a fresh SQLite action store
(RETENTION_ACTIONS_URL), started through tests/e2e/writing_server.py so that the server's
own process also saves without pause (a thread calling `dashboard.data.record_action`, the
page's write path, and noting each committed save in an acknowledgement file). In each
round a browser session opens a customer's 360 on the At-risk page and presses "Save
action": once until the page acknowledges it (the case line and the action log show the
new row), then again — and while that save is in flight and the server's writer is
mid-write, the server's whole process group is SIGKILLed. The server is restarted on the
same store for the next round, where the page must show the case's full log.

Then the store must open cleanly (integrity check, schema at HEAD) and hold every
acknowledged save exactly once under its acknowledged id, each row whole (valid status,
author, time), with exactly one audit row per action (an action and its audit row commit
together). The in-flight browser save is either whole or absent. What makes this true is
the store's SQLite settings (analytics/actions.py, decision 021): WAL journal with
synchronous=FULL, one transaction per save.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from analytics import actions
from tests.e2e.conftest import assert_no_error, screenshot, start_server, wait_until_idle
from tests.e2e.writing_server import WRITER_CUSTOMERS

pytestmark = pytest.mark.e2e

ROUNDS = 2
SERVER_ACKS_BEFORE_KILL = 30  # the server's writer has saved at least this many before the kill
LOGGED = re.compile(r"Actions — (\d+) logged")


def _acks(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        row_id, note = line.split()
        out[note] = int(row_id)
    return out


def _open_case(page, base: str) -> tuple[int, int]:
    """The At-risk page with the 360 of the list's first customer: (customer id, actions shown)."""
    page.goto(f"{base}/at_risk", timeout=180_000)
    wait_until_idle(page, 180_000)
    picker = page.get_by_role("combobox", name=re.compile(r"^Customer"))
    picker.click()
    picker.press("ArrowDown")  # by keyboard: the option list re-renders under a click
    picker.press("Enter")
    heading = page.locator("h3", has_text=re.compile(r" · #\d+")).first
    heading.wait_for(timeout=120_000)
    customer_id = int(re.search(r"#(\d+)", heading.inner_text()).group(1))
    page.get_by_text(re.compile(r"^Case — ")).first.wait_for(timeout=120_000)
    wait_until_idle(page, 120_000)
    shown = page.get_by_text(LOGGED).all_inner_texts()
    return customer_id, int(LOGGED.search(shown[0]).group(1)) if shown else 0


def _fill(page, status_label: str, note: str) -> None:
    box = page.get_by_role("combobox", name="Status", exact=True)
    box.click()
    box.press_sequentially(status_label)
    box.press("Enter")
    page.get_by_label("Note", exact=True).fill(note)


def test_every_acknowledged_save_survives_killing_the_server(browser, e2e_db, tmp_path):
    url = f"sqlite:///{tmp_path / 'actions.sqlite'}"
    acknowledged: dict[str, int | None] = {}  # note -> row id (None: a browser save, id unknown)
    in_flight: list[str] = []
    customer_id = None
    for round_ in range(ROUNDS):
        ack_file = tmp_path / f"acks-{round_}.txt"
        proc, base = start_server(
            e2e_db, tmp_path / f"streamlit-{round_}.log", ready_s=180, new_session=True,
            env_extra={"RETENTION_ACTIONS_URL": url},
            launcher=("-m", "tests.e2e.writing_server", str(ack_file), f"srv{round_}"))
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        try:
            cid, logged = _open_case(page, base)
            assert customer_id in (None, cid)
            customer_id = cid
            if round_:  # after the restart the page shows the case's whole log, as the store holds it
                store = actions.open_store(url)
                assert logged == len(actions.timeline(store, cid)) >= round_
                store.close()
            # an acknowledged save: the case line and the log show it at once (a fragment rerun)
            note = f"browser-r{round_}-acked"
            _fill(page, "Reached" if round_ == 0 else "Offer made", note)
            page.get_by_role("button", name="Save action").click()
            expect(page.get_by_text(f"Actions — {logged + 1} logged").first).to_be_visible(timeout=60_000)
            saved = "Reached" if round_ == 0 else "Offer made"
            expect(page.get_by_text(f"Case — status {saved}").first).to_be_visible()
            # the form starts from the case as saved, the note emptied
            expect(page.get_by_role("combobox", name="Status", exact=True)).to_have_value(saved)
            expect(page.get_by_label("Note", exact=True)).to_have_value("")
            assert_no_error(page)
            acknowledged[note] = None
            if round_ == 0:
                screenshot(page, "kill-test-acknowledged-save")
            # the server's own writer is saving all along; let it acknowledge some first
            deadline = time.monotonic() + 120
            while len(_acks(ack_file)) < SERVER_ACKS_BEFORE_KILL:
                assert proc.poll() is None, f"the server died: {(tmp_path / f'streamlit-{round_}.log').read_text()[-2000:]}"
                assert time.monotonic() < deadline, "the server's writer acknowledged too few saves"
                time.sleep(0.2)
            # a save in flight, and the server's writer mid-write: kill the server's process group
            _fill(page, "Saved", f"browser-r{round_}-in-flight")
            page.get_by_role("button", name="Save action").click()
            time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL
            in_flight.append(f"browser-r{round_}-in-flight")
        finally:
            context.close()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        server_acks = _acks(ack_file)
        assert len(server_acks) >= SERVER_ACKS_BEFORE_KILL
        acknowledged |= server_acks

    store = actions.open_store(url)  # opens (and migrates) cleanly after the kills
    assert actions.schema_version(store) == actions.HEAD
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        rows = conn.execute(sa.select(actions.customer_actions)).mappings().all()
        audited = conn.execute(sa.select(sa.func.count()).select_from(actions.audit_log)
                               .where(actions.audit_log.c.action == "record_action")).scalar()
    stored: dict[str, int] = {}
    for row in rows:
        assert row["note"] not in stored, f"{row['note']} stored twice"
        stored[row["note"]] = row["id"]
        # whole rows only: every column a save writes is there
        assert row["status"] in actions.STATUSES and row["created_by"] and row["created_at"] is not None
        assert row["customer_id"] in (customer_id, *WRITER_CUSTOMERS)
    # every acknowledged save is there, the server writer's under the id it was acknowledged with
    missing = {n: i for n, i in acknowledged.items() if n not in stored or (i is not None and stored[n] != i)}
    assert missing == {}
    # beyond them only what was in flight: the browser's last save and at most one writer save per kill
    extra = set(stored) - set(acknowledged)
    unacked_writer = {n for n in extra if n.startswith("srv")}  # committed, killed before its ack line
    assert len(unacked_writer) <= ROUNDS and extra - unacked_writer <= set(in_flight), sorted(extra)[:10]
    assert audited == len(stored)  # an action and its audit row commit together (the page also audits its holdout)
    browser_rows = actions.timeline(store, customer_id)
    assert {f"browser-r{r}-acked" for r in range(ROUNDS)} <= set(browser_rows["note"])
    store.close()
