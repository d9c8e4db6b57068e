"""Import benchmark: the sample generator's export imported from CSV and from Parquet.

    python -m benchmarks.bench_import [--customers 1000000] [--workdir /tmp/retention-bench-import]
                                      [--before REV [--before-customers 100000]] [--only csv|parquet]
                                      [--repeat 3]

Writes the export once (`python -m sample_data.generate --export-csv`), converts it to
Parquet, then runs `python -m analytics.load` on each in a child process and prints its
wall time, CPU time (user + system) and peak memory (that child's maximum resident set
size, from `os.wait4`); with `--repeat N` each import runs N times (formats interleaved)
and the median is printed after the runs — the figure a target is judged on. Issue 13's target: 1M customers / ~20M touchpoints in ≤ 3 min and
≤ 6 GiB on 2 cores.

`--before REV` also runs the loader of an older commit (checked out in a temporary git
worktree) on the same export, so before and after are measured in one run on the same
machine load; `--before-customers` gives it a smaller export (the old pandas loader takes
~25 min at 1M). The load average is printed: on a shared machine, wall time is an upper
bound and CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS, TARGET_GIB = 180.0, 6.0  # issue 13: 1M customers / ~20M touchpoints, 2 cores


def _export(customers: int, folder: Path) -> Path:
    csv = folder / f"csv-{customers}"
    if not (csv / "mapping.toml").is_file():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sample_data.generate", "--customers", str(customers), "--seed", "7",
                        "--quiet", "--export-csv", str(csv)], check=True, cwd=ROOT)
        print(f"  (export of {customers:,} customers written in {time.perf_counter() - started:.0f} s)")
    return csv


def _parquet(csv: Path) -> Path:
    folder = csv.with_name(csv.name.replace("csv-", "parquet-"))
    if (folder / "mapping.toml").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        for name in ("customers", "touchpoints", "monthly_revenue"):
            # read with the export's own types, so the Parquet file carries dates and numbers
            con.read_csv(str(csv / f"{name}.csv"), header=True, timestamp_format="%Y-%m-%d %H:%M:%S").write_parquet(
                str(folder / f"{name}.parquet"))
    finally:
        con.close()
    mapping = (csv / "mapping.toml").read_text().replace(".csv\"", ".parquet\"")
    (folder / "mapping.toml").write_text(mapping)
    return folder


def _run(mapping: Path, out: Path, code: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak GiB) of one `python -m analytics.load` run of the
    loader in `code`."""
    for stale in (out, out.with_name(out.name + ".bak")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "analytics.load", "--mapping", str(mapping), "--out", str(out)],
                             cwd=code, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(code)})
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the import of {mapping} failed (exit status {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 2**20  # KiB -> GiB (Linux)


def _measure(label: str, customers: int, workdir: Path, code: Path, only: str | None, repeat: int = 1) -> None:
    csv = _export(customers, workdir)
    parquet = _parquet(csv)
    rows = sum(1 for _ in (csv / "touchpoints.csv").open("rb")) - 1
    print(f"{label}: import of {customers:,} customers / {rows:,} touchpoints "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    runs: dict[str, list[tuple[float, float, float]]] = {}
    for n in range(repeat):
        for fmt, folder in (("parquet", parquet), ("csv", csv)):
            if only and fmt != only:
                continue
            seconds, cpu, peak = _run(folder / "mapping.toml", workdir / f"imported-{fmt}.duckdb", code)
            runs.setdefault(fmt, []).append((seconds, cpu, peak))
            print(f"  {fmt:8s} {seconds:7.1f} s wall  {cpu:7.1f} s CPU   peak {peak:5.2f} GiB"
                  f"   (run {n + 1}/{repeat}, load average {os.getloadavg()[0]:.1f})", flush=True)
    if repeat > 1:
        for fmt, measured in runs.items():
            wall, cpu, peak = (statistics.median(m[i] for m in measured) for i in range(3))
            verdict = "met" if wall <= TARGET_SECONDS and peak <= TARGET_GIB else "MISSED"
            print(f"  {fmt:8s} median of {repeat}: {wall:7.1f} s wall  {cpu:7.1f} s CPU   peak {peak:5.2f} GiB"
                  f"   target ≤ {TARGET_SECONDS:.0f} s, ≤ {TARGET_GIB:.0f} GiB: {verdict}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/retention-bench-import"))
    parser.add_argument("--before", default=None, metavar="REV", help="also run the loader of this commit")
    parser.add_argument("--before-customers", type=int, default=None,
                        help="export size for the --before run (default: --customers)")
    parser.add_argument("--only", choices=("csv", "parquet"), default=None)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each import (the median is printed)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.before:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            old = Path(tmp) / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(old), args.before],
                           check=True)
            try:
                size = args.before_customers or args.customers
                _measure(f"before ({args.before})", size, args.workdir, old, args.only)
                if size != args.customers:
                    _measure("after, same size", size, args.workdir, ROOT, args.only)
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    _measure("after", args.customers, args.workdir, ROOT, args.only, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
