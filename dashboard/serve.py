"""Start the dashboard with its caches warmed for the default view.

    python -m dashboard.serve [streamlit options, e.g. --server.port 8501]

The same as `streamlit run dashboard/app.py [options]` (what `make run` calls), plus one
background thread started with the server: once Streamlit's runtime is up it imports what
the pages need (pandas, Ibis, plotly, scipy, scikit-learn-free analytics: ~10 s on a busy
2-core box) and computes, through the same cached wrappers the pages call
(`dashboard.data`), what the first page shows for the filter a new session starts with —
the sidebar's choices and the Overview's headlines for the last 365 days. So the first
visit finds its results cached instead of paying for imports and queries
(issue 17, docs/decisions/025-first-run-in-background.md). A visit during the warm-up
waits only for what is left of it (Streamlit computes one cached value once).

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


def warm_default_view() -> str:
    """Compute and cache the sidebar's facts and the Overview for a new session's filter;
    returns one line saying what was done. Needs Streamlit's runtime (the server)."""
    from analytics import periods
    from analytics.filters import RetentionFilter
    from dashboard import data, sidebar
    # what the entry script and the Overview import (plotly, the chart builders, the page
    # helpers): imported here, a first visit finds them loaded
    import charts.overview  # noqa: F401
    from dashboard import glossary, score_progress, tables, ui  # noqa: F401
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
    profiling the Overview's first run after the warm-up (2.7–6.5 s of its time):
    pandas' Styler (the targets table's Met/Missed colours; its module imports matplotlib,
    ~2 s), the emoji catalogue `st.set_page_config(page_icon=...)` checks the icon against
    (~1 s), and Streamlit's one-off check, on the first element a process draws, that it
    is not run from a REPL (`inspect.stack()` resolving every frame's module: ~0.9 s on
    the script thread's deep stack, a few ms here). Drawing outside a script run draws
    nothing."""
    import pandas.io.formats.style  # noqa: F401
    import streamlit as st
    import streamlit.emojis  # noqa: F401

    st.empty()


def _freeze_warm_objects() -> None:
    """Collect once, then move every object alive now (modules, the warm caches) out of
    the garbage collector's reach: Streamlit collects all generations after every script
    run (`runner.postScriptGC`), which otherwise walks these ~2 million objects each time
    (0.3–0.6 s, holding the lock the server's event loop also needs). Frozen objects are
    still freed when nothing refers to them; only a cycle among them would stay — until
    exit, where they are unfrozen for the interpreter's last collection (else DuckDB's
    bindings report the objects in such cycles as leaked, decision 025's quiet exit)."""
    gc.collect()
    gc.freeze()
    atexit.register(gc.unfreeze)


def _warm_when_running() -> None:
    from streamlit.runtime import Runtime

    started = time.perf_counter()
    deadline = time.monotonic() + RUNTIME_WAIT_S
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not Runtime.exists():
        return
    # cached calls from a thread outside a script run are fine; Streamlit would warn on each
    context_log = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = context_log.level
    context_log.setLevel(logging.ERROR)
    try:
        what = warm_default_view()
        _freeze_warm_objects()
        print(f"  Warmed the caches for the default view ({what}) in {time.perf_counter() - started:.1f} s",
              flush=True)
    except Exception as err:  # best effort: the pages report problems themselves
        print(f"  Could not warm the caches ({type(err).__name__}: {err}); pages compute on first visit",
              flush=True)
    finally:
        context_log.setLevel(level)


def main(argv: list[str] | None = None) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    threading.Thread(target=_warm_when_running, name="warm-default-view", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
