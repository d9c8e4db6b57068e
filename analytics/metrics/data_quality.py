"""Data-quality checks with the 1-10-100 cost rule (docs/metrics.md#data-quality).

Each check counts the records that fail it, the rate over the records it examined and a
few example record ids, and prices the failures with the 1-10-100 rule (Labovitz &
Chang): an error costs 1 unit to prevent at entry, 10 to correct after entry through a
check like this one, 100 once it has caused a failure downstream. The population filter
(segments, regions, plans) applies; the reporting period does not — quality is about
every stored record — and dates are judged against the file's ``as_of_date``
(``schema_info``), not the filter's end, unless ``as_of`` is given. The channel filter
applies to touchpoint checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import numpy as np
import pandas as pd

from analytics.db import Database
from analytics.duplicates import EMAIL_PATTERN, PHONE_PATTERN  # noqa: F401  (re-exported: the checks' patterns)
from analytics.duplicates import blank as _blank
from analytics.duplicates import duplicate_keys as _duplicate_keys
from analytics.duplicates import later_members as _later_members
from analytics.duplicates import normalised_name as _folded
from analytics.duplicates import padded as _padded
from analytics.duplicates import superseded_count, superseded_customer_ids, superseded_records
from analytics.filters import RetentionFilter, customers, monthly_revenue, touchpoints
from analytics.metrics._common import FAR_FUTURE, conform, empty_frame, execute, ratio
from analytics.rollups import DQ_CHECKED, DQ_DUPLICATES, DQ_FAILURES, fresh_rollups

# The 1-10-100 rule: cost per failing record, in units of `unit_cost`.
PREVENTION_FACTOR, CORRECTION_FACTOR, FAILURE_FACTOR = 1, 10, 100

# Report order: by dimension, as the checks are described in docs/metrics.md.
CHECK_ORDER = (
    "missing_email",
    "missing_phone",
    "missing_name",
    "missing_attributes",
    "churn_without_reason",
    "invalid_email",
    "invalid_phone",
    "inconsistent_category",
    "invalid_amount",
    "negative_revenue",
    "duplicate_customer",
    "duplicate_customer_id",
    "churn_before_signup",
    "touchpoint_after_churn",
    "future_customer_dates",
    "future_touchpoints",
    "future_revenue",
    "orphan_touchpoints",
)

REPORT_COLUMNS: dict[str, str] = {
    "check": "string",
    "dimension": "string",
    "table": "string",
    "description": "string",
    "checked": "int64",
    "failing": "int64",
    "rate": "float64",
    "examples": "object",
    "prevention_cost": "float64",
    "correction_cost": "float64",
    "failure_cost": "float64",
}


@dataclass(frozen=True)
class _Check:
    name: str
    dimension: str  # completeness | validity | uniqueness | consistency
    table: str  # the table whose records are examined (and counted in `checked`)
    description: str
    flag: ibis.BooleanValue  # true for a failing record of `source`


@dataclass(frozen=True)
class _Source:
    """A relation holding candidate records, the id column that names them, and the
    checks evaluated on it — all of them in one aggregate query (one scan)."""

    relation: ibis.Table
    id_column: str
    checks: list[_Check]


# Categorical customer columns. Their values come from the data (an export's own plans and
# segments are valid, docs/decisions/019): the check looks for spellings that disagree.
CATEGORY_COLUMNS = ("segment", "region", "plan", "contract_type", "acquisition_channel", "churn_reason")
_ATTRIBUTE_COLUMNS = ("segment", "region", "plan", "contract_type", "acquisition_channel")


def stray_spellings(everyone: ibis.Table, column: str) -> ibis.Table:
    """The distinct values (``value``) of `column` in `everyone` (every customer record of
    the file) that fail ``inconsistent_category``: blank (only whitespace, or empty); with
    leading or trailing whitespace; or not the *usual spelling* of their folded value (lower
    case, trimmed, runs of whitespace as one space, as `analytics.duplicates.normalised_name`).
    The usual spelling of a folded value is, among its spellings without surrounding
    whitespace, the one on the most records, ties to the first in sort order. NULL is never
    a spelling (``missing_attributes`` counts it). Small: one row per distinct value."""
    kept = everyone.filter(everyone[column].notnull())
    spellings = kept.group_by(value=kept[column]).aggregate(records=kept.count())
    spellings = spellings.mutate(folded=_folded(spellings.value),
                                 padded=spellings.value.re_search(r"^\s|\s$").cast("int8"))
    usual_first = ibis.window(group_by=spellings.folded,
                              order_by=[spellings.padded, ibis.desc(spellings.records), spellings.value])
    spellings = spellings.mutate(place=ibis.row_number().over(usual_first))
    stray = spellings.filter(_blank(spellings.value) | (spellings.padded == 1) | (spellings.place > 0))
    return stray.select("value")


def _with_inconsistent_category(c: ibis.Table, everyone: ibis.Table) -> ibis.Table:
    """`c` plus ``inconsistent_category``: true when any of `CATEGORY_COLUMNS` holds a
    stray spelling (`stray_spellings`, judged over `everyone`). One left join per column
    with its (small, distinct) stray values, so no record is repeated."""
    out = c
    names = []
    for column in CATEGORY_COLUMNS:
        name = f"stray_{column}"
        stray = stray_spellings(everyone, column).select(**{name: "value"})
        out = out.left_join(stray, out[column] == stray[name])
        names.append(name)
    flag = ibis.or_(*(out[n].notnull() for n in names))
    return out.mutate(inconsistent_category=flag).drop(*names)


def _customer_source(c: ibis.Table, as_of: date, everyone: ibis.Table) -> _Source:
    c = _with_inconsistent_category(c, everyone)
    email, phone = c.email, c.phone
    missing_attr = c.signup_date.isnull()
    for col in _ATTRIBUTE_COLUMNS:
        missing_attr = missing_attr | c[col].isnull()
    checks = [
        _Check("missing_email", "completeness", "customers", "e-mail is NULL or blank", _blank(email)),
        _Check("missing_phone", "completeness", "customers", "phone is NULL or blank", _blank(phone)),
        _Check("missing_name", "completeness", "customers", "full_name is NULL or blank", _blank(c.full_name)),
        _Check(
            "missing_attributes", "completeness", "customers",
            "segment, region, plan, contract type, acquisition channel or signup date is NULL",
            missing_attr,
        ),
        _Check(
            "churn_without_reason", "completeness", "customers",
            "churned (churn_date set) but churn_reason is NULL",
            c.churn_date.notnull() & c.churn_reason.isnull(),
        ),
        _Check(
            "invalid_email", "validity", "customers", f"e-mail does not match {EMAIL_PATTERN}",
            ~_blank(email) & ~email.re_search(_padded(EMAIL_PATTERN)),
        ),
        _Check(
            "invalid_phone", "validity", "customers", f"phone does not match {PHONE_PATTERN}",
            ~_blank(phone) & ~phone.re_search(_padded(PHONE_PATTERN)),
        ),
        _Check(
            "inconsistent_category", "validity", "customers",
            "segment, region, plan, contract type, acquisition channel or churn reason is blank, has "
            "surrounding whitespace, or is a rarer spelling of a value (case and spaces aside)",
            c.inconsistent_category,
        ),
        _Check(
            "invalid_amount", "validity", "customers",
            "negative monthly_revenue or acquisition_cost, or margin_rate outside 0-1",
            (c.monthly_revenue < 0) | (c.acquisition_cost < 0) | (c.margin_rate < 0) | (c.margin_rate > 1),
        ),
        _Check(
            "churn_before_signup", "consistency", "customers", "churn_date earlier than signup_date",
            c.churn_date < c.signup_date,
        ),
        _Check(
            "future_customer_dates", "consistency", "customers",
            "signup_date or churn_date after the as-of date",
            (c.signup_date > as_of) | (c.churn_date > as_of),
        ),
    ]
    return _Source(c, "customer_id", [ch for ch in checks])


def _duplicate_check() -> _Check:
    return _Check(
        "duplicate_customer", "uniqueness", "customers",
        "same normalised name and e-mail or valid phone as a customer with a lower id",
        ibis.literal(True),
    )


def _duplicate_sources(c: ibis.Table) -> list[_Source]:
    # Duplicates: the key of analytics/duplicates.py (same normalised name and e-mail, or
    # name and valid phone). The lowest customer_id of a group is the original; the others
    # fail — the records every KPI leaves out (docs/decisions/014-duplicate-customers.md).
    duplicates = superseded_records(c)
    repeated = c.group_by("customer_id").aggregate(rows=c.count())
    return [
        _Source(duplicates, "record_id", [_duplicate_check()]),
        _Source(repeated, "customer_id", [_Check(
            "duplicate_customer_id", "uniqueness", "customers",
            "customer_id appears on more than one row", repeated.rows > 1,
        )]),
    ]


def _touchpoint_sources(t: ibis.Table, c: ibis.Table, as_of: date) -> list[_Source]:
    # `t` may already hold a semi-join with the customers table (population filter), so
    # joining the same table again needs a distinct view for Ibis. Customers whose churn
    # date precedes their signup fail `churn_before_signup`; every touchpoint of theirs
    # would follow the bad date, so they are not counted again here.
    churned = c.view()
    churned = churned.filter(churned.churn_date.notnull(), churned.churn_date >= churned.signup_date)
    after = t.join(churned.select("customer_id", "churn_date"), "customer_id")
    orphans = t.anti_join(c.view(), "customer_id")
    next_day = ibis.literal(as_of).cast("timestamp") + ibis.interval(days=1)
    return [
        _Source(t, "touchpoint_id", [_Check(
            "future_touchpoints", "consistency", "touchpoints", "occurred_at after the as-of date",
            t.occurred_at >= next_day,
        )]),
        _Source(after, "touchpoint_id", [_Check(
            "touchpoint_after_churn", "consistency", "touchpoints",
            "touchpoint on a day after its customer's churn_date (churn_date >= signup_date)",
            after.occurred_at.date() > after.churn_date,
        )]),
        _Source(orphans, "touchpoint_id", [_Check(
            "orphan_touchpoints", "consistency", "touchpoints",
            "customer_id not found in customers", ibis.literal(True),
        )]),
    ]


def _revenue_source(r: ibis.Table, as_of: date) -> _Source:
    return _Source(r, "customer_id", [
        _Check("negative_revenue", "validity", "monthly_revenue", "mrr below 0 (record id = customer_id)",
               r.mrr < 0),
        _Check("future_revenue", "consistency", "monthly_revenue",
               "revenue month after the as-of date (record id = customer_id)", r.month > as_of),
    ])


def _as_of(db: Database, flt: RetentionFilter, as_of: date | None) -> date:
    if as_of is not None:
        return as_of
    value = db.schema_info().get("as_of_date")
    return date.fromisoformat(value) if value else flt.as_of


def _all_sources(c: ibis.Table, t: ibis.Table, r: ibis.Table, day: date,
                 everyone: ibis.Table) -> list[_Source]:
    """Every check's source; `c` is the selected customers, `everyone` every customer
    record of the file (the spellings ``inconsistent_category`` compares)."""
    return (
        [_customer_source(c, day, everyone)]
        + _duplicate_sources(c)
        + _touchpoint_sources(t, c, day)
        + [_revenue_source(r, day)]
    )


def _report_touchpoints(db: Database, flt: RetentionFilter) -> ibis.Table:
    # Touchpoints with the population and channel filters but no date cut: dates beyond
    # the as-of date are exactly what one check looks for.
    return touchpoints(db, flt.with_period(flt.start, FAR_FUTURE), in_period=False, every_record=True)


def _sorted_ids(found, examples: int) -> list[int]:
    # Unordered collect, sorted here: an ORDER BY inside the aggregate costs DuckDB a sort
    # per check. Failing records are few; all their ids travel.
    if not examples or found is None:
        return []
    return [int(v) for v in np.sort(np.asarray(found, dtype="int64"))[:examples]]


def _live_counts(db: Database, flt: RetentionFilter, day: date, examples: int):
    """(checks, checked per table, failing per check, example ids per check), live."""
    # every record, duplicates included: finding them is what the checks are for
    c = customers(db, flt, every_record=True)
    t = _report_touchpoints(db, flt)
    r = monthly_revenue(db, flt, every_record=True)
    checked = execute(
        db, c.aggregate(customers=c.count()).cross_join(t.aggregate(touchpoints=t.count())).cross_join(
            r.aggregate(monthly_revenue=r.count())
        )
    ).iloc[0]
    checks: list[_Check] = []
    failing: dict[str, int] = {}
    example_ids: dict[str, list[int]] = {}
    for src in _all_sources(c, t, r, day, db.table("customers")):
        # Flags first (each regex evaluated once), then one aggregate over them.
        flags = src.relation.select(
            record_id=src.relation[src.id_column],
            **{f"f{i}": ch.flag for i, ch in enumerate(src.checks)},
        )
        metrics = {}
        for i, _ in enumerate(src.checks):
            # fill_null: Spark's count_if over zero rows is NULL, not 0
            metrics[f"n{i}"] = flags.count(where=flags[f"f{i}"]).fill_null(0)
            if examples:
                metrics[f"x{i}"] = flags.record_id.collect(where=flags[f"f{i}"])
        row = execute(db, flags.aggregate(**metrics)).iloc[0]
        for i, ch in enumerate(src.checks):
            checks.append(ch)
            failing[ch.name] = int(row[f"n{i}"] or 0)
            example_ids[ch.name] = _sorted_ids(row[f"x{i}"] if examples else None, examples)
    return checks, {k: int(v) for k, v in checked.items()}, failing, example_ids


# --- rollups (analytics/rollups.py, docs/decisions/009-metric-rollups.md) -------------
#
# Every check except duplicate_customer flags a record by looking at that record (and,
# for touchpoint_after_churn, its own customer; for inconsistent_category, the spellings of
# the whole file, whatever the selection) only, so the failing records of the whole
# file, kept with their customer's segment / region / plan and the touchpoint's channel,
# answer any population or channel filter by selection. duplicate_customer compares
# customers *within* the selection, so the rollup keeps the members of every group of
# two or more (as group numbers, not the names and e-mails) and redoes the grouping on the
# selected members. The rollups exist only when customer ids are unique (rollups.py).

def _attributes(rel: ibis.Table, c: ibis.Table) -> ibis.Table:
    """`rel` (with a ``customer_id``) plus its customer's segment, region, plan (NULL for
    an unknown customer)."""
    j = rel.left_join(c, rel.customer_id == c.customer_id)
    return j.select(rel, segment=c.segment, region=c.region, plan=c.plan)


def failure_rollup_source(db: Database, as_of: date) -> ibis.Table:
    """The content of ``rollup_dq_failures``: one row per failing record and check (all
    checks but duplicate_customer) over the whole file, judged at `as_of`, with check,
    table_name, record_id, the customer's segment / region / plan and, for touchpoint
    checks, the touchpoint's channel."""
    everyone = RetentionFilter(as_of, as_of)
    c = db.table("customers")
    t = _report_touchpoints(db, everyone)
    r = db.table("monthly_revenue")
    parts = []
    for src in _all_sources(c, t, r, as_of, c):
        src_checks = [ch for ch in src.checks if ch.name != "duplicate_customer"]
        if not src_checks:
            continue
        rel = src.relation
        # One scan per source: the names of the checks a record fails, unnested.
        failed = ibis.array([ibis.ifelse(ch.flag, ch.name, ibis.null("string")) for ch in src_checks])
        channel = rel.channel if "channel" in rel.columns else ibis.null("string")
        rows = rel.select(
            check=failed.unnest(),
            table_name=ibis.literal(src_checks[0].table),
            record_id=rel[src.id_column].cast("int64"),
            customer_id=rel.customer_id.cast("int64"),
            channel=channel.cast("string"),
        )
        parts.append(rows.filter(rows.check.notnull()))
    failures = ibis.union(*parts, distinct=False)
    return _attributes(failures, c).drop("customer_id")


