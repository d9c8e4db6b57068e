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


def main() -> int:
    failed = []
    for name in ORDER:
        if importlib.util.find_spec(f"benchmarks.{name}") is None:
            continue
        print(f"\n=== {name} ===", flush=True)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
