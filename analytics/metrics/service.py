"""Service experience as a churn driver: first-contact resolution, repeat contacts,
response SLAs, waits, satisfaction (CSAT, NPS) and churn by recent service history
(docs/metrics.md#service-experience).

A **service contact** is an inbound touchpoint of kind ``service_request``,
``complaint`` or ``billing_issue`` (an issue the customer raised). Touchpoint metrics
follow the filter: selected customers, selected channels, ``occurred_at`` within
``[flt.start, flt.end]`` unless a function says otherwise.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, Mapping

import ibis
import pandas as pd

from analytics.db import Database
from analytics.duplicates import without_superseded
from analytics.filters import RetentionFilter, customers, touchpoints
from analytics.metrics._common import (
    query,
    as_filter,
    conform,
    empty_frame,
    ratio,
    ts,
)
from analytics.rollups import REPEAT_CONTACTS, fresh_rollup

SERVICE_KINDS = ("service_request", "complaint", "billing_issue")
REPEAT_WINDOW_DAYS = 7

# First-response SLA per channel, in seconds of `wait_seconds` (queue wait for phone and
# chat, time to first response for written channels). "Answer within a day" for written
# channels (the brief); override per call with `thresholds=`.
DEFAULT_SLA_SECONDS: dict[str, int] = {
    "phone": 60,
    "chat": 120,
    "store": 600,
    "email": 24 * 3600,
    "web": 24 * 3600,
    "facebook": 24 * 3600,
    "whatsapp": 24 * 3600,
    "sms": 24 * 3600,
}

FCR_COLUMNS: dict[str, str] = {
    "month": "datetime64[ns]",
    "channel": "string",
    "contacts": "int64",
    "resolved_first_contact": "int64",
    "fcr_rate": "float64",
}

REPEAT_COLUMNS: dict[str, str] = {
    "month": "datetime64[ns]",
    "channel": "string",
    "contacts": "int64",
    "repeat_contacts": "int64",
    "repeat_rate": "float64",
}

SLA_COLUMNS: dict[str, str] = {
    "month": "datetime64[ns]",
    "channel": "string",
    "sla_seconds": "float64",
    "contacts": "int64",
    "within_sla": "int64",
    "sla_attainment": "float64",
    "wait_p50_seconds": "float64",
    "wait_p90_seconds": "float64",
}

SATISFACTION_COLUMNS: dict[str, str] = {
    "month": "datetime64[ns]",
    "csat_responses": "int64",
    "csat_mean": "float64",
    "csat_top2_share": "float64",
    "nps_responses": "int64",
    "promoters": "int64",
    "passives": "int64",
    "detractors": "int64",
    "nps": "float64",
}

EARLY_WARNING_COLUMNS: dict[str, str] = {
    "measure": "string",
    "bucket": "string",
    "bucket_order": "int64",
    "customers": "int64",
    "churned": "int64",
    "churn_rate": "float64",
}

ALL_CHANNELS = "all"


def _service_contacts(t: ibis.Table) -> ibis.Table:
    return t.filter(t.kind.isin(SERVICE_KINDS), t.direction == "inbound")


def _month(t: ibis.Table) -> ibis.DateValue:
    return t.occurred_at.truncate("M").cast("date")


def _group_by_month(t: ibis.Table, by_channel: bool):
    keys = {"month": _month(t)}
    keys["channel"] = t.channel.fill_null("(missing)") if by_channel else ibis.literal(ALL_CHANNELS)
    return t.group_by(**keys)


def first_contact_resolution(
    db: Database, flt: RetentionFilter, by_channel: bool = True
) -> pd.DataFrame:
    """First-contact resolution (FCR) per month (and channel): fcr_rate =
    service contacts with ``first_contact_resolution`` true ÷ service contacts with it
    recorded (NULL = not recorded, left out). The brief's benchmark: 86% of customers
    expect resolution on first contact. Columns ``month``, ``channel`` ('all' when
    ``by_channel=False``), ``contacts``, ``resolved_first_contact``, ``fcr_rate``."""
    df = _fcr_counts(db, flt, bool(by_channel))
    if df.empty:
        return empty_frame(FCR_COLUMNS)
    df["fcr_rate"] = ratio(df["resolved_first_contact"], df["contacts"])
    return conform(df, FCR_COLUMNS)


@query
def _fcr_counts(db: Database, flt: RetentionFilter, by_channel: bool) -> ibis.Table:
    """`first_contact_resolution`'s counts per month (and channel), ordered."""
    t = _service_contacts(touchpoints(db, flt, in_period=True))
    t = t.filter(t.first_contact_resolution.notnull())
    agg = _group_by_month(t, by_channel).aggregate(
        contacts=t.count(), resolved_first_contact=t.count(where=t.first_contact_resolution)
    )
    return agg.order_by(["month", "channel"])


