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
import pandas as pd

from analytics.db import Database
from analytics.filters import RetentionFilter, customers, monthly_revenue, touchpoints
from analytics.metrics._common import FAR_FUTURE, conform, empty_frame, execute, ratio
from analytics.schema import (
    ACQUISITION_CHANNELS,
    CHURN_REASONS,
    CONTRACT_TYPES,
    PLANS,
    REGIONS,
    SEGMENTS,
)

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^05\d-\d{7}$"  # Israeli mobile, 05X-XXXXXXX (docs/data-model.md)

# The 1-10-100 rule: cost per failing record, in units of `unit_cost`.
PREVENTION_FACTOR, CORRECTION_FACTOR, FAILURE_FACTOR = 1, 10, 100

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
    table: str
    description: str
    failing: ibis.Table  # one row per failing record, column `record_id`
    checked: ibis.Table  # the records examined


def _blank(col: ibis.StringValue) -> ibis.BooleanValue:
    return col.isnull() | (col.strip() == "")


def _normalised_name(col: ibis.StringValue) -> ibis.StringValue:
    return col.lower().strip().re_replace(r"\s+", " ")


def _customer_checks(c: ibis.Table, as_of: date) -> list[_Check]:
    def ids(cond) -> ibis.Table:
        return c.filter(cond).select(record_id=c.customer_id)

    email, phone = c.email, c.phone
    categorical = [
        ("segment", SEGMENTS),
        ("region", REGIONS),
        ("plan", PLANS),
        ("contract_type", CONTRACT_TYPES),
        ("acquisition_channel", ACQUISITION_CHANNELS),
    ]
    missing_attr = ibis.literal(False)
    invalid_attr = ibis.literal(False)
    for col, allowed in categorical:
        missing_attr = missing_attr | c[col].isnull()
        invalid_attr = invalid_attr | (c[col].notnull() & ~c[col].isin(allowed))
    missing_attr = missing_attr | c.signup_date.isnull()
    invalid_attr = invalid_attr | (c.churn_reason.notnull() & ~c.churn_reason.isin(CHURN_REASONS))

    # Duplicates: same normalised name and the same normalised e-mail, or the same valid
    # phone (digits only; placeholders such as '12345' or '000' would pair up strangers).
    # The lowest customer_id of a group is the original; the others fail.
    norm = c.select(
        c.customer_id,
        name=_normalised_name(c.full_name),
        email=c.email.lower().strip(),
        phone=ibis.cases(
            (c.phone.strip().re_search(PHONE_PATTERN), c.phone.re_replace(r"\D", "")),
            else_=ibis.null("string"),
        ),
    )
    dup_parts = []
    for key in ("email", "phone"):
        keyed = norm.filter(norm.name.notnull(), norm[key].notnull(), norm[key] != "")
        first = keyed.group_by(["name", key]).aggregate(original=keyed.customer_id.min())
        dup_parts.append(
            keyed.join(first, ["name", key])
            .filter(lambda t: t.customer_id != t.original)
            .select(record_id=ibis._.customer_id)
        )
    duplicates = dup_parts[0].union(dup_parts[1], distinct=True)
    repeated_ids = (
        c.group_by("customer_id")
        .aggregate(n=c.count())
        .filter(lambda t: t.n > 1)
        .select(record_id=ibis._.customer_id)
    )
    return [
        _Check("missing_email", "completeness", "customers", "e-mail is NULL or blank", ids(_blank(email)), c),
        _Check("missing_phone", "completeness", "customers", "phone is NULL or blank", ids(_blank(phone)), c),
        _Check("missing_name", "completeness", "customers", "full_name is NULL or blank", ids(_blank(c.full_name)), c),
        _Check(
            "missing_attributes", "completeness", "customers",
            "segment, region, plan, contract type, acquisition channel or signup date is NULL",
            ids(missing_attr), c,
        ),
        _Check(
            "churn_without_reason", "completeness", "customers",
            "churned (churn_date set) but churn_reason is NULL",
            ids(c.churn_date.notnull() & c.churn_reason.isnull()), c,
        ),
        _Check(
            "invalid_email", "validity", "customers", f"e-mail does not match {EMAIL_PATTERN}",
            ids(~_blank(email) & ~email.strip().re_search(EMAIL_PATTERN)), c,
        ),
        _Check(
            "invalid_phone", "validity", "customers", f"phone does not match {PHONE_PATTERN}",
            ids(~_blank(phone) & ~phone.strip().re_search(PHONE_PATTERN)), c,
        ),
        _Check(
            "invalid_category", "validity", "customers",
            "a categorical column holds a value outside the schema's list",
            ids(invalid_attr), c,
        ),
        _Check(
            "invalid_amount", "validity", "customers",
            "negative monthly_revenue or acquisition_cost, or margin_rate outside 0-1",
            ids(
                (c.monthly_revenue < 0)
                | (c.acquisition_cost < 0)
                | (c.margin_rate < 0)
                | (c.margin_rate > 1)
            ),
            c,
        ),
        _Check(
            "duplicate_customer", "uniqueness", "customers",
            "same normalised name and e-mail or valid phone as a customer with a lower id",
            duplicates, c,
        ),
        _Check(
            "duplicate_customer_id", "uniqueness", "customers",
            "customer_id appears on more than one row", repeated_ids, c,
        ),
        _Check(
            "churn_before_signup", "consistency", "customers", "churn_date earlier than signup_date",
            ids(c.churn_date < c.signup_date), c,
        ),
        _Check(
            "future_customer_dates", "consistency", "customers",
            "signup_date or churn_date after the as-of date",
            ids((c.signup_date > as_of) | (c.churn_date > as_of)), c,
        ),
    ]


