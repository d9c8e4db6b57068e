"""Per-page render times through Streamlit's AppTest, with where the time goes.

Each measurement runs in a fresh Python process (a freshly started server): the app is
warmed up on the glossary (imports, database, sidebar choices), every Streamlit cache is
cleared, and then one page is timed through five steps:

- cold    — first visit: every metric queried (cubes computed);
- warm    — the same page again, same filter;
- filter  — a first filter: all segments → one ("consumer");
- switch  — that segment switched to another ("small_business");
- period  — the period's start moved three months earlier (a new period: new cubes).

Each step's wall time is split into the engine (Ibis compile + DuckDB run + fetch to
pandas, measured by wrapping the backend's `to_pandas`/`to_pyarrow`/`execute`), slices (pandas:
`analytics.cubes.slice_cube`, where the checkout has cubes) and the rest (Streamlit,
plotly, the page's own Python). For the cold step it also re-runs every query the page
ran as plain SQL on the engine (`backend.compile` + `raw_sql`, no Ibis conversion, no
pandas) and prints page time ÷ raw query time.

    python -m benchmarks.bench_pages [--db data/sample.duckdb] [--repeat 3] [--page Overview ...]
    python -m benchmarks.bench_pages --before <git rev>   # the same, for that revision too,
                                                           # interleaved, side by side

`--before` checks the revision out into a temporary git worktree and measures both
checkouts in one run, alternating, so the machine's drift hits both alike; ratios
(after ÷ before) are printed. Targets (measured, not asserted), issue 15: on the 50k sample
filter change and switch ≤ 0.5 s, period change ≤ 0.8 s, cold ≤ 1.5 s; on 1M customers
cold ≤ 3 s and a filter change ≤ 0.5 s. Medians of `--repeat` runs. AppTest runs the script
in-process, without a browser: drawing in the browser is not included.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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
STEPS = ("cold", "warm", "filter", "switch", "period")
TARGET_COLD, TARGET_FILTER, TARGET_PERIOD = 1.5, 0.5, 0.8
LARGE_CUSTOMERS, TARGET_COLD_LARGE = 500_000, 3.0


# --- the driver: runs inside the checkout being measured ------------------------------------

class Clock:
    """Seconds spent in engine calls and in cube slicing, and the engine calls made."""

    def __init__(self) -> None:
        self.engine = 0.0
        self.slices = 0.0
        self.calls: list[tuple[object, object]] = []  # (backend, expression)
        self._depth = 0

    def _wrap(self, original, attr: str, record: bool = False):
        clock = self

        def timed(*args, **kwargs):
            if clock._depth:  # to_pandas calls execute: count the outer call only
                return original(*args, **kwargs)
            clock._depth += 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                setattr(clock, attr, getattr(clock, attr) + time.perf_counter() - start)
                clock._depth -= 1
                if record and len(args) >= 2:
                    clock.calls.append((args[0], args[1]))

        return timed

    def install(self) -> None:
        import ibis

        backend = type(ibis.duckdb.connect())  # the class Database.ibis() builds
        for name in ("execute", "to_pandas", "to_pyarrow"):
            setattr(backend, name, self._wrap(getattr(backend, name), "engine", record=True))
        try:  # the kept-plan layer of revisions before issue 15
            from analytics import compiled  # type: ignore[attr-defined]

            for name in ("plan", "run_plan"):
                setattr(compiled.Backend, name, self._wrap(getattr(compiled.Backend, name), "engine"))
        except ImportError:
            pass
        try:
            from analytics import cubes

            cubes.slice_cube = self._wrap(cubes.slice_cube, "slices")
        except ImportError:
            pass


def _raw_seconds(calls) -> tuple[float, int]:
    """The page's queries re-run as plain SQL on their backend — the engine's own time —
    and how many could not be (SQL naming an in-memory table the backend no longer holds)."""
    total, skipped = 0.0, 0
    for backend, expr in calls:
        try:
            sql = backend.compile(expr)
            start = time.perf_counter()
            backend.raw_sql(sql).to_arrow_table()
            total += time.perf_counter() - start
        except Exception:  # noqa: BLE001 — left out, and counted
            skipped += 1
    return total, skipped


def drive(page: str) -> dict:
    """One fresh-process measurement of `page` (see module docstring)."""
    import logging
    from datetime import date

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    logging.disable(logging.WARNING)
    clock = Clock()
    clock.install()
    at = AppTest.from_file(str(Path.cwd() / "dashboard" / "app.py"), default_timeout=600)
    at.switch_page("../pages/glossary.py").run()
    st.cache_data.clear()
    try:
        from dashboard import prepare  # revisions before issue 15 prepared plans while idle
    except ImportError:
        prepare = None
    at.switch_page(f"../pages/{page}")
    out: dict = {}

    def step(name: str, run) -> None:
        engine, slices = clock.engine, clock.slices
        clock.calls.clear()
        start = time.perf_counter()
        run()
        wall = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(f"{page} {name}: {[e.message for e in at.exception]}")
        out[name] = {"s": wall, "engine": clock.engine - engine, "slices": clock.slices - slices}
        if name == "cold":
            out[name]["raw"], out[name]["raw_skipped"] = _raw_seconds(list(clock.calls))
            out[name]["queries"] = len(clock.calls)
        if prepare is not None:  # as the old benchmark did: the reader waits for it
            prepare.wait_until_prepared(timeout=120)

    step("cold", at.run)
    step("warm", at.run)
    at.sidebar.multiselect(key="flt_segments").select("consumer")
    step("filter", at.run)
    at.sidebar.multiselect(key="flt_segments").unselect("consumer").select("small_business")
    step("switch", at.run)
    period = at.sidebar.date_input(key="flt_period")
    start, end = period.value
    month = start.month - 3
    moved = date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    period.set_value((moved, end))
    step("period", at.run)
    return out


# --- the runner -------------------------------------------------------------------------------

def _measure(checkout: Path, db: str, page: str) -> dict:
    env = {**os.environ, "RETENTION_DB": db, "PYTHONPATH": f"{checkout}{os.pathsep}{_DRIVER_DIR}"}
    done = subprocess.run([sys.executable, "-c",
                           "import json; from benchmarks_driver import drive; "
                           f"print('RESULT ' + json.dumps(drive({page!r})))"],
                          cwd=checkout, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{checkout} {page}: {done.stderr.strip().splitlines()[-1:] }")


_DRIVER_DIR = Path(tempfile.mkdtemp(prefix="rr-bench-driver-"))


def _install_driver() -> None:
    """This file's driver, importable by the checkouts' processes as `benchmarks_driver`
    (the old revision has its own, different benchmarks package)."""
    (_DRIVER_DIR / "benchmarks_driver.py").write_text(Path(__file__).read_text())


def _median(runs: list[dict], step: str, key: str) -> float:
    return statistics.median(r[step][key] for r in runs)


def _line(title: str, runs: list[dict]) -> str:
    cells = " ".join(f"{_median(runs, s, 's'):6.2f}s" for s in STEPS)
    cold = _median(runs, "cold", "s")
    engine, slices = _median(runs, "cold", "engine"), _median(runs, "cold", "slices")
    raw = _median(runs, "cold", "raw")
    skipped, queries = _median(runs, "cold", "raw_skipped"), _median(runs, "cold", "queries")
    share = f"{engine / cold:4.0%} {slices / cold:4.0%} {max(cold - engine - slices, 0) / cold:4.0%}"
    filt = max(_median(runs, "filter", "s"), _median(runs, "switch", "s"))
    fe = max(_median(runs, "filter", "engine"), _median(runs, "switch", "engine"))
    return (f"{title:26s} {cells}   {share}   {cold / raw if raw else float('nan'):5.1f}x"
            f" ({queries - skipped:.0f}/{queries:.0f} q)   filter: engine {fe:5.2f}s of {filt:5.2f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "sample.duckdb"), help="DuckDB file to render")
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the median is printed")
    parser.add_argument("--before", metavar="REV", help="also measure this git revision, interleaved")
    parser.add_argument("--before-db", metavar="FILE",
                        help="a copy of --db for the old revision (whose rollups it built itself: a "
                        "rollup another version built counts as stale there). Default: --db")
    parser.add_argument("--json", default=str(ROOT / "bench-results" / "pages.json"),
                        help="where to write the figures as JSON (gitignored folder)")
    parser.add_argument("--page", action="append", default=None, metavar="NAME",
                        help="only this page (title or file stem, case-insensitive); repeatable")
    args = parser.parse_args(argv)
    pages = PAGES
    if args.page:
        wanted = {name.casefold() for name in args.page}
        pages = [(t, p) for t, p in PAGES if t.casefold() in wanted or Path(p).stem.casefold() in wanted]
        if not pages:
            parser.error(f"unknown page(s) {sorted(wanted)}; choose from {[t for t, _ in PAGES]}")
    db = str(Path(args.db).resolve())
    if not Path(db).is_file():
        print(f"no database at {db}; run `make sample` first")
        return 1
    import duckdb

    con = duckdb.connect(db, read_only=True)
    customers = con.execute("select count(*) from customers").fetchone()[0]
    con.close()
    cold_target = TARGET_COLD_LARGE if customers >= LARGE_CUSTOMERS else TARGET_COLD
    _install_driver()
    checkouts = {"after": ROOT}
    worktree = None
    if args.before:
        worktree = Path(tempfile.mkdtemp(prefix="rr-before-"))
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(worktree), args.before],
                       check=True)
        checkouts = {"before": worktree, "after": ROOT}
    print(f"database: {db} ({customers:,} customers); median of {args.repeat} fresh-process runs; AppTest, "
          f"no browser. Targets: cold ≤{cold_target} s, filter/switch ≤{TARGET_FILTER} s, period ≤{TARGET_PERIOD} s")
    print(f"{'page':26s} " + " ".join(f"{s:>7s}" for s in STEPS)
          + "   cold: engine/slices/rest   page÷raw")
    results: dict = {name: {} for name in checkouts}
    try:
        for title, page in pages:
            runs: dict[str, list[dict]] = {name: [] for name in checkouts}
            for _ in range(args.repeat):
                for name, checkout in checkouts.items():  # interleaved: drift hits both
                    on = str(Path(args.before_db).resolve()) if name == "before" and args.before_db else db
                    runs[name].append(_measure(checkout, on, page))
            for name in checkouts:
                label = title if len(checkouts) == 1 else f"{title} [{name}]"
                print(_line(label[:26] if len(label) <= 26 else label[:20] + f"[{name[:4]}]", runs[name]), flush=True)
                results[name][title] = {s: {k: _median(runs[name], s, k) for k in runs[name][0][s]} for s in STEPS}
            if "before" in runs:
                ratios = " ".join(f"{_median(runs['after'], s, 's') / _median(runs['before'], s, 's'):6.2f}x"
                                  for s in STEPS)
                print(f"{'  after ÷ before':26s} {ratios}", flush=True)
    finally:
        if worktree is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)])
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"database": db, "repeat": args.repeat, "before": args.before,
                                               "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