def duplicate_rollup_source(db: Database) -> ibis.Table:
    """The content of ``rollup_dq_duplicate_candidates``: every customer in a group of two
    or more sharing normalised name + e-mail (``email_group``) or name + valid phone
    (``phone_group``; NULL when not in such a group), with segment, region, plan."""
    c = db.table("customers")
    norm = _duplicate_keys(c)
    out = c.select("customer_id", "segment", "region", "plan")
    for key in ("email", "phone"):
        keyed = norm.filter(norm[key].notnull())
        groups = keyed.group_by(["name", key]).aggregate(members=keyed.count())
        groups = groups.filter(groups.members > 1)
        groups = groups.mutate(group_id=ibis.row_number().over(order_by=["name", key]))
        member = keyed.join(groups, ["name", key]).select("customer_id", **{f"{key}_group": groups.group_id})
        out = out.left_join(member, out.customer_id == member.customer_id).select(
            out, member[f"{key}_group"]
        )
    return out.filter(out.email_group.notnull() | out.phone_group.notnull())


def checked_rollup_source(db: Database) -> ibis.Table:
    """The content of ``rollup_dq_checked``: records examined per table and customer
    segment / region / plan (and channel for touchpoints) — the ``checked`` column."""
    c = db.table("customers")
    # (the report's touchpoints do not depend on the filter's dates: no date cut)
    t = _report_touchpoints(db, RetentionFilter(FAR_FUTURE, FAR_FUTURE))
    r = db.table("monthly_revenue")
    parts = []
    for name, rel, channel in (
        ("customers", c, None),
        ("touchpoints", _attributes(t.select("customer_id", "channel"), c), "channel"),
        ("monthly_revenue", _attributes(r.select("customer_id"), c), None),
    ):
        chan = rel[channel] if channel else ibis.null("string")
        parts.append(
            rel.group_by(
                table_name=ibis.literal(name), segment=rel.segment, region=rel.region, plan=rel.plan,
                channel=chan.cast("string"),
            ).aggregate(records=rel.count())
        )
    return ibis.union(*parts, distinct=False)


