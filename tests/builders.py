"""Build tiny Retention Radar databases for tests, row by row.

Only the columns a test cares about need to be given; the rest default to NULL (or to a
plausible constant for the identity columns), so each test reads as its hand-worked
example and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import duckdb

from analytics.schema import REQUIRED_TABLES, SCHEMA_VERSION, TABLES, create_table_sql

_DEFAULTS: dict[str, dict[str, Any]] = {
    "customers": {
        "full_name": "Test Customer",
        "segment": "consumer",
        "region": "center",
        "plan": "standard",
        "contract_type": "month_to_month",
        "acquisition_channel": "web",
        "acquisition_cost": 0.0,
        "monthly_revenue": 0.0,
        "margin_rate": 1.0,
        "loyalty_member": False,
        "account_owner": "owner-1",
    },
    "touchpoints": {"channel": "phone", "direction": "inbound", "kind": "service_request"},
}


def build_database(
    path: str | Path,
    customers: Iterable[dict] = (),
    touchpoints: Iterable[dict] = (),
    monthly_revenue: Iterable[dict] = (),
    schema_info: dict[str, str] | None = None,
    extra_tables: dict[str, tuple[dict[str, str], Iterable[dict]]] | None = None,
) -> Path:
    """Create a database at `path` with the required schema and the given rows.

    `touchpoints` rows get sequential `touchpoint_id`s when they do not carry one.
    """
    path = Path(path)
    info = {"schema_version": SCHEMA_VERSION, "as_of_date": "2024-12-31"}
    info.update(schema_info or {})
    con = duckdb.connect(str(path))
    try:
        for table in REQUIRED_TABLES:
            con.execute(create_table_sql(table, TABLES[table]))
        con.executemany("insert into schema_info values (?, ?)", list(info.items()))
        rows_by_table = {
            "customers": list(customers),
            "touchpoints": list(touchpoints),
            "monthly_revenue": list(monthly_revenue),
        }
        for i, row in enumerate(rows_by_table["touchpoints"], start=1):
            row.setdefault("touchpoint_id", i)
        for table, rows in rows_by_table.items():
            _insert(con, table, TABLES[table], rows)
        for table, (columns, rows) in (extra_tables or {}).items():
            con.execute(create_table_sql(table, columns))
            _insert(con, table, columns, list(rows))
    finally:
        con.close()
    return path


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], rows: list[dict]) -> None:
    if not rows:
        return
    names = list(columns)
    defaults = _DEFAULTS.get(table, {})
    unknown = {k for row in rows for k in row} - set(names)
    if unknown:
        raise ValueError(f"unknown column(s) for {table}: {sorted(unknown)}")
    values = [[row.get(n, defaults.get(n)) for n in names] for row in rows]
    placeholders = ", ".join("?" for _ in names)
    quoted = ", ".join(f'"{n}"' for n in names)
    con.executemany(f'insert into "{table}" ({quoted}) values ({placeholders})', values)
