"""Duplicate customer records: the one duplicate key, and the records every KPI leaves out.

**The key** (docs/metrics.md#duplicate-customers; the data-quality check
``duplicate_customer`` uses the same one): two customer records are the same person when
they have the same normalised name (lower case, trimmed, runs of whitespace as one space)
and the same normalised e-mail (trimmed, case-insensitive), or the same normalised name
and the same *valid* phone (05X-XXXXXXX; placeholders such as '12345' or '000' would pair
up strangers).

**The policy: count each person once** (docs/decisions/014-duplicate-customers.md). In a
group of records sharing a key, the lowest ``customer_id`` is the person's record; every
other member is *superseded*. `analytics.filters` leaves superseded records out of every
population, and their touchpoints and revenue rows with them — so each KPI, live or from a
rollup, counts the person once. A superseded record is exactly a record the data-quality
check reports as ``duplicate_customer``.

**Cost.** Normalising a million names and e-mails costs DuckDB ~1.7 s, too much for every
query. When the data-quality rollup of duplicate candidates is fresh (analytics/rollups.py)
the ids come from it in milliseconds; otherwise `superseded_customer_ids` normalises once
per read-only database (the dashboard's file
cannot change while it is open, analytics/db.py) and keeps the ids — about 1% of the
customers — as a small in-memory table that the filters anti-join. A writable database is
asked again on each call (it may change; only tests and build commands write).
"""

from __future__ import annotations

import ibis
import pyarrow as pa

from analytics.db import Database

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^05\d-\d{7}$"  # Israeli mobile, 05X-XXXXXXX (docs/data-model.md)

_SUPERSEDED = "superseded customer ids"  # key in Database.read_only_facts


def blank(col: ibis.StringValue) -> ibis.BooleanValue:
    """NULL, empty or only whitespace."""
    # "no non-space character": cheaper in DuckDB than trim(col) = '' (no new string).
    return col.isnull() | ~col.re_search(r"\S")


def padded(pattern: str) -> str:
    """`pattern` (anchored ^...$) allowing surrounding whitespace, instead of trimming."""
    return r"^\s*" + pattern[1:-1] + r"\s*$"


def trimmed(col: ibis.StringValue) -> ibis.StringValue:
    # Ibis compiles .strip() to TRIM(col, '<six whitespace chars>'), which DuckDB runs
    # 2-3x slower than a regex on a million distinct e-mails.
    return col.re_replace(r"^\s+|\s+$", "")


def normalised_name(col: ibis.StringValue) -> ibis.StringValue:
    # Runs of whitespace collapse to one space. Names repeat a lot, so DuckDB evaluates
    # lower/trim per distinct value; the regex replace only runs where it changes something.
    collapsed = ibis.cases((col.re_search(r"\s\s|[\t\n\r\f\v]"), col.re_replace(r"\s+", " ")), else_=col)
    return collapsed.strip().lower()


def duplicate_keys(c: ibis.Table) -> ibis.Table:
    """customer_id, normalised name, e-mail and valid phone (NULL where blank / invalid)."""
    phone_ok = c.phone.re_search(padded(PHONE_PATTERN))
    return c.select(
        c.customer_id,
        name=normalised_name(c.full_name),
        email=ibis.cases((blank(c.email), ibis.null("string")), else_=trimmed(c.email).lower()),
        phone=ibis.cases((phone_ok, trimmed(c.phone)), else_=ibis.null("string")),
    )


def later_members(keyed: ibis.Table, keys: list[str]) -> ibis.Table:
    """record_id of every member of a group (same `keys`) above the group's lowest id."""
    # Only groups with more than one member are joined back, which keeps the join small
    # (twice as fast on 1M customers as a window over all of them).
    groups = keyed.group_by(keys).aggregate(original=keyed.customer_id.min(), members=keyed.count())
    groups = groups.filter(groups.members > 1)
    later = keyed.join(groups, keys)
    return later.filter(later.customer_id > later.original).select(record_id=later.customer_id)


def superseded_records(c: ibis.Table) -> ibis.Table:
    """``record_id`` of every record of `c` (a customers table) that shares the name +
    e-mail or name + valid-phone key with a record of lower ``customer_id`` (distinct)."""
    norm = duplicate_keys(c)
    parts = []
    for key in ("email", "phone"):
        keyed = norm.filter(norm[key].notnull()).select("customer_id", "name", key)
        parts.append(later_members(keyed, ["name", key]))
    return parts[0].union(parts[1], distinct=True)


def superseded_customer_ids(db: Database) -> ibis.Table | None:
    """The superseded records of the whole file as a one-column (``customer_id``) in-memory
    table, or None when there is none (then the filters add nothing to a query). Computed
    once per read-only database."""
    ids = _superseded_ids(db)
    return ids[1] if ids is not None else None


def superseded_count(db: Database) -> int:
    """How many records of the file are superseded (left out of every KPI)."""
    ids = _superseded_ids(db)
    return 0 if ids is None else ids[0]


def _superseded_ids(db: Database) -> tuple[int, ibis.Table] | None:
    if db.read_only:
        if _SUPERSEDED not in db.read_only_facts:
            db.read_only_facts[_SUPERSEDED] = _superseded(db)
        return db.read_only_facts[_SUPERSEDED]
    return _superseded(db)


def superseded_from_candidates(candidates: ibis.Table) -> ibis.Table:
    """`superseded_records` from the data-quality rollup ``rollup_dq_duplicate_candidates``
    (the members of every name + e-mail group, ``email_group``, and name + valid-phone
    group, ``phone_group``, built with this module's key): in each group, every member
    above its lowest ``customer_id``. A few thousand rows instead of normalising every
    name and e-mail: 1.7 s → milliseconds at 1M customers."""
    parts = []
    for key in ("email_group", "phone_group"):
        keyed = candidates.filter(candidates[key].notnull()).select("customer_id", key)
        groups = keyed.group_by(key).aggregate(original=keyed.customer_id.min())
        later = keyed.join(groups, key)
        parts.append(later.filter(later.customer_id > later.original).select(record_id=later.customer_id))
    return parts[0].union(parts[1], distinct=True)


def _superseded(db: Database) -> tuple[int, ibis.Table] | None:
    # imported here: the rollups' sources go through the filters, which import this module
    from analytics.rollups import DQ_DUPLICATES, fresh_rollup

    # only a read-only file (the dashboard's) reads the rollup: a writer may be rebuilding
    # it in an open transaction on this very connection (analytics.rollups.build_rollups)
    candidates = fresh_rollup(db, DQ_DUPLICATES) if db.read_only else None
    found = (superseded_from_candidates(candidates) if candidates is not None
             else superseded_records(db.table("customers")))
    ids = db.ibis().to_pyarrow(found.select(customer_id=found.record_id.cast("int64")).order_by("customer_id"))
    if ids.num_rows == 0:
        return None
    return ids.num_rows, ibis.memtable(pa.table({"customer_id": ids["customer_id"]}))


def without_superseded(db: Database, rows: ibis.Table) -> ibis.Table:
    """`rows` (any table with ``customer_id``: customers, touchpoints, revenue) without the
    rows of superseded records."""
    ids = superseded_customer_ids(db)
    if ids is None:
        return rows
    # the select finishes the join, so callers may join, view or self-join the result
    return rows.anti_join(ids, "customer_id").select(*rows.columns)