def _select_population(rel: ibis.Table, flt: RetentionFilter) -> ibis.Table:
    for column, values in (("segment", flt.segments), ("region", flt.regions), ("plan", flt.plans)):
        if values:
            rel = rel.filter(rel[column].isin(values))
    if flt.channels and "channel" in rel.columns and "table_name" in rel.columns:
        # the channel filter applies to touchpoint checks only
        rel = rel.filter((rel.table_name != "touchpoints") | rel.channel.isin(flt.channels))
    return rel


def _rollup_counts(db: Database, flt: RetentionFilter, day: date, examples: int, rollups):
    """The same four results as `_live_counts`, read from the rollups."""
    failures, candidates, checked_rollup = (_select_population(t, flt) for t in rollups)
    # the checks' names, tables and descriptions (the expressions are never run)
    checks = [ch for src in _all_sources(db.table("customers"), db.table("touchpoints"),
                                         db.table("monthly_revenue"), day, db.table("customers"))
              for ch in src.checks]
    checked_df = execute(db, checked_rollup.group_by("table_name").aggregate(records=checked_rollup.records.sum()))
    checked = {name: 0 for name in ("customers", "touchpoints", "monthly_revenue")}
    checked.update({row.table_name: int(row.records) for row in checked_df.itertuples()})

    parts = []
    for key in ("email_group", "phone_group"):
        keyed = candidates.filter(candidates[key].notnull()).select("customer_id", key)
        parts.append(_later_members(keyed, [key]))
    duplicates = parts[0].union(parts[1], distinct=True)
    found = {"record_id": failures.record_id, "check": failures.check}
    rows = failures.select(**found).union(
        duplicates.select(record_id=duplicates.record_id.cast("int64"),
                          check=ibis.literal(_duplicate_check().name)),
        distinct=False,
    )
    metrics = {"n": rows.count()}
    if examples:
        metrics["ids"] = rows.record_id.collect()
    per_check = execute(db, rows.group_by("check").aggregate(**metrics))
    failing = {ch.name: 0 for ch in checks}
    example_ids = {ch.name: [] for ch in checks}
    for row in per_check.itertuples():
        failing[row.check] = int(row.n)
        example_ids[row.check] = _sorted_ids(row.ids if examples else None, examples)
    return checks, checked, failing, example_ids


