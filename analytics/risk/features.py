"""Churn-risk features of every customer active on an as-of date, computed in the database.

One row per customer **active on the as-of date** d (`signup_date ≤ d` and `churn_date` is
NULL or after d; docs/data-model.md). Every feature uses only rows dated on or before d:
touchpoints with `occurred_at` before midnight after d, `monthly_revenue` months starting
on or before d. "In the last N days" means the N days ending on d, d included.

The label (`churned_90d`) is 1 when `churn_date` falls in (d, d + 90 days]; it is only
meaningful when d + 90 days is on or before the database's as-of date.

The aggregation runs in DuckDB through Ibis (a few scans of the touchpoints inside a
365-day window plus one pass over surveys), so 20M touchpoints never reach pandas; the
result is one small row per customer.

The categories of contract type, plan and segment come from the data
(`feature_categories`: the customers table's distinct values, at most `MAX_CATEGORIES`,
the rest as "other"), not from a fixed list, so an export's own plans ("Fiber optic")
and segments ("SMB") are features. A model keeps the categories it was trained with
(`frame_categories`, the model's `categories_`) and scoring conforms to them: a value the
model never saw is missing for it (or "other" when its categories were capped).

Known limits of the data model, not of this module: `customers` holds only the current
plan, contract, segment and loyalty flag (no history), so for earlier as-of dates these
are today's values. Plan changes are rare (under 1 % a month in the sample); the MRR
features come from `monthly_revenue`, which is dated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Sequence

import ibis
import numpy as np
import pandas as pd

from analytics.db import Database
from analytics.catalog import inbound_or_unrecorded, is_service_contact
from analytics.duplicates import blank
from analytics.risk.note_signals import NOTE_SIGNALS, note_signal_columns

LABEL = "churned_90d"
HORIZON_DAYS = 90
# A wait over this multiple of the channel's median wait counts as a long wait (the
# simulation uses the same rule; the median is taken from the year before the as-of date).
LONG_WAIT_FACTOR = 3.0
REPEAT_WINDOW_DAYS = 7  # a repeat contact: same subject again within 7 days
DAYS_SINCE_CAP = 365  # "days since last contact" when there was none in the last year

# Customer columns used as categorical features; their categories come from the data
# (`feature_categories`), not from the sample business's lists in analytics/schema.py.
CATEGORICAL_FEATURES: tuple[str, ...] = ("contract_type", "plan", "segment")
# At most this many categories per column: the most frequent values (ties by value), every
# other value grouped as OTHER (the bucket name custom attributes use too,
# analytics.risk.attributes). A column with hundreds of values (product codes exported as
# plans) would otherwise give one-hot columns and tree splits resting on a few customers.
MAX_CATEGORIES = 20
OTHER = "other"

FeatureCategories = dict[str, tuple[str, ...]]

# Touchpoint kinds counted over 30 and 90 days, and the ones counted over 90 days only.
KIND_COUNTS_30_90 = ("service_request", "complaint", "billing_issue", "cancellation_request")
KIND_COUNTS_90 = ("retention_call", "proactive_outreach", "purchase")
_PLURAL = {"proactive_outreach": "proactive_outreaches"}


def kind_count(kind: str, days: int) -> str:
    """Feature name of the count of `kind` touchpoints in the last `days` days."""
    return f"{_PLURAL.get(kind, kind + 's')}_{days}d"


NUMERIC_FEATURES: tuple[str, ...] = (
    "tenure_months",
    "loyalty_member",
    "mrr",
    "mrr_change_3m_pct",
    *(kind_count(k, w) for k in KIND_COUNTS_30_90 for w in (30, 90)),
    *(kind_count(k, 90) for k in KIND_COUNTS_90),
    "unresolved_contacts_30d",
    "unresolved_contacts_90d",
    "unresolved_complaints_30d",
    "service_contacts_365d",
    "unresolved_contacts_365d",
    "open_cancellation_request",
    "days_since_cancellation_request",
    "repeat_contacts_90d",
    "long_waits_90d",
    "saved_by_offer_180d",
    "proactively_retained_180d",
    "days_since_last_contact",
    "last_csat",
    "last_nps",
    "csat_trend",
    *(f"note_{s}_90d" for s in NOTE_SIGNALS),
)
FEATURES: tuple[str, ...] = (*CATEGORICAL_FEATURES, *NUMERIC_FEATURES)

# Features by the optional data they are computed from. A source the data lacks (a real
# export often has no surveys, no notes, no touchpoints at all, or no revenue rows) gives a
# column that is empty or constant for everyone, which carries no signal and, when all
# missing, makes the booster's binning fail; the model drops those features instead
# (`absent_sources`, `analytics.risk.model.train_risk_model`) and the model card says why.
# Customer columns (contract, plan, segment, loyalty, tenure) are required data.
SURVEY_FEATURES = ("last_csat", "last_nps", "csat_trend")
NOTE_FEATURES = tuple(f"note_{s}_90d" for s in NOTE_SIGNALS)
REVENUE_FEATURES = ("mrr", "mrr_change_3m_pct")
CONTACT_FEATURES = tuple(
    c for c in NUMERIC_FEATURES
    if c not in (*SURVEY_FEATURES, *NOTE_FEATURES, *REVENUE_FEATURES, "tenure_months", "loyalty_member"))
FEATURE_SOURCES: dict[str, tuple[str, ...]] = {
    "touchpoints": (*CONTACT_FEATURES, *SURVEY_FEATURES, *NOTE_FEATURES),
    "surveys": SURVEY_FEATURES,
    "notes": NOTE_FEATURES,
    "revenue": REVENUE_FEATURES,
}
# The features of each source, in words (the model card's "left out: ..." line).
SOURCE_LABELS: dict[str, str] = {
    "touchpoints": "every touchpoint feature (contacts, complaints, cancellation requests, "
                   "retention calls, waits, surveys, notes)",
    "surveys": "satisfaction (last CSAT, last NPS, CSAT trend)",
    "notes": "agent-note signals",
    "revenue": "MRR and its 3-month change",
}
# What the data lacks, in the model card's words ("dropped: ... — <reason>").
ABSENT_SOURCE_REASONS: dict[str, str] = {
    "touchpoints": "no touchpoints in the data",
    "surveys": "no survey answers in the data",
    "notes": "no agent notes in the data",
    "revenue": "no monthly revenue rows in the data",
}

# What each feature means, in words (the model card lists them).
FEATURE_DESCRIPTIONS: dict[str, str] = {
    "contract_type": "contract type (current)",
    "plan": "plan (current)",
    "segment": "segment",
    "tenure_months": "months since signup (365.25/12-day months)",
    "loyalty_member": "loyalty-club member (1/0)",
    "mrr": "MRR billed for the as-of month",
    "mrr_change_3m_pct": "relative MRR change against 3 months earlier (price rise, discount, plan change)",
    **{kind_count(k, w): f"{k.replace('_', ' ')} touchpoints in the last {w} days"
       for k in KIND_COUNTS_30_90 for w in (30, 90)},
    **{kind_count(k, 90): f"{k.replace('_', ' ')} touchpoints in the last 90 days" for k in KIND_COUNTS_90},
    "unresolved_contacts_30d": "service contacts with resolved = false, last 30 days",
    "unresolved_contacts_90d": "service contacts with resolved = false, last 90 days",
    "unresolved_complaints_30d": "complaints with resolved = false, last 30 days (the baseline rule's input)",
    "service_contacts_365d": "service contacts in the last year (how much friction the customer has)",
    "unresolved_contacts_365d": "unresolved service contacts in the last year",
    "open_cancellation_request": "a cancellation request in the last 30 days with no accepted retention offer after it",
    "days_since_cancellation_request": "days since the last cancellation request (365 = none in a year)",
    "repeat_contacts_90d": "service contacts repeating one on the same subject within 7 days, last 90 days",
    "long_waits_90d": "service contacts that waited over 3x the channel's median wait, last 90 days",
    "saved_by_offer_180d": "retention calls with an accepted offer, last 180 days",
    "proactively_retained_180d": "proactive outreaches with an accepted offer, last 180 days",
    "days_since_last_contact": "days since the last service contact (365 = none in a year)",
    "last_csat": "last CSAT answer (1-5), ever",
    "last_nps": "last NPS answer (0-10), ever",
    "csat_trend": "last CSAT minus the customer's mean CSAT over the last year",
    **{f"note_{s}_90d": f"agent notes in the last 90 days that fire the '{s}' text signal"
       for s in NOTE_SIGNALS},
}


@dataclass(frozen=True)
class _Window:
    """Timestamp bounds of the look-back windows ending on the as-of date."""

    as_of: date

    def start(self, days: int) -> datetime:
        """Midnight starting the `days`-day window that ends on the as-of date."""
        return datetime.combine(self.as_of - timedelta(days=days - 1), time())

    @property
    def end(self) -> datetime:
        """Midnight after the as-of date (exclusive upper bound)."""
        return datetime.combine(self.as_of + timedelta(days=1), time())


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _months_before(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def active_customers(db: Database, as_of: date) -> ibis.Table:
    """Customers active on `as_of` (the population scored on that date)."""
    c = db.table("customers")
    d = ibis.literal(as_of)
    return c.filter((c.signup_date <= d) & (c.churn_date.isnull() | (c.churn_date > d)))


def absent_sources(db: Database, as_of: date) -> dict[str, str]:
    """The optional data sources with no usable row dated on or before `as_of`, each with
    the reason in words (`ABSENT_SOURCE_REASONS`), in `FEATURE_SOURCES` order.

    A source is absent when: touchpoints — no touchpoint before midnight after `as_of`;
    surveys — no `survey` touchpoint with a CSAT answer; notes — no touchpoint with a note;
    revenue — no `monthly_revenue` row with an MRR for a month starting on or before `as_of`.
    """
    end = ibis.literal(_Window(as_of).end)
    tp = db.table("touchpoints")
    tp = tp.filter(tp.occurred_at < end)
    r = db.table("monthly_revenue")
    r = r.filter((r.month <= ibis.literal(as_of)) & r.mrr.notnull())
    present = {
        "touchpoints": tp.count(),
        "surveys": tp.filter((tp.kind == "survey") & tp.csat.notnull()).count(),
        "notes": tp.filter(tp.note.notnull()).count(),
        "revenue": r.count(),
    }
    con = db.ibis()
    return {name: ABSENT_SOURCE_REASONS[name] for name, n in present.items() if not con.execute(n)}


def _restrict(table: ibis.Table, ids: ibis.Table | None) -> ibis.Table:
    return table if ids is None else table.semi_join(ids, table.customer_id == ids.customer_id)


def feature_expr(db: Database, as_of: date, customer_ids: Sequence[int] | None = None) -> ibis.Table:
    """The Ibis expression behind `snapshot_features` (one row per active customer)."""
    w = _Window(as_of)
    ids = None
    if customer_ids is not None:
        ids = ibis.memtable(pd.DataFrame({"customer_id": np.asarray(customer_ids, dtype="int64")}))

    pop = _restrict(active_customers(db, as_of), ids)
    d = ibis.literal(as_of)
    population = pop.select(
        "customer_id",
        "contract_type",
        "plan",
        "segment",
        tenure_months=d.delta(pop.signup_date, unit="day").cast("float64") / (365.25 / 12),
        loyalty_member=pop.loyalty_member.fill_null(False).cast("int8"),
        **{LABEL: (pop.churn_date.notnull() & (pop.churn_date <= d + ibis.interval(days=HORIZON_DAYS))).cast("int8")},
    )

    # --- MRR now and 3 months ago (monthly_revenue is dated: no look-ahead)
    m0, m3 = _month_start(as_of), _months_before(as_of, 3)
    r = _restrict(db.table("monthly_revenue"), ids)
    r = r.filter(r.month.isin([ibis.literal(m0), ibis.literal(m3)]))
    revenue = r.group_by("customer_id").aggregate(
        mrr=r.mrr.max(where=r.month == ibis.literal(m0)),
        mrr_3m_ago=r.mrr.max(where=r.month == ibis.literal(m3)),
    )

    # --- touchpoints in the year up to the as-of date
    tp_all = _restrict(db.table("touchpoints"), ids)
    tp = tp_all.filter((tp_all.occurred_at >= w.start(365)) & (tp_all.occurred_at < w.end))

    # channel medians of the wait, from the year before the as-of date (inbound contacts)
    year = tp_all.filter(
        (tp_all.occurred_at >= w.start(365)) & (tp_all.occurred_at < w.end)
        & tp_all.wait_seconds.notnull() & inbound_or_unrecorded(tp_all)
    )
    medians = year.group_by("channel").aggregate(median_wait=year.wait_seconds.median())
    tpm = tp.left_join(medians, "channel")
    in30 = tpm.occurred_at >= w.start(30)
    in90 = tpm.occurred_at >= w.start(90)
    in180 = tpm.occurred_at >= w.start(180)
    issue = is_service_contact(tpm)
    unresolved = issue & (tpm.resolved == False)  # noqa: E712 - SQL comparison, NULL stays NULL
    long_wait = issue & (tpm.wait_seconds > LONG_WAIT_FACTOR * tpm.median_wait)
    # classify each distinct note once (agents reuse phrasings; RE2 is the costly part),
    # then count per customer
    noted = tpm.filter(in90 & tpm.note.notnull())
    distinct_notes = noted.select("note").distinct()
    classified = distinct_notes.mutate(
        **{f"is_{s}": hit for s, hit in note_signal_columns(distinct_notes.note).items()})
    noted = noted.select("customer_id", "note").inner_join(classified, "note")
    note_counts = noted.group_by("customer_id").aggregate(
        **{f"note_{s}_90d": noted.count(where=noted[f"is_{s}"]) for s in NOTE_SIGNALS})

    aggs: dict[str, ibis.Value] = {}
    for kind in KIND_COUNTS_30_90:
        aggs[kind_count(kind, 30)] = tpm.count(where=(tpm.kind == kind) & in30)
        aggs[kind_count(kind, 90)] = tpm.count(where=(tpm.kind == kind) & in90)
    for kind in KIND_COUNTS_90:
        aggs[kind_count(kind, 90)] = tpm.count(where=(tpm.kind == kind) & in90)
    aggs.update(
        unresolved_contacts_30d=tpm.count(where=unresolved & in30),
        unresolved_contacts_90d=tpm.count(where=unresolved & in90),
        unresolved_complaints_30d=tpm.count(where=unresolved & (tpm.kind == "complaint") & in30),
        long_waits_90d=tpm.count(where=long_wait & in90),
        service_contacts_365d=tpm.count(where=issue),
        unresolved_contacts_365d=tpm.count(where=unresolved),
        saved_by_offer_180d=tpm.count(
            where=(tpm.kind == "retention_call") & (tpm.outcome == "offer_accepted") & in180),
        proactively_retained_180d=tpm.count(
            where=(tpm.kind == "proactive_outreach") & (tpm.outcome == "offer_accepted") & in180),
        last_service_contact_at=tpm.occurred_at.max(where=issue),
        last_cancellation_request_at=tpm.occurred_at.max(where=tpm.kind == "cancellation_request"),
        last_save_at=tpm.occurred_at.max(
            where=(tpm.kind == "retention_call") & (tpm.outcome == "offer_accepted")),
    )
    contacts = tpm.group_by("customer_id").aggregate(**aggs)

    # --- repeat contacts (docs/metrics.md): a service contact with another service contact
    # on the same subject in the 7 × 24 hours before it (look back 7 extra days for it)
    iss = tp.filter(
        is_service_contact(tp)
        & (tp.occurred_at >= w.start(HORIZON_DAYS + REPEAT_WINDOW_DAYS))
    )
    prev = iss.occurred_at.lag().over(
        ibis.window(group_by=[iss.customer_id, iss.subject], order_by=iss.occurred_at))
    iss = iss.mutate(gap_s=iss.occurred_at.delta(prev, unit="second"))
    repeats = iss.group_by("customer_id").aggregate(
        repeat_contacts_90d=iss.count(
            where=(iss.occurred_at >= w.start(HORIZON_DAYS)) & (iss.gap_s <= REPEAT_WINDOW_DAYS * 86400)),
    )

    # --- surveys: last answer ever (up to the as-of date) and the trend against the year
    sv = tp_all.filter((tp_all.kind == "survey") & (tp_all.occurred_at < w.end) & tp_all.csat.notnull())
    surveys = sv.group_by("customer_id").aggregate(
        last_csat=sv.csat.argmax(sv.occurred_at),
        last_nps=sv.nps.argmax(sv.occurred_at),
        csat_mean_365d=sv.csat.mean(where=sv.occurred_at >= w.start(365)),
    )

    out = population
    for part in (revenue, contacts, note_counts, repeats, surveys):
        out = out.left_join(part, "customer_id").drop("customer_id_right")

    zero = [*(kind_count(k, w_) for k in KIND_COUNTS_30_90 for w_ in (30, 90)),
            *(kind_count(k, 90) for k in KIND_COUNTS_90),
            "unresolved_contacts_30d", "unresolved_contacts_90d", "unresolved_complaints_30d",
            "long_waits_90d", "saved_by_offer_180d", "proactively_retained_180d",
            "service_contacts_365d", "unresolved_contacts_365d",
            "repeat_contacts_90d", *(f"note_{s}_90d" for s in NOTE_SIGNALS)]
    end_ts = ibis.literal(w.end)
    out = out.mutate(
        **{c: out[c].fill_null(0) for c in zero},
        mrr_change_3m_pct=ibis.cases(
            (out.mrr_3m_ago > 0, (out.mrr - out.mrr_3m_ago) / out.mrr_3m_ago), else_=ibis.null("float64")),
        # days from the last service contact to the end of the as-of day, whole days, capped
        days_since_last_contact=ibis.least(
            (end_ts.delta(out.last_service_contact_at, unit="second") // 86400).fill_null(DAYS_SINCE_CAP),
            DAYS_SINCE_CAP,
        ),
        csat_trend=(out.last_csat.cast("float64") - out.csat_mean_365d).fill_null(0.0),
        days_since_cancellation_request=ibis.least(
            (end_ts.delta(out.last_cancellation_request_at, unit="second") // 86400).fill_null(DAYS_SINCE_CAP),
            DAYS_SINCE_CAP,
        ),
        # a request in the last 30 days that no accepted retention offer answered (yet)
        open_cancellation_request=(
            (out.last_cancellation_request_at >= w.start(30))
            & (out.last_save_at.isnull() | (out.last_save_at < out.last_cancellation_request_at))
        ).fill_null(False).cast("int8"),
    )
    return out.select("customer_id", *FEATURES, LABEL).order_by("customer_id")


def categories_from_counts(counts: pd.DataFrame, max_categories: int = MAX_CATEGORIES) -> FeatureCategories:
    """Categories per feature from value counts (columns `feature`, `value`, `customers`):
    every value, sorted, when there are at most `max_categories`; otherwise the
    `max_categories` most frequent (ties by value), sorted, then `OTHER`. A feature without
    any value gets no category (all missing)."""
    out: FeatureCategories = {}
    for name in CATEGORICAL_FEATURES:
        rows = counts[counts["feature"] == name]
        values = rows["value"].astype(str).to_numpy()
        if len(values) <= max_categories:
            out[name] = tuple(sorted(values))
            continue
        order = np.lexsort((values, -rows["customers"].to_numpy()))  # most frequent, ties by value
        top = sorted(values[order[:max_categories]])
        out[name] = (*top, OTHER) if OTHER not in top else tuple(top)
    return out


def feature_categories(db: Database, max_categories: int = MAX_CATEGORIES) -> FeatureCategories:
    """The categories of each categorical feature in `db`: the distinct non-blank values of
    the column over every customer record (not only the active ones), sorted, capped as
    `categories_from_counts` says. One small query (values and counts of the three
    columns)."""
    c = db.table("customers")
    parts = []
    for name in CATEGORICAL_FEATURES:
        kept = c.filter(~blank(c[name]))
        parts.append(kept.group_by(value=kept[name]).aggregate(customers=kept.count())
                     .select(feature=ibis.literal(name), value="value", customers="customers"))
    counts = db.ibis().to_pandas(ibis.union(*parts, distinct=False))
    return categories_from_counts(counts, max_categories)


def frame_categories(frame: pd.DataFrame) -> FeatureCategories:
    """The categories a feature frame (`snapshot_features`) carries, per categorical
    feature it has: what a model fitted on it knows (kept as the model's `categories_`)."""
    return {name: tuple(str(v) for v in frame[name].cat.categories) for name in CATEGORICAL_FEATURES
            if name in frame.columns and isinstance(frame[name].dtype, pd.CategoricalDtype)}


def snapshot_features(db: Database, as_of: date, customer_ids: Sequence[int] | None = None,
                      categories: FeatureCategories | None = None) -> pd.DataFrame:
    """Features and label of every customer active on `as_of` (optionally only `customer_ids`).

    Returns one row per customer: `customer_id`, `as_of_date`, the columns in `FEATURES`
    (categoricals as pandas `category` with `categories` — a trained model's, so scoring
    sees what training saw — or, when None, the data's own (`feature_categories`); counts
    as floats; `mrr`, `mrr_change_3m_pct`, `last_csat`, `last_nps` NaN when unknown) and
    `churned_90d`. Sorted by `customer_id`. Pass `categories` when taking several
    snapshots of one database, so its categories are read once.
    """
    known = dict(categories or {})
    if any(name not in known for name in CATEGORICAL_FEATURES):
        known = {**feature_categories(db), **known}
    df = db.ibis().to_pandas(feature_expr(db, as_of, customer_ids))
    return conform_features(df, as_of, known)


def conform_features(df: pd.DataFrame, as_of: date, categories: FeatureCategories) -> pd.DataFrame:
    """Fixed dtypes and column order, so snapshots of different dates stack and the model
    sees the same categories everywhere. A categorical value outside `categories` becomes
    `OTHER` when the categories have it (a capped column), else missing — never an error:
    a re-imported file may hold a plan the model never saw. A blank value is missing."""
    out = pd.DataFrame({"customer_id": df["customer_id"].astype("int64"),
                        "as_of_date": pd.Timestamp(as_of)})
    for name in CATEGORICAL_FEATURES:
        known = list(categories[name])
        values = df[name].astype(object)
        values = values.where(values.isna() | values.astype(str).str.strip().ne(""))  # blank = missing
        if OTHER in known:
            values = values.where(values.isna() | values.isin(known), OTHER)
        out[name] = pd.Categorical(values, categories=known)
    for name in NUMERIC_FEATURES:
        out[name] = pd.to_numeric(df[name], errors="coerce").astype("float64")
    out[LABEL] = df[LABEL].astype("int8")
    return out.reset_index(drop=True)
