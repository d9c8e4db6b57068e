"""Per-page render times through Streamlit's AppTest: cold (empty result cache, warm
process), warm (rerun with the same filter) and after a filter change (a segment picked
in the sidebar: every cached result misses again).

    python -m benchmarks.bench_pages [--db data/sample.duckdb] [--repeat 3]

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
]
TARGET_COLD, TARGET_CHANGE = 1.5, 0.5


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure(page: str) -> tuple[float, float, float]:
    """(cold, warm, filter change) seconds for one page, in a fresh AppTest session."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    app = str(ROOT / "dashboard" / "app.py")
    at = AppTest.from_file(app, default_timeout=300)
    at.switch_page("../pages/glossary.py").run()  # imports, database, sidebar choices
    st.cache_data.clear()
    at.switch_page(f"../pages/{page}")
    cold = _timed(at.run)
    if at.exception:
        raise RuntimeError(f"{page}: {[e.message for e in at.exception]}")
    warm = _timed(at.run)
    at.sidebar.multiselect(key="flt_segments").select("consumer")
    change = _timed(at.run)
    return cold, warm, change


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "sample.duckdb"), help="DuckDB file to render")
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the median is printed")
    args = parser.parse_args(argv)
    if not Path(args.db).is_file():
        print(f"no database at {args.db}; run `make sample` first")
        return 1
    os.environ["RETENTION_DB"] = str(Path(args.db).resolve())
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    print(f"database: {args.db}; median of {args.repeat} runs; AppTest, no browser")
    print(f"{'page':26s} {'cold':>7s} {'warm':>7s} {'filter':>7s}   targets ≤{TARGET_COLD} s cold, "
          f"≤{TARGET_CHANGE} s filter change")
    for title, page in PAGES:
        runs = [measure(page) for _ in range(args.repeat)]
        cold, warm, change = (statistics.median(r[i] for r in runs) for i in range(3))
        flags = ("" if cold <= TARGET_COLD else " cold>target") + ("" if change <= TARGET_CHANGE else " filter>target")
        print(f"{title:26s} {cold:6.2f}s {warm:6.2f}s {change:6.2f}s {flags}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
