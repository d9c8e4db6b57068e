"""Start the dashboard with its caches warmed for the default view.

    python -m dashboard.serve [streamlit options, e.g. --server.port 8501]

The same as `streamlit run dashboard/app.py [options]` (what `make run` calls), plus one
background thread started with the server: once Streamlit's runtime is up it imports what
the pages need (pandas, Ibis, plotly, scipy, scikit-learn-free analytics: ~10 s on a busy
2-core box) and computes, through the same cached wrappers the pages call
(`dashboard.data`), what the first page shows for the filter a new session starts with —
the sidebar's choices and the Overview's headlines for the last 365 days — and pays what
a process's first script run pays once (`_warm_first_run_costs`). So the first visit
finds its results cached instead of paying for imports and queries (issue 17,
docs/decisions/025-first-run-in-background.md). A visit during the warm-up waits only for
what is left of it (Streamlit computes one cached value once). When the database file is
replaced (the background scoring run swaps its scored copy in, an import) the thread
warms the default view again for the new file.

Warming is best effort: a database that cannot be opened, or any failure, is left for
the pages to report as they do today; the thread never stops the server.
"""

from __future__ import annotations

import atexit
import gc
import logging
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
RUNTIME_WAIT_S = 120
RECHECK_S = 5  # how often the database file is looked at for a replacement


def warm_default_view() -> str:
    """Compute and cache the sidebar's facts and the Overview for a new session's filter;
    returns one line saying what was done. Needs Streamlit's runtime (the server)."""
    from analytics import periods
    from analytics.filters import RetentionFilter
    from dashboard import data, sidebar
    import_what_pages_need()  # a no-op after `main`; loads them when warmed on its own (tests)
    _warm_first_run_costs()

    if data.database_error() is not None:
        return "no usable database; nothing to warm"
    as_of, history_start = data.as_of_date(), data.history_start()
    data.dimension_values()
    data.data_present()
    flt = RetentionFilter(sidebar.default_start(as_of, history_start), as_of)
    data.headlines(flt, periods.QUARTER_TO_DATE)
    return f"the Overview for {flt.start:%d %b %Y} – {flt.end:%d %b %Y}"


def _warm_first_run_costs() -> None:
    """What the first script run in a process pays once, whatever the page, found by
    profiling the Overview's first run after the warm-up (2.7–6.5 s of it, on a busy box):
    pandas' Styler (the targets table's Met/Missed colours; its module imports matplotlib,
    ~2 s); the emoji catalogue `st.set_page_config(page_icon=...)` checks the icon against
    (~1 s); Streamlit's one-off check, on the first element a process draws, that it is not
    run from a REPL (`inspect.stack()` resolving every frame's module: ~0.9 s on the script
    thread's deep stack, a few ms here); and the plotly modules a first chart loads lazily
    (the Figure class, a line's properties, the JSON writer Streamlit sends it with).
    Drawing outside a script run draws nothing."""
    import pandas.io.formats.style  # noqa: F401
    import plotly.graph_objects as go
    import streamlit as st
    import streamlit.emojis  # noqa: F401

    st.empty()
    st.plotly_chart(go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"width": 1})))


def _freeze_warm_objects() -> None:
    """Collect once, then move every object alive now (modules, the warm caches) out of
    the garbage collector's reach: Streamlit collects all generations after every script
    run (`runner.postScriptGC`), which otherwise walks these ~325,000 objects each time
    (0.15 s at load 3, 0.6 s under load, holding the lock the server's event loop also
    needs). Frozen objects are still freed when nothing refers to them; only a cycle among
    them would stay — until exit, where they are unfrozen for the interpreter's last
    collection (else DuckDB's bindings report the objects in such cycles as leaked:
    decision 025's quiet exit)."""
    gc.collect()
    gc.freeze()
    atexit.unregister(gc.unfreeze)  # once, however often the view is warmed
    atexit.register(gc.unfreeze)


def _database_key() -> tuple[str, float] | None:
    """The configured database's (path, modification time) — what every cached result is
    keyed by — or None when there is none to read."""
    from dashboard import data

    try:
        return data.db_key()
    except (OSError, ValueError):
        return None


def _warm(started: float, what_for: str) -> tuple[str, float] | None:
    """One warm-up; prints what it did. Returns the database key it warmed."""
    # cached calls from a thread outside a script run are fine; Streamlit would warn on each
    context_log = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = context_log.level
    context_log.setLevel(logging.ERROR)
    key = _database_key()
    try:
        what = warm_default_view()
        _freeze_warm_objects()
        print(f"  Warmed the caches for the default view{what_for} ({what}) in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
    except Exception as err:  # best effort: the pages report problems themselves
        print(f"  Could not warm the caches ({type(err).__name__}: {err}); pages compute on first visit",
              flush=True)
    finally:
        context_log.setLevel(level)
    return key


def _warm_when_running() -> None:
    """Warm once the runtime is up, then again whenever the database file is replaced (the
    background scoring run swapping its scored copy in, an import, a regenerated sample):
    every cached result is keyed by the file's modification time, so the first view after
    a swap would otherwise compute the Overview again."""
    from streamlit.runtime import Runtime

    started = time.perf_counter()
    deadline = time.monotonic() + RUNTIME_WAIT_S
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not Runtime.exists():
        return
    warmed = _warm(started, "")
    while Runtime.exists():
        time.sleep(RECHECK_S)
        now = _database_key()
        if now is not None and now != warmed:
            warmed = _warm(time.perf_counter(), " again after the database file changed")


def import_what_pages_need() -> None:
    """The modules the first page imports (pandas, Ibis, DuckDB, plotly, scipy through the
    metrics, the dashboard's own), loaded before the server listens: a visitor who comes
    the moment it answers then waits only for the default view's queries, not for ~2–4 s
    of imports on top (issue 17: the first page ≤ 3 s after a server start)."""
    import pandas.io.formats.style  # noqa: F401  (the targets table's Met/Missed colours)
    import plotly.graph_objects  # noqa: F401

    import analytics.metrics  # noqa: F401
    import charts.overview  # noqa: F401
    from dashboard import data, glossary, score_progress, sidebar, tables, ui  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    import_what_pages_need()
    print(f"  Loaded the analytics modules in {time.perf_counter() - started:.1f} s; starting the server",
          flush=True)
    threading.Thread(target=_warm_when_running, name="warm-default-view", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
