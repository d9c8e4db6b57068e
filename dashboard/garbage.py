"""Keep Python's full garbage collections short on the dashboard server.

A page render allocates tens of thousands of short-lived objects (Ibis nodes, pandas
frames, plotly figures), so the cyclic collector runs often, and now and then a *full*
collection walks every tracked object in the process: about 270,000 after the first page
(mostly the modules of streamlit, pandas, plotly, Ibis and sqlglot). Measured on the 50k
sample, that walk took 0.14–0.17 s and landed inside one filter change in three.

Those objects live as long as the process, so after a script run that imported new
modules (the first page, and the first visit of a page that needs another library) they
are moved to the permanent generation (`gc.freeze()`), which collections skip. Objects
created later are collected as before. Garbage cycles that happen to be pending at that
moment stay in memory for good — a bounded cost, since modules are imported a bounded
number of times (no collection is forced first: it would add that same 0.15 s). See docs/decisions/012-query-plans-per-filter-shape.md.
"""

from __future__ import annotations

import gc
import sys
import threading

_lock = threading.Lock()
_modules_at_last_freeze = 0


def freeze_long_lived_objects() -> None:
    """After a script run that imported modules: exempt every object alive now from
    future garbage collections."""
    global _modules_at_last_freeze
    with _lock:
        if len(sys.modules) > _modules_at_last_freeze:
            _modules_at_last_freeze = len(sys.modules)
            gc.freeze()
