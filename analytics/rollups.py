"""Precomputed rollups for the metrics that are too slow to compute live on a large file.

    python -m analytics.rollups [--db PATH] [--if-stale]

At 1M customers / 20M touchpoints a handful of metric functions spend 1.5–4 s inside
DuckDB even when written as plain hand SQL (benchmarks/bench_metrics.py): the work itself
is the cost, not Ibis. Those functions read a small table built once after the data is
loaded, and fall back to the live query whenever the table cannot be trusted
(docs/decisions/009-metric-rollups.md):

- `rollup_customer_value` (one row per customer who signed up by the as-of date):
  customer_clv, clv_quantiles, clv_pareto, value_tiers, clv_cac_ratio;
- `rollup_mrr_movements` (month × segment × region × plan): mrr_movements, mrr_waterfall's
  whole-month steps, and
  revenue_retention over whole one-month periods;
- `rollup_mrr_monthly` (month × segment × region × plan): mrr_by_month (MRR, paying customers);
- `rollup_clv_accrual` (first day counted × segment × region × plan): average_clv_at;
- `rollup_repeat_contacts` (day × channel × segment × region × plan): repeat_contact_rate;
- `rollup_wait_histogram` (month × channel × segment × region × plan × wait): service_levels
  (SLA attainment and wait quantiles at the default thresholds) over a period's whole months;
- `rollup_touchpoint_daily` (day × channel × segment × region × plan): first_contact_resolution,
  satisfaction_trend, and the note counts of note_signal_summary / note_signal_trend;
- `rollup_dq_failures` (failing record × check), `rollup_dq_duplicate_candidates`
  (members of name + e-mail / name + phone groups of two or more) and `rollup_dq_checked`
  (records examined per table × segment × region × plan × channel): data_quality_report;
- `rollup_info` (one row per rollup): what the freshness check reads.

The rollups keep the customer attributes the filters use (segment, region, plan; channel
where the metric takes the channel filter), so every population and channel filter is
answered exactly. The as-of date is the one thing they fix: value and data-quality
rollups hold figures as of the database's `schema_info.as_of_date`, and a filter with
another as-of date uses the live query.

**Freshness.** `rollup_info` records, per rollup, the as-of date, `ROLLUP_VERSION` and a
fingerprint of the source tables (row counts, largest ids and dates of `customers`,
`touchpoints`, `monthly_revenue`, and every `schema_info` row), taken in the same
transaction that builds the rollups. A metric uses a rollup only when the fingerprint of
the data it is about to query is the same; after a reload the rollup is ignored (the live
query answers, slowly but right) until it is rebuilt. An in-place edit that keeps every
count and largest value is not detected — rebuild after every load.

**Building.** `build_rollups` drops and recreates every rollup in one transaction: a
failure leaves the file as it was. The rollups are built only when `customers.customer_id`
is unique: the live queries semi-join rows to customers, which a per-attribute rollup can
reproduce only when each id has one set of attributes (a file with repeated ids gets no
rollups; the data-quality report lists the repeated ids). The command opens the file
read-write through `analytics.db.open_database`; when another program holds it (a running
dashboard) it says so and exits with status 3, changing nothing. Without `--db` the
configured engine is used: on Spark there is no transaction, and each table is written as
Parquet to the engine's output folder (`Database.create_table`, decision 017). `--if-stale` does nothing
when every rollup is fresh (for `make run`, before the dashboard starts).

Each rollup's content is defined next to its metric, by the same Ibis expressions as the
live query (`value.value_rollup_source`, `revenue.movement_rollup_source`, `value.clv_accrual_rollup_source`,
`service.repeat_rollup_source`, `service.touchpoint_daily_source`, `service.wait_histogram_rollup_source`, `data_quality.*_rollup_source`), so the two paths cannot
drift apart unnoticed; tests compare them on the generated sample. The MRR-movement and
CLV-accrual rollups are the stored form of their metrics' cubes (analytics/cubes.py,
docs/decisions/016-cubes-per-period.md): the cube reads the rollup's rows when it is fresh
and computes the same rows live otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import ibis
import pandas as pd

from analytics.config import database_path
from analytics.db import (Database, DatabaseError, DatabaseLocked, open_database, open_engine,
                          writer_locked_message)
from analytics.schema import OPTIONAL_TABLES, ibis_schema

# Bump when a rollup's layout or meaning changes: rollups of another version are stale.
# 2: rollup_mrr_movements keeps each month's starting book; 3: rollup_clv_accrual;
# 4: the book is the customers active at the month's start, churned ones end at 0;
# 5: superseded duplicate customer records left out (docs/decisions/014-duplicate-customers.md);
# 6: rollup_dq_failures has inconsistent_category instead of invalid_category (decision 019);
# 7: a service contact with no recorded direction counts as inbound (rollup_repeat_contacts)
# 8: rollup_touchpoint_daily (FCR, survey and note counts per day), rollup_mrr_monthly
# 9: rollup_mrr_movements holds the whole-month steps of the MRR waterfall (wf_*)
# 10: rollup_wait_histogram (service_levels' wait histogram per month)
ROLLUP_VERSION = "10"

INFO_TABLE = "rollup_info"
CUSTOMER_VALUE = "rollup_customer_value"
MRR_MOVEMENTS = "rollup_mrr_movements"
MRR_MONTHLY = "rollup_mrr_monthly"
CLV_ACCRUAL = "rollup_clv_accrual"
REPEAT_CONTACTS = "rollup_repeat_contacts"
TOUCHPOINT_DAILY = "rollup_touchpoint_daily"
WAIT_HISTOGRAM = "rollup_wait_histogram"
DQ_FAILURES = "rollup_dq_failures"
DQ_DUPLICATES = "rollup_dq_duplicate_candidates"
DQ_CHECKED = "rollup_dq_checked"
ROLLUPS = (CUSTOMER_VALUE, MRR_MOVEMENTS, MRR_MONTHLY, CLV_ACCRUAL, REPEAT_CONTACTS, TOUCHPOINT_DAILY, WAIT_HISTOGRAM,
           DQ_FAILURES, DQ_DUPLICATES, DQ_CHECKED)

EXIT_OK, EXIT_ERROR, EXIT_LOCKED = 0, 2, 3

# The fingerprint: one small Ibis query (counts, and a scan of one column each for the
# maxima; ~35 ms on DuckDB at 1M customers / 21M touchpoints), the same on every engine, and
# changed by any reload that adds, removes or re-dates rows.


_enabled = True


@contextmanager
def disabled() -> Iterator[None]:
    """Within the block every metric uses its live query (benchmarks and tests compare the
    two paths on one file). Process-wide; the dashboard never calls it."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def source_fingerprint(backend: ibis.BaseBackend) -> str:
    """A short hash of the source tables' counts, largest ids / dates and schema_info, read
    through `backend` (the database's, or a transaction's). Values are hashed as ISO text
    so every engine gives the same fingerprint for the same data."""
    c, t, r, info = (backend.table(n) for n in ("customers", "touchpoints", "monthly_revenue", "schema_info"))
    sizes = c.aggregate(
        customers=c.count(), customer_max_id=c.customer_id.max(),
        signup_max=c.signup_date.max(), churn_max=c.churn_date.max(),
    ).cross_join(t.aggregate(
        touchpoints=t.count(), touchpoint_max_id=t.touchpoint_id.max(), occurred_max=t.occurred_at.max(),
    )).cross_join(r.aggregate(revenue_rows=r.count(), revenue_max_month=r.month.max()))
    row = backend.to_pandas(sizes).iloc[0]
    facts = [_iso(row[name]) for name in sizes.columns]
    rows = backend.to_pandas(info.select("key", "value"))
    facts.append(";".join(f"{k}={'' if v is None or v != v else v}"
                          for k, v in sorted(zip(rows["key"], rows["value"]))))
    return hashlib.sha256(repr((ROLLUP_VERSION, tuple(facts))).encode()).hexdigest()[:32]


