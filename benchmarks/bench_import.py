"""Import benchmark: the sample generator's export imported from CSV and from Parquet.

    python -m benchmarks.bench_import [--customers 1000000] [--workdir /tmp/retention-bench-import]

Writes the export once (`python -m sample_data.generate --export-csv`), converts it to
Parquet, then runs `python -m analytics.load` on each in a child process and prints its
wall time and peak memory (the child's maximum resident set size). Issue 13's target:
1M customers / ~20M touchpoints in ≤ 3 min and ≤ 6 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb


def _export(customers: int, folder: Path) -> Path:
    csv = folder / f"csv-{customers}"
    if not (csv / "mapping.toml").is_file():
        subprocess.run([sys.executable, "-m", "sample_data.generate", "--customers", str(customers), "--seed", "7",
                        "--quiet", "--export-csv", str(csv)], check=True)
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


def _run(mapping: Path, out: Path) -> tuple[float, float]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analytics.load", "--mapping", str(mapping), "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB (Linux)
    return seconds, peak_gib


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/retention-bench-import"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    csv = _export(args.customers, args.workdir)
    parquet = _parquet(csv)
    rows = sum(1 for _ in (csv / "touchpoints.csv").open("rb")) - 1
    print(f"import of {args.customers:,} customers / {rows:,} touchpoints")
    for label, folder in (("parquet", parquet), ("csv", csv)):
        # peak memory is the largest child so far: Parquet runs first, so the CSV figure is
        # the larger of the two
        seconds, peak = _run(folder / "mapping.toml", args.workdir / f"imported-{label}.duckdb")
        print(f"  {label:8s} {seconds:7.1f} s   peak {peak:5.2f} GiB (largest child so far)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
