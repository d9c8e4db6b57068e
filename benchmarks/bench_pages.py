"""Per-page render times through Streamlit's AppTest: cold (empty result cache, warm
process), warm (rerun with the same filter), after a first filter (a segment picked in the
sidebar: every cached result misses, and every query has a new shape — an added `IN`
predicate) and after switching that filter to another segment (results miss again; the
kept query plans of that shape are reused, docs/decisions/011 and 012).

"Cold" also forgets the compiled query templates, the kept query plans and the
rollup-freshness answer, as a freshly started server would, so every repeat measures a
first visit.

Before each filter change the benchmark waits, as a reader of the page would, until the server's idle-time preparation (dashboard/prepare.py: plans for one more
value in a filter list, built in a background thread) is done; the "prep" column is how
long that took in the background before the first filter. `--no-prepare` switches the preparation off, so the
first filter builds and compiles its new shapes itself.

    python -m benchmarks.bench_pages [--db data/sample.duckdb] [--repeat 3] [--page Overview ...]

Targets (measured, not asserted): ≤ 1.5 s cold and ≤ 0.5 s on a filter change on the
50,000-customer sample. The figure is the median of `--repeat` runs. AppTest runs the
script in-process, without a browser: chart drawing in the browser is not included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGES = [
    ("Overview", "overview.py"),
    ("Retention ROI & what-if", "retention_roi.py"),
    ("Churn funnel", "churn_funnel.py"),
    ("Service & signals", "service_signals.py"),
    ("Retention by segment", "retention_by_segment.py"),
    ("Customer value", "customer_value.py"),
    ("Data quality", "data_quality.py"),
    ("At-risk customers", "at_risk.py"),
    ("Model", "model.py"),
]
# Issue 5's targets: the default sample — ≤ 1.5 s cold, ≤ 0.5 s on a filter change; the
# 1M-customer file — ≤ 3 s cold (no filter-change target).
TARGET_COLD, TARGET_CHANGE = 1.5, 0.5
LARGE_CUSTOMERS, TARGET_COLD_LARGE = 500_000, 3.0


def _targets(db_path: str) -> tuple[float, float | None]:
    """(cold, filter change) targets for the file: the large-file targets from 500k customers."""
    import duckdb

    con = duckdb.connect(db_path, read_only=True)
    try:
        customers = con.execute("select count(*) from customers").fetchone()[0]
    finally:
        con.close()
    return (TARGET_COLD_LARGE, None) if customers >= LARGE_CUSTOMERS else (TARGET_COLD, TARGET_CHANGE)


class QueryClock:
    """Wall time spent inside Ibis queries on DuckDB (compile + run + fetch to pandas):
    the Ibis DuckDB backend's `execute`/`to_pandas` and the plan backend's `plan` (compile)
    and `run_plan` (run + fetch; analytics/plans.py) are wrapped at class level, so every
    metric's query is counted once however the module imported it. Building the Ibis
    expression before it is compiled is not counted."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0

    def install(self) -> None:
        import ibis

        # the class of the backend Database.ibis() builds, found without a private import
        backend = type(ibis.duckdb.connect())
        for name in ("execute", "to_pandas"):
            setattr(backend, name, self._wrap(getattr(backend, name)))

    def _wrap(self, original):
        clock = self

        def timed(*args, **kwargs):
            if clock._depth:  # to_pandas calls execute: count the outer call only
                return original(*args, **kwargs)
            clock._depth += 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - start
                clock._depth -= 1

        return timed


CLOCK = QueryClock()


def _timed(run) -> tuple[float, float]:
    """(wall seconds, of which in queries)."""
    before = CLOCK.seconds
    start = time.perf_counter()
    run()
    return time.perf_counter() - start, CLOCK.seconds - before


STEPS = ("cold", "warm", "prep", "filter", "switch")


