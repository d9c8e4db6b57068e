"""Prepare the next filter change while the server is idle.

A filter value of a shape already seen binds to a kept query plan (analytics/plans.py)
and costs only the queries' run. The *first* filter in a list — all segments → one — is a
new shape: each of the page's 10–20 queries is built and compiled, about 0.3 s more. A
user reads a page for a few seconds before touching the sidebar, so after each page run
one background thread builds the plans for "one more value in one list" (segments first)
and keeps them.

It never competes with a page: it waits while any script run is in progress and until
the server has been quiet for 0.3 s, and builds one plan (~20–40 ms of Python) at a time,
so a run that starts meanwhile waits at most that long. It builds only SQL — no query runs. On by default; `RETENTION_PREPARE_FILTERS=0`
(or `[dashboard] prepare_filters = false` in retention.toml) turns it off, as the test
suite does. See docs/decisions/012-query-plans-per-filter-shape.md.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from analytics import config, plans
from analytics.db import Database

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
# after a run ends Streamlit still sends its last messages, and a user's clicks often come
# in quick succession: start building only once the server has been quiet this long
_QUIET_SECONDS = 0.3
_lock = threading.Lock()
_idle = threading.Condition(_lock)
_runs_in_progress = 0
_last_run_ended = 0.0
_pending = 0
_jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_worker: threading.Thread | None = None


def enabled() -> bool:
    env = os.environ.get("RETENTION_PREPARE_FILTERS")
    if env is not None:
        return env.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(config.settings().get("dashboard", {}).get("prepare_filters", True))


@contextmanager
def script_run() -> Iterator[None]:
    """Mark a page run in progress: preparation waits until none is."""
    global _runs_in_progress, _last_run_ended
    with _lock:
        _runs_in_progress += 1
    try:
        yield
    finally:
        with _lock:
            _runs_in_progress -= 1
            _last_run_ended = time.monotonic()


def after_page(db: Database, used: list[tuple]) -> int:
    """Queue the plans the next filter change will likely need, given the plans the page
    run `used` (`analytics.plans.recording`); how many."""
    if not enabled() or not used:
        return 0
    jobs = plans.plans_to_prepare(db, used)
    if not jobs:
        return 0
    global _pending, _worker
    with _lock:
        _pending += len(jobs)
        for job in jobs:
            _jobs.put(job)
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="retention-radar-prepare", daemon=True)
            _worker.start()
    return len(jobs)


def _work() -> None:
    global _pending
    while True:
        job = _jobs.get()
        while True:
            with _lock:
                if _runs_in_progress == 0 and time.monotonic() - _last_run_ended >= _QUIET_SECONDS:
                    break
            time.sleep(_POLL_SECONDS)
        try:
            job()
        except Exception:  # a plan that cannot be built now is built when a page needs it
            log.debug("preparing a query plan failed", exc_info=True)
        with _lock:
            _pending -= 1
            if _pending == 0:
                _idle.notify_all()


def wait_until_prepared(timeout: float | None = None) -> bool:
    """Block until every queued plan is built (for the benchmark and tests); whether it
    finished within `timeout` seconds."""
    with _lock:
        return _idle.wait_for(lambda: _pending == 0, timeout=timeout)