def _flag_repeats(t: ibis.Table) -> ibis.Table:
    """`t` (service contacts) with ``is_repeat``: the customer's previous contact on the same
    subject, in any channel of `t`, was at most 7 × 24 h earlier."""
    # Ordered by time only: a second sort key costs DuckDB ~2x on millions of contacts, and
    # for two contacts at the same instant either order gives the same repeat count.
    w = ibis.window(group_by=[t.customer_id, t.subject], order_by=t.occurred_at)
    prev = t.occurred_at.lag().over(w)
    return t.mutate(
        is_repeat=prev.notnull() & (prev >= t.occurred_at - ibis.interval(days=REPEAT_WINDOW_DAYS))
    )


def repeat_rollup_source(db: Database) -> ibis.Table:
    """The content of ``rollup_repeat_contacts`` (analytics/rollups.py): service contacts
    and repeats per day, channel and customer segment, region and plan, each contact flagged
    against the customer's whole history. Exact for any period, because the look-back of
    `repeat_contact_rate` (7 days before ``flt.start``) already reaches every contact that
    can make one in the period a repeat; and for any population or channel filter, because
    the flag looks at all of the customer's channels either way. Contacts of unknown
    customers keep NULL attributes (counted only without a population filter, as live)."""
    # every person once, as live (analytics/duplicates.py)
    t = _flag_repeats(_service_contacts(without_superseded(db, db.table("touchpoints"))))
    c = without_superseded(db, db.table("customers"))
    j = t.left_join(c, t.customer_id == c.customer_id)
    j = j.select(t.occurred_at, t.channel, t.is_repeat, c.segment, c.region, c.plan)
    return j.group_by(
        day=j.occurred_at.date(), channel=j.channel, segment=j.segment, region=j.region, plan=j.plan
    ).aggregate(contacts=j.count(), repeat_contacts=j.count(where=j.is_repeat))


def _repeats_from_rollup(rollup: ibis.Table, flt: RetentionFilter, by_channel: bool) -> ibis.Table:
    t = rollup.filter(rollup.day >= flt.start, rollup.day <= flt.end)
    for column, values in (
        ("segment", flt.segments), ("region", flt.regions), ("plan", flt.plans), ("channel", flt.channels)
    ):
        if values:
            t = t.filter(t[column].isin(values))
    keys = {"month": t.day.truncate("M").cast("date")}
    keys["channel"] = t.channel.fill_null("(missing)") if by_channel else ibis.literal(ALL_CHANNELS)
    return t.group_by(**keys).aggregate(
        contacts=t.contacts.sum(), repeat_contacts=t.repeat_contacts.sum()
    )


@query
def _repeat_counts_from_rollup(db: Database, flt: RetentionFilter, by_channel: bool) -> ibis.Table:
    """`repeat_contact_rate`'s counts summed from the fresh ``rollup_repeat_contacts``."""
    rollup = fresh_rollup(db, REPEAT_CONTACTS)
    return _repeats_from_rollup(rollup, flt, by_channel).order_by(["month", "channel"])


