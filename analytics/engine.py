"""Put a Retention Radar DuckDB file on another engine.

    python -m analytics.engine export-parquet --db FILE --out DIR [--config retention-spark.toml]

writes every table of the file — the data model, `schema_info`, and the optional tables
present (scores, rollups, ...) — to `DIR/<table>.parquet`, and a config file whose
`[engine]` section points Spark at them (`[engine] kind = "spark"`,
docs/decisions/017-engine-seam-duckdb-and-spark.md). Run the dashboard on it with
`make run RETENTION_CONFIG=<that file>`. The DuckDB file is opened read-only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analytics.config import PROJECT_ROOT
from analytics.db import DatabaseError, open_database

DEFAULT_SPARK_SETTINGS = {
    "master": "local[2]",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
}


def export_parquet(db_path: Path, out_dir: Path) -> dict[str, Path]:
    """Write each table of the DuckDB file at `db_path` to `out_dir/<table>.parquet`
    (through Ibis's `to_parquet`); return table name -> file."""
    db = open_database(db_path, read_only=True)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        backend = db.ibis()
        written = {}
        for name in db.table_names():
            target = out_dir / f"{name}.parquet"
            backend.to_parquet(db.table(name), target)
            written[name] = target
        return written
    finally:
        db.close()


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def spark_config_text(tables: dict[str, Path], spark: dict[str, str] | None = None,
                      currency: str | None = None) -> str:
    """The `[engine]` section (and `[display]` currency when given) for `tables`; paths
    inside the project are written relative to its root."""
    lines = ["# Retention Radar on Spark, written by `python -m analytics.engine export-parquet`.",
             "[engine]", 'kind = "spark"', "", "[engine.tables]"]
    for name, path in sorted(tables.items()):
        path = path.resolve()
        shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        lines.append(f"{name} = {_toml_string(str(shown))}")
    lines += ["", "[engine.spark]"]
    for key, value in (spark or DEFAULT_SPARK_SETTINGS).items():
        lines.append(f"{_toml_string(key)} = {_toml_string(str(value))}")
    if currency:
        lines += ["", "[display]", f"currency = {_toml_string(currency)}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export-parquet", help="write every table of a DuckDB file to Parquet")
    export.add_argument("--db", type=Path, required=True, help="the DuckDB file")
    export.add_argument("--out", type=Path, required=True, help="directory for the Parquet files")
    export.add_argument("--config", type=Path, default=Path("retention-spark.toml"),
                        help="config file to write (default retention-spark.toml)")
    args = parser.parse_args(argv)
    try:
        tables = export_parquet(args.db, args.out)
    except DatabaseError as err:
        print(f"Cannot export: {err}", file=sys.stderr)
        return 2
    from analytics.config import settings

    currency = settings().get("display", {}).get("currency")
    args.config.write_text(spark_config_text(tables, currency=currency), encoding="utf-8")
    print(f"wrote {len(tables)} tables to {args.out} and {args.config}; "
          f"run `make run RETENTION_CONFIG={args.config}`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
