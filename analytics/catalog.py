"""What is in the database: the values the sidebar offers and the span of the history."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd

from analytics.db import Database


def dimension_values(db: Database) -> dict[str, list[str]]:
    """Distinct values of each filterable dimension, sorted (for the sidebar's choices, and
    the account owners for the at-risk list); under ``attributes`` the custom attributes
    that can be filters (`custom_attributes`)."""
    c = db.table("customers")
    t = db.table("touchpoints")
    values = {
        key: sorted(v for v in c.select(column).distinct().execute()[column] if v is not None)
        for key, column in (("segments", "segment"), ("regions", "region"), ("plans", "plan"),
                            ("account_owners", "account_owner"))
    }
    values["channels"] = sorted(v for v in t.select("channel").distinct().execute()["channel"] if v is not None)
    values["attributes"] = custom_attributes(db)
    return values


# A custom attribute with more distinct values than this (an id, a free-text field) is not
# offered as a filter: a list of thousands of choices filters nothing anyone can read.
MAX_FILTER_VALUES = 100


def custom_attributes(db: Database) -> dict[str, list[str]]:
    """The export's own customer columns kept by the importer (`customer_attributes`) that
    can be filters: attribute -> its distinct values, sorted; attributes with more than
    `MAX_FILTER_VALUES` values are left out. Empty for a file without the table."""
    if not db.has_table("customer_attributes"):
        return {}
    a = db.table("customer_attributes")
    a = a.filter(a.value.notnull())
    counts = db.ibis().to_pandas(a.group_by("attribute", "value").aggregate(n=a.count()))
    out: dict[str, list[str]] = {}
    for name, rows in counts.groupby("attribute", sort=True):
        if len(rows) <= MAX_FILTER_VALUES:
            out[str(name)] = sorted(str(v) for v in rows["value"])
    return out


def earliest_signup(db: Database) -> date:
    """The first signup date in the file (a fallback history start for imported data)."""
    c = db.table("customers")
    return pd.Timestamp(c.signup_date.min().execute()).date()


def history_start(db: Database) -> date:
    """First day of the data's history: ``schema_info.history_start`` when the file records
    it, else the earliest signup (an import without it is taken to start at its first
    customer; a file without customers at its as-of date). Customers who signed up before
    this day are only seen from it on: survival counts them from here (delayed entry,
    docs/metrics.md#survival-curve)."""
    info = db.schema_info()
    if info.get("history_start"):
        return date.fromisoformat(info["history_start"])
    first = earliest_signup(db)
    return first if not pd.isna(first) else date.fromisoformat(info["as_of_date"])


_DATA_AS_OF = "data as-of date"  # key in Database.read_only_facts


def data_as_of(db: Database) -> date | None:
    """The data's as-of date: ``schema_info.as_of_date``, the last day the file holds
    events for (None when the file does not say). Outcomes that are observed after an
    event — a retention call's result, whether a saved customer stayed 90 days — are known
    up to this date, whatever period the filter selects. Read once per read-only file."""
    if db.read_only and _DATA_AS_OF in db.read_only_facts:
        return db.read_only_facts[_DATA_AS_OF]
    value = db.schema_info().get("as_of_date")
    day = date.fromisoformat(value) if value else None
    if db.read_only:
        db.read_only_facts[_DATA_AS_OF] = day
    return day


_PRESENT = "data present"  # key in Database.read_only_facts


# Inbound service contacts: what the service metrics count (analytics/metrics/service.py).
SERVICE_KINDS = ("service_request", "complaint", "billing_issue")


def inbound_or_unrecorded(t: ibis.Table) -> ibis.BooleanValue:
    """Inbound, or no direction recorded: many ticket exports have no direction column, and
    the service kinds are raised by the customer (docs/metrics.md, "Service experience")."""
    return t.direction.isnull() | (t.direction == "inbound")


def is_service_contact(t: ibis.Table) -> ibis.BooleanValue:
    """A service contact: a `SERVICE_KINDS` touchpoint, inbound or of unrecorded direction —
    the one definition the service metrics, the risk features and `data_present` share."""
    return t.kind.isin(SERVICE_KINDS) & inbound_or_unrecorded(t)

# What each optional part of the data is, in the words of a "needs X" note.
NEEDS: dict[str, str] = {
    "revenue": "monthly revenue (a monthly-revenue file, or subscription periods or invoices to derive it from)",
    "purchases": "purchases (touchpoints of kind purchase, or a purchase log)",
    "requests": "cancellation requests (touchpoints of kind cancellation_request)",
    "contacts": "service contacts (touchpoints of kind service_request, complaint or billing_issue)",
    "surveys": "survey answers (CSAT or NPS on touchpoints)",
    "notes": "agents' notes (the note column of touchpoints)",
    "outcomes": "retention-call outcomes (the outcome column of retention calls)",
    "wait_times": "wait times (wait_seconds on service contacts)",
    "fcr": "first-contact-resolution flags (first_contact_resolution on service contacts)",
    "churn_dates": "churn dates",
}

# What the file lacks, when "your data has none" is not what happened: a single snapshot has
# churned customers, all on one (imported or guessed) date.
_LACKS: dict[str, str] = {
    "churn_dates": "your data records who has left, not when (a single snapshot)",
}


def needs(part: str, what: str) -> str:
    """The one-line note for `what` (a metric or section) when the file has no `part`:
    "Historical CLV needs monthly revenue (…) — your data has none."; for ``churn_dates``
    "Churn over time needs churn dates — your data records who has left, not when (a single
    snapshot)."."""
    return f"{what} needs {NEEDS[part]} — {_LACKS.get(part, 'your data has none')}."


def single_churn_date(db: Database, as_of: date | None = None) -> tuple[int, date] | None:
    """(churned customers, their churn date) when every customer who churned on or before
    `as_of` (any date when None) has the same churn date — the data records who has left,
    not when: a single snapshot, whose importer gives every churner the as-of date
    (analytics/load.py). None when nobody churned (nothing says the dates are missing) or
    the churn dates differ, or only one customer churned (one date says nothing about
    whether dates were recorded; a dated file with one leaver keeps its churn figures). The
    one rule for the scorer
    (`analytics.risk.model.single_snapshot_reason`) and the pages (`data_present`'s
    ``churn_dates``)."""
    c = db.table("customers")
    churned = c.filter(c.churn_date.notnull())
    if as_of is not None:
        churned = churned.filter(churned.churn_date <= ibis.literal(as_of))
    # one date = the earliest is the latest (min/max: no distinct count over every customer)
    stats = db.ibis().to_pandas(churned.aggregate(n=churned.count(), first=churned.churn_date.min(),
                                                  last=churned.churn_date.max()))
    n, first, last = stats["n"].iloc[0], stats["first"].iloc[0], stats["last"].iloc[0]
    if pd.isna(n) or int(n) < 2 or first != last:
        return None
    return int(n), pd.Timestamp(stats["first"].iloc[0]).date()


def data_present(db: Database) -> dict[str, bool]:
    """Which optional parts of the data model the file holds at all (the keys of `NEEDS`):
    ``revenue`` (a `monthly_revenue` row), ``purchases``, ``requests``, ``contacts``
    (touchpoints of those kinds), ``surveys`` (a CSAT or NPS answer), ``notes`` (a
    non-blank note), ``outcomes`` (a recorded outcome), ``wait_times`` and ``fcr`` (on a
    service contact), ``churn_dates`` (False for a single snapshot: churned customers who
    all share one churn date by the data's as-of date, `single_churn_date`; True when the
    dates differ or nobody churned) — so a number that needs one says so instead of
    showing 0, or a period churn rate as if everyone left on the as-of date. Asked once
    per read-only file, over the whole file (not the filter: a filter that matches nothing
    is a different message)."""
    if db.read_only and _PRESENT in db.read_only_facts:
        return db.read_only_facts[_PRESENT]
    r, t = db.table("monthly_revenue"), db.table("touchpoints")
    contact = is_service_contact(t)
    conditions = {
        "purchases": t.kind == "purchase",
        "requests": t.kind == "cancellation_request",
        "contacts": contact,
        "surveys": t.csat.notnull() | t.nps.notnull(),
        "notes": t.note.notnull() & t.note.re_search(r"\S"),
        "outcomes": t.outcome.notnull(),
        "wait_times": contact & t.wait_seconds.notnull(),
        "fcr": contact & t.first_contact_resolution.notnull(),
    }
    # One row per part found: each branch stops at its first matching row, so a file that
    # has everything is answered without reading every touchpoint (counting them all took
    # seconds at 20M touchpoints); an absent part still reads its table once.
    found = ibis.union(
        *(t.filter(cond).select(part=ibis.literal(name)).limit(1) for name, cond in conditions.items()),
        r.select(part=ibis.literal("revenue")).limit(1),
    )
    parts = set(db.ibis().to_pandas(found)["part"])
    present = {name: name in parts for name in NEEDS if name != "churn_dates"}
    present["churn_dates"] = single_churn_date(db, data_as_of(db)) is None
    if not present["purchases"] and db.has_table("purchases"):  # an imported purchase log
        p = db.table("purchases")
        present["purchases"] = bool(db.ibis().to_pandas(p.aggregate(n=p.count()))["n"].iloc[0])
    if db.read_only:
        db.read_only_facts[_PRESENT] = present
    return present