@query
def _repeat_counts_live(db: Database, flt: RetentionFilter, by_channel: bool) -> ibis.Table:
    """`repeat_contact_rate`'s counts from the touchpoints: every channel's contacts
    from 7 days before the period flag the repeats, then the selected channels count."""
    lookback = as_filter(flt, channels=())
    t = _service_contacts(touchpoints(db, lookback, in_period=False))
    t = t.filter(t.occurred_at >= ts(flt.start - timedelta(days=REPEAT_WINDOW_DAYS)))
    t = _flag_repeats(t)
    t = t.filter(t.occurred_at >= ts(flt.start))
    if flt.channels:
        t = t.filter(t.channel.isin(flt.channels))
    agg = _group_by_month(t, by_channel).aggregate(
        contacts=t.count(), repeat_contacts=t.count(where=t.is_repeat)
    )
    return agg.order_by(["month", "channel"])


def repeat_contact_rate(
    db: Database, flt: RetentionFilter, by_channel: bool = True
) -> pd.DataFrame:
    """Repeat contacts per month (and channel): a service contact is a **repeat** when the
    same customer made another service contact on the same ``subject`` in the 7 days
    (7 × 24 h) before it, in any channel (a chat followed by a call is a repeat of the
    call's). repeat_rate = repeat contacts ÷ service contacts in the period and selected
    channels; the look-back reaches 7 days before ``flt.start``. Columns ``month``,
    ``channel``, ``contacts``, ``repeat_contacts``, ``repeat_rate``. Summed from
    ``rollup_repeat_contacts`` when that is fresh (docs/decisions/009-metric-rollups.md)."""
    if fresh_rollup(db, REPEAT_CONTACTS) is not None:
        df = _repeat_counts_from_rollup(db, flt, bool(by_channel))
    else:
        df = _repeat_counts_live(db, flt, bool(by_channel))
    if df.empty:
        return empty_frame(REPEAT_COLUMNS)
    df["repeat_rate"] = ratio(df["repeat_contacts"], df["contacts"])
    return conform(df, REPEAT_COLUMNS)


def service_levels(
    db: Database,
    flt: RetentionFilter,
    thresholds: Mapping[str, float] | None = None,
    by_month: bool = False,
) -> pd.DataFrame:
    """Response SLA attainment and wait times per channel (optionally per month).

    Over inbound service contacts with a recorded ``wait_seconds``: within_sla = contacts
    with wait_seconds <= the channel's threshold (`DEFAULT_SLA_SECONDS`, updated by
    `thresholds`; a channel without a threshold has NaN attainment);
    sla_attainment = within_sla ÷ contacts; wait p50 / p90 are continuous quantiles.
    Columns ``month`` (NaT unless ``by_month``), ``channel``, ``sla_seconds``,
    ``contacts``, ``within_sla``, ``sla_attainment``, ``wait_p50_seconds``,
    ``wait_p90_seconds``."""
    limits = dict(DEFAULT_SLA_SECONDS)
    limits.update(thresholds or {})
    bad = {k: v for k, v in limits.items() if v is None or v < 0}
    if bad:
        raise ValueError(f"SLA thresholds must be >= 0 seconds, got {bad}")
    df = _sla_counts(db, flt, tuple((ch, float(s)) for ch, s in limits.items()), bool(by_month))
    if df.empty:
        return empty_frame(SLA_COLUMNS)
    df["wait_p50_seconds"] = [q[0] for q in df["wait_quantiles"]]
    df["wait_p90_seconds"] = [q[1] for q in df["wait_quantiles"]]
    if not by_month:
        df["month"] = pd.NaT
    df["sla_seconds"] = df["channel"].map(lambda ch: float(limits[ch]) if ch in limits else float("nan"))
    df["sla_attainment"] = ratio(df["within_sla"], df["contacts"])
    df.loc[df["sla_seconds"].isna(), "sla_attainment"] = float("nan")
    df = df.sort_values(["month", "channel"], na_position="first")
    return conform(df, SLA_COLUMNS)


