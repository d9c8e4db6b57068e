"""Benchmark the sample generator at scale: wall time and peak memory of one run.

    .venv/bin/python -m benchmarks.bench_generate --customers 1000000 --out /tmp/bench-1m.duckdb

Targets (issue 2): 1M customers with 20M+ touchpoints in ≤ 5 minutes and ≤ 6 GiB peak
resident memory on 2 cores. The generator runs in a child process so its peak RSS is
measured alone (resource.getrusage of the children). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("/tmp/retention-bench-1m.duckdb"))
    args = parser.parse_args()

    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sample_data.generate", "--customers", str(args.customers),
         "--seed", str(args.seed), "--out", str(args.out), "--quiet"],
        check=True,
    )
    seconds = time.perf_counter() - started
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # KiB -> GiB

    con = duckdb.connect(str(args.out), read_only=True)
    counts = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0]  # noqa: S608 - fixed names
              for t in ("customers", "touchpoints", "monthly_revenue")}
    con.close()
    result = {
        "customers_requested": args.customers,
        **{f"rows_{k}": v for k, v in counts.items()},
        "seconds": round(seconds, 1),
        "peak_rss_gib": round(peak_gib, 2),
        "file_gib": round(args.out.stat().st_size / 1024**3, 2),
        "target": "<= 300 s and <= 6 GiB for 1M customers / 20M+ touchpoints",
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
