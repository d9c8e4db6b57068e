"""Benchmark churn scoring at scale: training time, scoring time, peak memory.

    .venv/bin/python -m benchmarks.bench_scoring [--source /tmp/retention-bench-1m.duckdb]

Targets (issue 4), on 2 cores: training on a sample of at most 200,000 customers
≤ 2 minutes; scoring every active customer of the 1M-customer database (features,
calibrated probability, drivers, CLV, and writing `churn_scores`) ≤ 2 minutes; peak
resident memory ≤ 6 GiB.

The source database is never modified: it is copied next to it first (`--work`), and the
copy is scored. The run happens in a child process (the same steps as `python -m
analytics.score`), which reports its stage timings and its own peak RSS
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`); the parent adds the wall time and the load
average, since the box may be shared. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

TARGET = "training <= 120 s (<= 200k customers), scoring 1M <= 120 s, peak RSS <= 6 GiB, 2 cores"


def _child(db_path: Path, sample_size: int) -> int:
    """Runs in the child: score the copy, print one JSON line of figures."""
    from analytics.db import open_database
    from analytics.score import database_as_of, score_customers, write_scores

    started = time.perf_counter()
    db = open_database(db_path, read_only=False)
    try:
        as_of = database_as_of(db)
        run = score_customers(db, as_of, sample_size=sample_size,
                              progress=lambda m: print(m, file=sys.stderr, flush=True))
        t0 = time.perf_counter()
        write_scores(db, run)
        run.timings["write_s"] = time.perf_counter() - t0
        customers = db.cursor().execute("select count(*) from customers").fetchone()[0]
    finally:
        db.close()
    t = run.timings
    scoring = t["score_features_s"] + t["score_predict_explain_s"] + t["score_clv_s"] + t["write_s"]
    print(json.dumps({
        "customers": customers,
        "active_customers_scored": len(run.scores),
        "training_sample_customers": run.training.sample_customers,
        "training_rows": run.training.model.train_rows_,
        "training_s": round(t["training_s"], 1),
        "training_breakdown_s": {k: round(v, 1) for k, v in run.training.timings.items()},
        "scoring_s": round(scoring, 1),
        "scoring_breakdown_s": {k: round(v, 1) for k, v in t.items() if k != "training_s"},
        "total_s": round(time.perf_counter() - started, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
        "backtest_auc": {k: round(v["roc_auc"], 4) for k, v in run.card.metrics.items()},
    }), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path("/tmp/retention-bench-1m.duckdb"),
                        help="the 1M-customer database (read, never written)")
    parser.add_argument("--work", type=Path, default=None,
                        help="the copy to score (default: <source>-scoring.duckdb beside it)")
    parser.add_argument("--sample-size", type=int, default=200_000)
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return _child(args.child, args.sample_size)

    if not args.source.is_file():
        print(f"no database at {args.source}; build it with `python -m benchmarks.bench_generate`",
              file=sys.stderr)
        return 1
    work = args.work or args.source.with_name(args.source.stem + "-scoring.duckdb")
    shutil.copyfile(args.source, work)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_scoring", "--child", str(work),
                           "--sample-size", str(args.sample_size)],
                          stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if proc.returncode:
        print(proc.stdout)
        return proc.returncode
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures.update({
        "wall_s": round(wall, 1),
        "children_peak_rss_gib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2, 2),
        "cpus": os.cpu_count(),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "target": TARGET,
    })
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
