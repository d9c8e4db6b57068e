"""Kill the writers mid-write (issue 16, "Load and faults"): processes append actions to one
SQLite action store in a loop and print each row id once `record_action` has returned (the
acknowledgement the page shows as "Action saved."); they are SIGKILLed while writing,
restarted, and killed again. After that, the store must open cleanly (integrity check,
schema at HEAD) and hold every acknowledged action exactly once, with its audit row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from analytics import actions

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 3
ROUNDS = 2            # kill, restart, kill again
ACKS_BEFORE_KILL = 40  # per writer and round, at least

# A writer: record actions for its own customers forever; after each acknowledged write,
# print "<row id> <note>" and flush — a line on stdout is an acknowledged update.
WRITER = """
import sys
from analytics import actions
url, writer, round_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = actions.open_store(url)
statuses = ("attempted", "reached", "offer_made", "saved")
seq = 0
while True:
    note = f"w{writer}-r{round_}-{seq}"
    row_id = actions.record_action(store, 1000 * writer + seq % 7, by=f"agent{writer}",
                                   status=statuses[seq % 4], note=note)
    print(row_id, note, flush=True)
    seq += 1
"""


def _start(url: str, writer: int, round_: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, url, str(writer), str(round_)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def _kill_after(procs: list[subprocess.Popen], acks: int, timeout_s: float = 120) -> dict[str, int]:
    """Read each writer's acknowledgements until every one has `acks`, SIGKILL them all
    (mid-write: they never pause), then read what they acknowledged before dying."""
    acknowledged: dict[str, int] = {}
    counts = [0] * len(procs)
    deadline = time.monotonic() + timeout_s
    while min(counts) < acks:
        assert time.monotonic() < deadline, f"writers too slow: {counts}"
        for i, proc in enumerate(procs):
            if counts[i] >= acks:
                continue
            line = proc.stdout.readline()
            assert line, f"writer {i} died: {proc.stderr.read()[-2000:]}"
            row_id, note = line.split()
            acknowledged[note] = int(row_id)
            counts[i] += 1
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    for proc in procs:
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # acknowledged after our last read, before the kill: whole lines only — the kill can
        # land mid-print, and a line cut short was never an acknowledgement
        for line in proc.stdout.read().split("\n")[:-1]:
            if line.strip():
                row_id, note = line.split()
                acknowledged[note] = int(row_id)
    return acknowledged


def test_every_acknowledged_action_survives_sigkill_and_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'actions.sqlite'}"
    actions.open_store(url).close()  # migrated once, so the writers race on writes, not on the schema
    acknowledged: dict[str, int] = {}
    for round_ in range(ROUNDS):
        procs = [_start(url, w, round_) for w in range(WRITERS)]
        acknowledged |= _kill_after(procs, ACKS_BEFORE_KILL)
    assert len(acknowledged) >= WRITERS * ROUNDS * ACKS_BEFORE_KILL

    # the store opens cleanly after the kills
    store = actions.open_store(url)
    assert actions.schema_version(store) == actions.HEAD
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        rows = conn.execute(sa.select(actions.customer_actions.c.id, actions.customer_actions.c.note)).all()
        audited = conn.execute(sa.select(sa.func.count()).select_from(actions.audit_log)).scalar()
    stored = {}
    for row_id, note in rows:
        assert note not in stored, f"{note} stored twice"
        stored[note] = row_id
    # every acknowledged update is there, under the id it was acknowledged with
    missing = {n: i for n, i in acknowledged.items() if stored.get(n) != i}
    assert missing == {}
    # at most one unacknowledged row per killed writer (committed, killed before printing)
    assert len(stored) - len(acknowledged) <= WRITERS * ROUNDS
    # an action and its audit row commit together: never one without the other
    assert audited == len(stored)
    # and the store keeps working
    actions.record_action(store, 1, by="dana", status="reached")
    assert actions.current_cases(store, [1])["status"].tolist() == ["reached"]
    store.close()