def _touchpoint_checks(t: ibis.Table, c: ibis.Table, as_of: date) -> list[_Check]:
    # Customers whose churn date precedes their signup fail `churn_before_signup`; their
    # every touchpoint would follow the bad date, so they are not counted again here.
    # `t` may already hold a semi-join with the customers table (population filter), so
    # joining the same table again needs a distinct view for Ibis.
    c = c.view()
    churned = c.filter(c.churn_date.notnull(), c.churn_date >= c.signup_date).select(
        c.customer_id, c.churn_date
    )
    after = t.join(churned, t.customer_id == churned.customer_id)
    after = after.filter(after.occurred_at.date() > after.churn_date).select(
        record_id=after.touchpoint_id
    )
    future = t.filter(t.occurred_at >= ibis.literal(as_of).cast("timestamp") + ibis.interval(days=1))
    orphans = t.anti_join(c, t.customer_id == c.customer_id)
    return [
        _Check(
            "touchpoint_after_churn", "consistency", "touchpoints",
            "touchpoint on a day after its customer's churn_date (churn_date >= signup_date)",
            after, t,
        ),
        _Check(
            "future_touchpoints", "consistency", "touchpoints", "occurred_at after the as-of date",
            future.select(record_id=future.touchpoint_id), t,
        ),
        _Check(
            "orphan_touchpoints", "consistency", "touchpoints",
            "customer_id not found in customers", orphans.select(record_id=orphans.touchpoint_id), t,
        ),
    ]


def _revenue_checks(r: ibis.Table, as_of: date) -> list[_Check]:
    return [
        _Check(
            "negative_revenue", "validity", "monthly_revenue", "mrr below 0 (record id = customer_id)",
            r.filter(r.mrr < 0).select(record_id=r.customer_id), r,
        ),
        _Check(
            "future_revenue", "consistency", "monthly_revenue",
            "revenue month after the as-of date (record id = customer_id)",
            r.filter(r.month > as_of).select(record_id=r.customer_id), r,
        ),
    ]


def _as_of(db: Database, flt: RetentionFilter, as_of: date | None) -> date:
    if as_of is not None:
        return as_of
    value = db.schema_info().get("as_of_date")
    return date.fromisoformat(value) if value else flt.as_of


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
    (`EMAIL_PATTERN`), phone validity (`PHONE_PATTERN`, 05X-XXXXXXX), categorical values
    outside the schema, negative amounts; duplicate customers (same normalised name —
    lower case, trimmed, single spaces — plus the same case-insensitive e-mail or the same
    valid phone; the lowest id is the original) and repeated customer ids; churn before
    signup, touchpoints on a day after churn (customers failing churn-before-signup are
    not counted again), dates after the as-of date, touchpoints of
    unknown customers, negative MRR, revenue months after the as-of date. A selection
    without any record gives the checks with 0 checked and NaN rates."""
    if examples < 0:
        raise ValueError(f"examples must be >= 0, got {examples}")
    if unit_cost < 0:
        raise ValueError(f"unit_cost must be >= 0, got {unit_cost}")
    day = _as_of(db, flt, as_of)
    c = customers(db, flt)
    # Touchpoints with the population and channel filters but no date cut: dates beyond
    # the as-of date are exactly what one check looks for.
    t = touchpoints(db, flt.with_period(flt.start, FAR_FUTURE), in_period=False)
    r = monthly_revenue(db, flt)
    checks = _customer_checks(c, day) + _touchpoint_checks(t, c, day) + _revenue_checks(r, day)

    # One query for all the counts, one for all the examples.
    checked_by_table = {"customers": c, "touchpoints": t, "monthly_revenue": r}
    count_parts = [
        tbl.aggregate(key=ibis.literal(f"checked:{name}"), n=tbl.count())
        for name, tbl in checked_by_table.items()
    ] + [ch.failing.aggregate(key=ibis.literal(ch.name), n=ch.failing.count()) for ch in checks]
    counts = execute(db, ibis.union(*count_parts))
    n_by_key = dict(zip(counts["key"], counts["n"].astype(int)))
    example_ids: dict[str, list[int]] = {ch.name: [] for ch in checks}
    if examples > 0:
        parts = [
            ch.failing.select(key=ibis.literal(ch.name), record_id=ch.failing.record_id)
            .order_by("record_id")
            .limit(examples)
            for ch in checks
        ]
        ex = execute(db, ibis.union(*parts))
        for key, g in ex.groupby("key"):
            example_ids[key] = sorted(int(v) for v in g["record_id"])
    rows = []
    for ch in checks:
        failing = n_by_key.get(ch.name, 0)
        checked = n_by_key.get(f"checked:{ch.table}", 0)
        rows.append(
            {
                "check": ch.name,
                "dimension": ch.dimension,
                "table": ch.table,
                "description": ch.description,
                "checked": checked,
                "failing": failing,
                "rate": ratio(failing, checked),
                "examples": example_ids[ch.name],
                "prevention_cost": failing * PREVENTION_FACTOR * unit_cost,
                "correction_cost": failing * CORRECTION_FACTOR * unit_cost,
                "failure_cost": failing * FAILURE_FACTOR * unit_cost,
            }
        )
    if not rows:
        return empty_frame(REPORT_COLUMNS)
    return conform(pd.DataFrame(rows), REPORT_COLUMNS)