def data_quality_report(
    db: Database,
    flt: RetentionFilter,
    examples: int = 5,
    unit_cost: float = 1.0,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Run every check; one row per check.

    Columns: ``check``, ``dimension`` (completeness / validity / uniqueness /
    consistency), ``table``, ``description``, ``checked`` (records examined), ``failing``,
    ``rate`` = failing ÷ checked, ``examples`` (list of up to `examples` failing record
    ids, lowest first), and the 1-10-100 costs ``prevention_cost`` = failing × 1 ×
    unit_cost, ``correction_cost`` = × 10, ``failure_cost`` = × 100.

    Checks: missing e-mail / phone / name / attributes / churn reason; e-mail validity
    (`EMAIL_PATTERN`), phone validity (`PHONE_PATTERN`, 05X-XXXXXXX), inconsistent
    categorical values (blank, padded, or a rarer spelling of a value once case and spaces
    are folded, judged over the whole file: `stray_spellings`), negative amounts; duplicate customers (same normalised name —
    lower case, trimmed, single spaces — plus the same case-insensitive e-mail or the same
    valid phone; the lowest id is the original) and repeated customer ids; churn before
    signup, touchpoints on a day after churn (customers failing churn-before-signup are
    not counted again), dates after the as-of date, touchpoints of
    unknown customers, negative MRR, revenue months after the as-of date. A selection
    without any record gives the checks with 0 checked and NaN rates.

    Read from the ``rollup_dq_*`` tables when they are fresh and were built for the same
    as-of date (docs/decisions/009-metric-rollups.md), else computed."""
    if examples < 0:
        raise ValueError(f"examples must be >= 0, got {examples}")
    if unit_cost < 0:
        raise ValueError(f"unit_cost must be >= 0, got {unit_cost}")
    day = _as_of(db, flt, as_of)
    rollups = fresh_rollups(db, DQ_FAILURES, DQ_DUPLICATES, DQ_CHECKED, as_of=day, flt=flt)
    if rollups is not None:
        checks, checked, failing, example_ids = _rollup_counts(db, flt, day, examples, rollups)
    else:
        checks, checked, failing, example_ids = _live_counts(db, flt, day, examples)
    order = {name: i for i, name in enumerate(CHECK_ORDER)}
    checks.sort(key=lambda ch: order.get(ch.name, len(order)))
    rows = []
    for ch in checks:
        n_failing, n_checked = failing[ch.name], int(checked[ch.table])
        rows.append(
            {
                "check": ch.name,
                "dimension": ch.dimension,
                "table": ch.table,
                "description": ch.description,
                "checked": n_checked,
                "failing": n_failing,
                "rate": ratio(n_failing, n_checked),
                "examples": example_ids[ch.name],
                "prevention_cost": n_failing * PREVENTION_FACTOR * unit_cost,
                "correction_cost": n_failing * CORRECTION_FACTOR * unit_cost,
                "failure_cost": n_failing * FAILURE_FACTOR * unit_cost,
            }
        )
    if not rows:
        return empty_frame(REPORT_COLUMNS)
    return conform(pd.DataFrame(rows), REPORT_COLUMNS)


@dataclass(frozen=True)
class DuplicatePolicy:
    """What the duplicate-customer policy leaves out of every KPI, in the whole file
    (docs/decisions/014-duplicate-customers.md): the superseded ``records``, their
    ``touchpoints`` and ``revenue_months``, and ``text``, the sentence the Data quality
    page shows."""

    records: int
    touchpoints: int
    revenue_months: int
    text: str


def duplicate_policy_note(db: Database) -> DuplicatePolicy:
    """The duplicate-customer policy and what it leaves out, for the Data quality page.

    Records sharing the ``duplicate_customer`` check's key (same normalised name and
    e-mail, or name and valid phone) are one person: the lowest customer_id is kept, every
    other record (exactly the records that check fails, over the whole file) is left out of
    every other metric, with its touchpoints and revenue rows (`analytics.filters`). The
    counts are over the whole file: the policy is applied before any filter."""
    records = superseded_count(db)
    if records == 0:
        return DuplicatePolicy(0, 0, 0, "No duplicate customer records found: every record counts as its own "
                                        "customer.")
    ids = superseded_customer_ids(db)
    t, r = db.table("touchpoints"), db.table("monthly_revenue")
    t, r = t.semi_join(ids, "customer_id"), r.semi_join(ids, "customer_id")
    counts = execute(db, t.aggregate(touchpoints=t.count()).cross_join(r.aggregate(revenue_months=r.count()))).iloc[0]
    touchpoints, months = int(counts["touchpoints"]), int(counts["revenue_months"])
    plural = "record is" if records == 1 else "records are"
    text = (f"{records:,} duplicate customer {plural} counted once (policy: records with the same name and "
            "e-mail, or the same name and valid phone, are one person; of each group the record with the lowest "
            f"customer id is kept and the others are left out of every KPI, with their {touchpoints:,} contacts "
            f"and {months:,} revenue months).")
    return DuplicatePolicy(records, touchpoints, months, text)