def measure(page: str) -> list[tuple[float, float]]:
    """(seconds, seconds in queries) for each of STEPS on one page, in a fresh AppTest
    session."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from analytics import compiled
    from dashboard import data, prepare

    app = str(ROOT / "dashboard" / "app.py")
    at = AppTest.from_file(app, default_timeout=300)
    at.switch_page("../pages/glossary.py").run()  # imports, database, sidebar choices
    st.cache_data.clear()
    compiled.TEMPLATES.clear()
    data.database().read_only_facts.clear()
    at.switch_page(f"../pages/{page}")
    cold = _timed(at.run)
    if at.exception:
        raise RuntimeError(f"{page}: {[e.message for e in at.exception]}")
    warm = _timed(at.run)
    start = time.perf_counter()
    if not prepare.wait_until_prepared(timeout=120):
        raise RuntimeError(f"{page}: idle-time preparation did not finish in 120 s")
    prepared = (time.perf_counter() - start, 0.0)
    segments = at.sidebar.multiselect(key="flt_segments")
    segments.select("consumer")
    first_filter = _timed(at.run)
    prepare.wait_until_prepared(timeout=120)  # the reader looks at the filtered page
    segments = at.sidebar.multiselect(key="flt_segments")
    segments.unselect("consumer").select("small_business")
    switch = _timed(at.run)
    if at.exception:
        raise RuntimeError(f"{page}: {[e.message for e in at.exception]}")
    prepare.wait_until_prepared(timeout=120)  # nothing left running into the next repeat
    return [cold, warm, prepared, first_filter, switch]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "sample.duckdb"), help="DuckDB file to render")
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the median is printed")
    parser.add_argument("--json", default=str(ROOT / "bench-results" / "pages.json"),
                        help="where to write the figures as JSON (gitignored folder)")
    parser.add_argument("--page", action="append", default=None, metavar="NAME",
                        help="benchmark only this page (its title, e.g. Overview, or file stem, e.g. "
                        "service_signals; case-insensitive); repeatable. Default: every page")
    parser.add_argument("--no-prepare", action="store_true",
                        help="switch off the idle-time preparation of the next filter's query plans")
    args = parser.parse_args(argv)
    if args.no_prepare:
        os.environ["RETENTION_PREPARE_FILTERS"] = "0"
    pages = PAGES
    if args.page:
        wanted = {name.casefold() for name in args.page}
        pages = [(title, page) for title, page in PAGES
                 if title.casefold() in wanted or Path(page).stem.casefold() in wanted]
        unknown = wanted - {t.casefold() for t, _ in pages} - {Path(p).stem.casefold() for _, p in pages}
        if unknown:
            parser.error(f"unknown page(s) {sorted(unknown)}; choose from {[t for t, _ in PAGES]}")
    if not Path(args.db).is_file():
        print(f"no database at {args.db}; run `make sample` first")
        return 1
    os.environ["RETENTION_DB"] = str(Path(args.db).resolve())
    cold_target, change_target = _targets(args.db)
    import logging

    # AppTest's bare-mode warnings ("missing ScriptRunContext", "No runtime found") are noise
    # here; streamlit's loggers carry their own levels, so switch warnings off globally
    logging.disable(logging.WARNING)
    CLOCK.install()
    print(f"database: {args.db}; median of {args.repeat} runs; AppTest, no browser; "
          "(q …) = part of it spent in Ibis/DuckDB queries; prep = idle-time preparation of the next "
          "filter's plans, in the background before the first filter "
          + ("(switched off)" if args.no_prepare else "(waited for)"))
    print(f"{'page':26s} {'cold':>7s} {'(q)':>7s} {'warm':>7s} {'prep':>7s} {'filter':>7s} {'(q)':>7s} {'switch':>7s} {'(q)':>7s}"
          f"   targets ≤{cold_target} s cold" + (f", ≤{change_target} s filter change" if change_target else ""))
    results = {}
    for title, page in pages:
        runs = [measure(page) for _ in range(args.repeat)]
        med = {step: (statistics.median(r[i][0] for r in runs), statistics.median(r[i][1] for r in runs))
               for i, step in enumerate(STEPS)}
        flags = ("" if med["cold"][0] <= cold_target else " cold>target") + (
            "" if change_target is None or max(med["filter"][0], med["switch"][0]) <= change_target
            else " filter>target")
        print(f"{title:26s} {med['cold'][0]:6.2f}s {med['cold'][1]:6.2f}s {med['warm'][0]:6.2f}s {med['prep'][0]:6.2f}s "
              f"{med['filter'][0]:6.2f}s {med['filter'][1]:6.2f}s {med['switch'][0]:6.2f}s {med['switch'][1]:6.2f}s"
              f" {flags}", flush=True)
        results[title] = {"cold_s": med["cold"][0], "cold_query_s": med["cold"][1], "warm_s": med["warm"][0],
                          "idle_preparation_s": med["prep"][0],
                          "filter_change_s": med["filter"][0], "filter_change_query_s": med["filter"][1],
                          "filter_switch_s": med["switch"][0], "filter_switch_query_s": med["switch"][1]}
    if args.json:
        import json

        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"database": args.db, "repeat": args.repeat,
                                               "idle_preparation": not args.no_prepare, "pages": results},
                                              indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
