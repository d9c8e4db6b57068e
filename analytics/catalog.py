"""What is in the database: the values the sidebar offers and the span of the history."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.db import Database


def dimension_values(db: Database) -> dict[str, list[str]]:
    """Distinct values of each filterable dimension, sorted (for the sidebar's choices, and
    the account owners for the at-risk list)."""
    c = db.table("customers")
    t = db.table("touchpoints")
    values = {
        key: sorted(v for v in c.select(column).distinct().execute()[column] if v is not None)
        for key, column in (("segments", "segment"), ("regions", "region"), ("plans", "plan"),
                            ("account_owners", "account_owner"))
    }
    values["channels"] = sorted(v for v in t.select("channel").distinct().execute()["channel"] if v is not None)
    return values


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


def data_present(db: Database) -> dict[str, bool]:
    """Which optional parts of the data model the file holds at all — ``revenue`` (a
    `monthly_revenue` row), ``purchases`` (a `purchase` touchpoint), ``requests`` (a
    `cancellation_request` touchpoint) — so a number that needs one can say so instead of
    showing 0. Asked once per read-only file."""
    if db.read_only and _PRESENT in db.read_only_facts:
        return db.read_only_facts[_PRESENT]
    r, t = db.table("monthly_revenue"), db.table("touchpoints")
    counts = db.ibis().to_pandas(t.aggregate(
        purchases=t.count(where=t.kind == "purchase"),
        requests=t.count(where=t.kind == "cancellation_request"),
    ).cross_join(r.aggregate(revenue=r.count()))).iloc[0]
    present = {name: bool(counts[name]) for name in ("revenue", "purchases", "requests")}
    if db.read_only:
        db.read_only_facts[_PRESENT] = present
    return present