@query
def _sla_counts(
    db: Database, flt: RetentionFilter, limits: tuple[tuple[str, float], ...], by_month: bool
) -> ibis.Table:
    """`service_levels`' counts and wait quantiles per channel (and month); `limits` are
    the (channel, SLA seconds) pairs."""
    t = _service_contacts(touchpoints(db, flt, in_period=True))
    t = t.filter(t.wait_seconds.notnull())
    limit = ibis.cases(*[(t.channel == ch, s) for ch, s in limits], else_=ibis.null("float64"))
    keys = {"channel": t.channel.fill_null("(missing)")}
    if by_month:
        keys["month"] = _month(t)
    return t.group_by(**keys).aggregate(
        contacts=t.count(),
        within_sla=t.count(where=t.wait_seconds <= limit),
        # both quantiles from one call: DuckDB then keeps one copy of the waits per group
        wait_quantiles=t.wait_seconds.quantile([0.5, 0.9]),
    )


def satisfaction_trend(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """CSAT and NPS per month from ``survey`` touchpoints.

    CSAT (1–5): ``csat_mean`` and ``csat_top2_share`` = answers of 4 or 5 ÷ answers.
    NPS (0–10): promoters 9–10, passives 7–8, detractors 0–6;
    nps = 100 × (promoters − detractors) ÷ answers (points, −100..100). Answers outside
    the scales are ignored. Columns ``month``, ``csat_responses``, ``csat_mean``,
    ``csat_top2_share``, ``nps_responses``, ``promoters``, ``passives``, ``detractors``,
    ``nps``; months without answers are absent."""
    df = _satisfaction_counts(db, flt)
    if df.empty:
        return empty_frame(SATISFACTION_COLUMNS)
    df["csat_mean"] = ratio(df["csat_sum"], df["csat_responses"])
    df["csat_top2_share"] = ratio(df["csat_top2"], df["csat_responses"])
    df["nps"] = 100.0 * ratio(df["promoters"] - df["detractors"], df["nps_responses"])
    return conform(df, SATISFACTION_COLUMNS)


@query
def _satisfaction_counts(db: Database, flt: RetentionFilter) -> ibis.Table:
    """`satisfaction_trend`'s survey answer counts and sums per month, ordered."""
    t = touchpoints(db, flt, in_period=True)
    t = t.filter(t.kind == "survey")
    csat_ok = t.csat.between(1, 5)
    nps_ok = t.nps.between(0, 10)
    agg = t.group_by(month=_month(t)).aggregate(
        csat_responses=t.count(where=csat_ok),
        csat_sum=t.csat.cast("float64").sum(where=csat_ok),
        csat_top2=t.count(where=csat_ok & (t.csat >= 4)),
        nps_responses=t.count(where=nps_ok),
        promoters=t.count(where=nps_ok & (t.nps >= 9)),
        passives=t.count(where=nps_ok & (t.nps >= 7) & (t.nps <= 8)),
        detractors=t.count(where=nps_ok & (t.nps <= 6)),
    )
    return agg.order_by("month")


EARLY_WARNING_MEASURES: tuple[str, ...] = ("contacts", "unresolved")


def churn_by_service_history(
    db: Database,
    flt: RetentionFilter,
    measure: Literal["contacts", "unresolved"] = "contacts",
    snapshot: date | None = None,
    lookback_days: int = 90,
    horizon_days: int = 90,
    max_bucket: int = 4,
) -> pd.DataFrame:
    """Early-warning view: churn in the next `horizon_days` by service history in the
    previous `lookback_days`.

    Population: selected customers active on the ``snapshot`` day (default: the as-of
    date minus `horizon_days`, the latest snapshot whose outcome is fully known). Each is
    bucketed by the number of their service contacts (``measure="contacts"``) or of those
    with ``resolved`` false (``"unresolved"``) in the selected channels with
    ``occurred_at`` in ``[snapshot − lookback_days, snapshot)``; buckets 0, 1, …,
    `max_bucket`+ . churned = customers with ``churn_date`` in
    ``(snapshot, snapshot + horizon_days]``; churn_rate = churned ÷ customers. Columns
    ``measure``, ``bucket`` ('0', '1', …, '4+'), ``bucket_order``, ``customers``,
    ``churned``, ``churn_rate``; empty buckets are absent.

    ``"unresolved"`` needs the ``resolved`` flag: when no service contact in the look-back
    window has it recorded (an export without it), its rows are absent — bucket 0 would
    otherwise claim that nobody had an unresolved contact. ``"contacts"`` needs only the
    contacts and the churn dates."""
    return churn_by_service_histories(db, flt, (measure,), snapshot, lookback_days, horizon_days, max_bucket)


def churn_by_service_histories(
    db: Database,
    flt: RetentionFilter,
    measures: tuple[str, ...] = EARLY_WARNING_MEASURES,
    snapshot: date | None = None,
    lookback_days: int = 90,
    horizon_days: int = 90,
    max_bucket: int = 4,
) -> pd.DataFrame:
    """`churn_by_service_history` for each of `measures`, from one query, stacked in the
    order of `measures` (the ``measure`` column tells them apart). The population is
    counted per combination of the measures' buckets (at most 5 × 5 rows), and each
    measure's rows are sums over that table: exactly its own call's counts (and
    ``"unresolved"`` is absent when no contact in the window has ``resolved`` recorded)."""
    measures = tuple(dict.fromkeys(measures))
    for measure in measures:
        if measure not in EARLY_WARNING_MEASURES:
            raise ValueError(f"measure must be 'contacts' or 'unresolved', got {measure!r}")
    if lookback_days <= 0 or horizon_days <= 0 or max_bucket < 1:
        raise ValueError("lookback_days, horizon_days and max_bucket must be positive")
    if not measures:
        return empty_frame(EARLY_WARNING_COLUMNS)
    snap = snapshot or (flt.as_of - timedelta(days=horizon_days))
    cube = _service_history_cube(db, flt, measures, snap, lookback_days, horizon_days, max_bucket)
    if cube.empty:
        return empty_frame(EARLY_WARNING_COLUMNS)
    frames = []
    for measure in measures:
        if measure == "unresolved" and not cube["resolution_recorded"].sum():
            continue  # the flag is missing from the data: nothing to bucket by
        df = (cube.groupby(measure)[["customers", "churned"]].sum().reset_index()
              .rename(columns={measure: "bucket_order"}).sort_values("bucket_order"))
        df["measure"] = measure
        df["bucket"] = df["bucket_order"].map(lambda k: f"{k}+" if k >= max_bucket else str(k))
        df["churn_rate"] = ratio(df["churned"], df["customers"])
        frames.append(conform(df, EARLY_WARNING_COLUMNS))
    if not frames:
        return empty_frame(EARLY_WARNING_COLUMNS)
    return pd.concat(frames, ignore_index=True)


@query
def _service_history_cube(
    db: Database,
    flt: RetentionFilter,
    measures: tuple[str, ...],
    snap: date,
    lookback_days: int,
    horizon_days: int,
    max_bucket: int,
) -> ibis.Table:
    """`churn_by_service_histories`' population on day `snap`, counted (and its churned
    within the horizon) per combination of the `measures`' buckets, with how many of their
    look-back contacts have ``resolved`` recorded (``resolution_recorded``)."""
    c = customers(db, flt)
    c = c.filter(c.signup_date <= snap, c.churn_date.isnull() | (c.churn_date > snap))
    history = as_filter(flt, start=snap - timedelta(days=lookback_days), end=snap)
    t = _service_contacts(touchpoints(db, history, in_period=True))
    t = t.filter(t.occurred_at < ts(snap))
    counted = {"contacts": t.count(), "unresolved": t.count(where=t.resolved == False)}  # noqa: E712 — Ibis needs the comparison
    counts = t.group_by("customer_id").aggregate(
        **{m: counted[m] for m in measures}, resolution_recorded=t.count(where=t.resolved.notnull()))
    j = c.left_join(counts, c.customer_id == counts.customer_id)
    horizon_end = snap + timedelta(days=horizon_days)
    return j.group_by(**{m: ibis.least(j[m].fill_null(0), max_bucket) for m in measures}).aggregate(
        customers=j.count(),
        churned=j.count(where=j.churn_date.notnull() & (j.churn_date <= horizon_end)),
        resolution_recorded=j.resolution_recorded.fill_null(0).sum(),
    )