def _iso(value) -> str:
    """One fingerprint value as text: numbers as integers, dates and times in ISO form."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    if hasattr(value, "isoformat"):
        return pd.Timestamp(value).isoformat()
    return str(int(value))


def _database_as_of(db: Database) -> date:
    value = db.schema_info().get("as_of_date")
    if not value:
        raise ValueError(f"{db.path} has no schema_info.as_of_date; rollups need the as-of date")
    return date.fromisoformat(value)


def fresh_rollups(db: Database, *names: str, as_of: date | None = None,
                  flt=None) -> tuple[ibis.Table, ...] | None:
    """The rollups `names` as Ibis tables when they may all answer, else None (use the
    live query).

    `flt` (an `analytics.filters.RetentionFilter`), when given, is the filter the caller
    answers: a rollup holds segment, region and plan but not the export's custom
    attributes, so a filter on those is always answered live.

    A rollup may answer when it exists, was built by this `ROLLUP_VERSION` from data with
    the same fingerprint as now, and — when `as_of` is given — for that as-of date. The
    check costs a few small queries (~40 ms, at 50k as at 1M customers); on a read-only
    database the answer cannot change while the file is open, so it is asked once."""
    if not _enabled or (flt is not None and flt.attributes):
        return None
    if db.read_only:
        key = ("fresh_rollups", names, as_of)
        fresh = db.read_only_facts.get(key)
        if fresh is None:
            fresh = db.read_only_facts[key] = _rollups_fresh(db, names, as_of)
    else:
        fresh = _rollups_fresh(db, names, as_of)
    return tuple(db.table(name) for name in names) if fresh else None


def _rollups_fresh(db: Database, names: tuple[str, ...], as_of: date | None) -> bool:
    info = _rollup_info(db)
    if info is None:
        return False
    rows, current = info
    rows = rows[rows["rollup"].isin(names)]
    if len(rows) < len(names) or not all(db.has_table(name) for name in names):
        return False
    if any(version != ROLLUP_VERSION for version in rows["rollup_version"]):
        return False
    if as_of is not None and any(pd.Timestamp(built).date() != as_of for built in rows["as_of_date"]):
        return False
    return all(fingerprint == current for fingerprint in rows["source_fingerprint"])


def _rollup_info(db: Database) -> tuple[pd.DataFrame, str] | None:
    """(``rollup_info``'s rows, the source tables' fingerprint now), or None without
    ``rollup_info``. Read once per open read-only database — the file cannot change while
    it is open — instead of once per rollup a page asks about (each fingerprint scans the
    largest tables' maxima: ~35 ms at 1M customers)."""
    if db.read_only and "rollup_info" in db.read_only_facts:
        return db.read_only_facts["rollup_info"]
    if not db.has_table(INFO_TABLE):
        info = None
    else:
        t = db.table(INFO_TABLE)
        rows = db.ibis().to_pandas(t.select("rollup", "as_of_date", "source_fingerprint", "rollup_version"))
        info = (rows, source_fingerprint(db.ibis()))
    if db.read_only:
        db.read_only_facts["rollup_info"] = info
    return info


def fresh_rollup(db: Database, name: str, as_of: date | None = None, flt=None) -> ibis.Table | None:
    """`fresh_rollups` for one rollup: its Ibis table, or None to use the live query."""
    found = fresh_rollups(db, name, as_of=as_of, flt=flt)
    return found[0] if found else None


@dataclass(frozen=True)
class RollupBuild:
    """What `build_rollups` did: the as-of date, rows and seconds per rollup; `skipped`
    holds the reason when no rollup could be built."""

    as_of: date
    rows: dict[str, int]
    seconds: dict[str, float]
    skipped: str | None = None


def _sources(db: Database, as_of: date) -> dict[str, ibis.Table]:
    # imported here: the metric modules import this module for `fresh_rollup`
    from analytics.metrics import data_quality, revenue, service, value

    return {
        CUSTOMER_VALUE: value.value_rollup_source(db, as_of),
        MRR_MOVEMENTS: revenue.movement_rollup_source(db),
        MRR_MONTHLY: revenue.mrr_rollup_source(db),
        CLV_ACCRUAL: value.clv_accrual_rollup_source(db),
        REPEAT_CONTACTS: service.repeat_rollup_source(db),
        TOUCHPOINT_DAILY: service.touchpoint_daily_source(db),
        WAIT_HISTOGRAM: service.wait_histogram_rollup_source(db),
        DQ_FAILURES: data_quality.failure_rollup_source(db, as_of),
        DQ_DUPLICATES: data_quality.duplicate_rollup_source(db),
        DQ_CHECKED: data_quality.checked_rollup_source(db),
    }


def build_rollups(db: Database) -> RollupBuild:
    """Drop and rebuild every rollup and `rollup_info` in one transaction where the engine
    has them (DuckDB; see `Database.transaction`), through Ibis (see module docstring).
    `db` must be open read-write."""
    if db.read_only:
        raise ValueError("the database was opened read-only; open it with read_only=False to build rollups")
    as_of = _database_as_of(db)
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    skipped = None
    present = set(db.table_names())
    with db.transaction() as backend:
        db.drop_tables(backend, *(t for t in (INFO_TABLE, *ROLLUPS) if t in present))
        c = backend.table("customers")
        counts = backend.to_pandas(c.aggregate(n=c.count(), distinct=c.customer_id.nunique())).iloc[0]
        n, distinct = int(counts["n"]), int(counts["distinct"])
        if n != distinct:
            skipped = (f"customers.customer_id is not unique ({n - distinct:,} repeated or NULL ids); "
                       "no rollups built, the metrics use their live queries")
        else:
            fingerprint = source_fingerprint(backend)
            info_schema = ibis_schema(OPTIONAL_TABLES[INFO_TABLE])
            info_rows = []
            for name, expr in _sources(db, as_of).items():
                t0 = time.perf_counter()
                columns = OPTIONAL_TABLES[name]
                # Through the transaction's backend, so the table is part of the transaction;
                # the casts pin the stored types.
                built = db.create_table(
                    backend, name, expr.select(**{c: expr[c].cast(dtype) for c, dtype in ibis_schema(columns).items()}))
                rows[name] = int(backend.execute(built.count()))
                seconds[name] = time.perf_counter() - t0
                info_rows.append([name, as_of, fingerprint, ROLLUP_VERSION, rows[name], seconds[name],
                                  datetime.now().replace(microsecond=0)])
            frame = pd.DataFrame(info_rows, columns=list(info_schema))
            db.create_table(backend, INFO_TABLE, ibis.memtable(frame).select(
                **{c: ibis._[c].cast(dtype) for c, dtype in info_schema.items()}))
    return RollupBuild(as_of, rows, seconds, skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None,
                        help="DuckDB file (default: $RETENTION_DB, retention.toml, or data/sample.duckdb)")
    parser.add_argument("--if-stale", action="store_true",
                        help="do nothing when every rollup is present and fresh")
    args = parser.parse_args(argv)
    # --db names a DuckDB file; without it, the configured engine (Spark writes the rollups
    # to its output folder, decision 017)
    def open_db(read_only: bool) -> Database:
        return open_database(args.db, read_only=read_only) if args.db is not None else open_engine(read_only)

    path = args.db if args.db is not None else database_path()
    started = time.perf_counter()
    try:
        if args.if_stale:
            db = open_db(read_only=True)
            try:
                if fresh_rollups(db, *ROLLUPS) is not None:
                    print(f"{db.path}: rollups are fresh; nothing to do")
                    return EXIT_OK
            finally:
                db.close()
        db = open_db(read_only=False)
        if db.kind == "spark":
            try:
                path = f"{db.output_folder('rollups')} (Spark, {db.path})"
            except DatabaseError:
                db.close()
                raise
    except DatabaseLocked as err:
        print(writer_locked_message("build rollups", "analytics.rollups", path, err), file=sys.stderr)
        return EXIT_LOCKED
    except DatabaseError as err:
        print(f"Cannot build rollups: {err}", file=sys.stderr)
        return EXIT_ERROR
    try:
        build = build_rollups(db)
        if db.kind == "duckdb":  # fold the new tables into the main file now, not at the next open
            db.checkpoint()
    except ValueError as err:
        print(f"Cannot build rollups: {err}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        db.close()
    if build.skipped:
        print(f"{path}: {build.skipped}")
        return EXIT_OK
    detail = ", ".join(f"{name} {build.rows[name]:,} rows" for name in ROLLUPS)
    print(f"built rollups as of {build.as_of} in {path} ({time.perf_counter() - started:.1f} s): {detail}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
