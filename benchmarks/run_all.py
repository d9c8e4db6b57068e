"""`make bench`: run every benchmark script in turn and print their figures.

Each script is standalone (`python -m benchmarks.<name> --help`); this runner only calls
them with their defaults, so the figures quoted in the README can be reproduced.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["bench_generate", "bench_metrics", "bench_bgnbd", "bench_scoring", "bench_pages", "bench_browser", "bench_report"]
BENCH_DB = "/tmp/retention-bench-1m.duckdb"  # written and cached by bench_generate

# Set-up a script needs before it measures anything meaningful: the page benchmarks need
# churn scores (the At-risk and Model pages are empty without them), and bench_pages reads
# the configured sample. Each step is a no-op when its result is already there.
PREPARE = {
    "bench_pages": [
        ["-m", "sample_data.generate", "--if-missing", "--customers", "50000", "--quiet"],
        ["-m", "analytics.score", "--if-missing", "--quiet"],
    ],
    "bench_browser": [
        ["-m", "analytics.score", "--db", BENCH_DB, "--if-missing", "--quiet"],
    ],
}


def main() -> int:
    failed = []
    for name in ORDER:
        if importlib.util.find_spec(f"benchmarks.{name}") is None:
            continue
        print(f"\n=== {name} ===", flush=True)
        for step in PREPARE.get(name, []):
            print(f"(set-up: python {' '.join(step)})", flush=True)
            subprocess.run([sys.executable, *step], cwd=HERE.parent)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
