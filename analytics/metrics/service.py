"""Service experience as a churn driver: first-contact resolution, repeat contacts,
response SLAs, waits, satisfaction (CSAT, NPS) and churn by recent service history
(docs/metrics.md#service-experience).

A **service contact** is an inbound touchpoint of kind ``service_request``,
``complaint`` or ``billing_issue`` (an issue the customer raised); a contact whose export
records no direction (NULL) counts as inbound — these kinds are raised by the customer,
and many ticket exports have no direction column (`analytics.catalog.is_service_contact`). Touchpoint metrics
follow the filter: selected customers, selected channels, ``occurred_at`` within
``[flt.start, flt.end]`` unless a function says otherwise.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Literal, Mapping

import ibis
import pandas as pd

from analytics.catalog import is_service_contact
from analytics.cubes import POPULATION, cube, from_daily_rollup, selected_rows, with_cells
from analytics.db import Database
from analytics.filters import RetentionFilter, customers, touchpoints
from analytics.metrics._common import (
    FAR_FUTURE,
    query,
    as_filter,
    conform,
    empty_frame,
    histogram_quantiles,
    month_end,
    periods,
    ratio,
    ts,
)
from analytics.rollups import REPEAT_CONTACTS, TOUCHPOINT_DAILY, WAIT_HISTOGRAM, fresh_rollup

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
    return t.filter(is_service_contact(t))


def _month(t: ibis.Table) -> ibis.DateValue:
    return t.occurred_at.truncate("M").cast("date")


def _month_cells(t: ibis.Table) -> dict:
    """The group keys of a contact cube over `t` (touchpoints `with_cells`): the
    customer's population cell, the touchpoint's channel and ``month``."""
    return {**{d: t[d] for d in POPULATION}, "channel": t.channel, "month": _month(t)}


def _per_month_and_channel(counts: pd.DataFrame, by_channel: bool) -> pd.DataFrame:
    """A cube slice with ``month`` and the raw ``channel`` (NULL for a touchpoint without
    one) summed per month and channel — a missing channel shown as '(missing)' — or per
    month alone (``channel`` = 'all'); ordered by month, then channel."""
    if counts.empty:
        return counts
    channel = counts["channel"].astype(object)
    channel = channel.where(channel.notna(), "(missing)") if by_channel else ALL_CHANNELS
    summed = counts.assign(channel=channel).groupby(["month", "channel"], sort=True).sum()
    return summed.reset_index()


def first_contact_resolution(
    db: Database, flt: RetentionFilter, by_channel: bool = True
) -> pd.DataFrame:
    """First-contact resolution (FCR) per month (and channel): fcr_rate =
    service contacts with ``first_contact_resolution`` true ÷ service contacts with it
    recorded (NULL = not recorded, left out). The brief's benchmark: 86% of customers
    expect resolution on first contact. Columns ``month``, ``channel`` ('all' when
    ``by_channel=False``), ``contacts``, ``resolved_first_contact``, ``fcr_rate``.
    Summed from ``rollup_touchpoint_daily`` when that is fresh."""
    stored = fresh_rollup(db, TOUCHPOINT_DAILY, flt=flt) is not None
    df = _per_month_and_channel(_fcr_counts(db, flt, stored), bool(by_channel))
    if df.empty:
        return empty_frame(FCR_COLUMNS)
    df["fcr_rate"] = ratio(df["resolved_first_contact"], df["contacts"])
    return conform(df, FCR_COLUMNS)


@cube(keys=("month", "channel"), by_channel=True)
def _fcr_counts(db: Database, flt: RetentionFilter, stored: bool) -> ibis.Table:
    """`first_contact_resolution`'s counts per population cell, channel and month
    (counts of contacts: additive over cells and channels). `stored`: summed from the
    fresh ``rollup_touchpoint_daily`` (`touchpoint_daily_source`), else from the
    touchpoints (the caller passes it, as for `_repeat_counts`)."""
    if stored:
        r = db.table(TOUCHPOINT_DAILY).rename(contacts="fcr_contacts")
        return from_daily_rollup(r, flt, ("contacts", "resolved_first_contact"), present="contacts")
    t = _service_contacts(touchpoints(db, flt, in_period=True))
    t = t.filter(t.first_contact_resolution.notnull())
    t = with_cells(db, flt, t)
    return t.group_by(**_month_cells(t)).aggregate(
        contacts=t.count(), resolved_first_contact=t.count(where=t.first_contact_resolution)
    )


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


def _flagged_contacts(db: Database, flt: RetentionFilter, lookback: bool) -> ibis.Table:
    """The service contacts of `flt`'s customers (every channel) up to ``flt.end`` with
    ``is_repeat`` (`_flag_repeats`) and their customer's population cell (`with_cells`).
    `lookback`: only contacts from 7 days before ``flt.start`` — all that can flag one in
    the period; else the whole history."""
    t = _service_contacts(touchpoints(db, as_filter(flt, channels=()), in_period=False))
    if lookback:
        t = t.filter(t.occurred_at >= ts(flt.start - timedelta(days=REPEAT_WINDOW_DAYS)))
    return with_cells(db, flt, _flag_repeats(t))


def _repeat_measures(t: ibis.Table) -> dict:
    return {"contacts": t.count(), "repeat_contacts": t.count(where=t.is_repeat)}


def repeat_rollup_source(db: Database) -> ibis.Table:
    """The content of ``rollup_repeat_contacts`` (analytics/rollups.py): the stored form
    of `_repeat_counts`' cube, per day instead of per month — service contacts and
    repeats per day, channel and customer segment, region and plan, each contact flagged
    against the customer's whole history. Exact for any period, because the look-back of
    `repeat_contact_rate` (7 days before ``flt.start``) already reaches every contact that
    can make one in the period a repeat; and for any population or channel filter, because
    the flag looks at all of the customer's channels either way. Contacts of unknown
    customers keep NULL attributes (counted only without a population filter, as live)."""
    everyone = RetentionFilter(FAR_FUTURE, FAR_FUTURE)
    t = _flagged_contacts(db, everyone, lookback=False)
    return t.group_by(*POPULATION, "channel", day=t.occurred_at.date()).aggregate(**_repeat_measures(t))


@cube(keys=("month", "channel"), by_channel=True)
def _repeat_counts(db: Database, flt: RetentionFilter, stored: bool) -> ibis.Table:
    """`repeat_contact_rate`'s counts per population cell, channel and month (counts of
    contacts: additive over cells and channels, because each contact is flagged against
    all of its customer's channels either way). `stored`: summed from the fresh
    ``rollup_repeat_contacts`` (`repeat_rollup_source`: the same cube per day), else from
    the touchpoints. The caller passes it (`fresh_rollup`), so the kept cube of one path
    never answers for the other."""
    if stored:
        return from_daily_rollup(db.table(REPEAT_CONTACTS), flt, ("contacts", "repeat_contacts"), present="contacts")
    t = _flagged_contacts(db, flt, lookback=True)
    t = t.filter(t.occurred_at >= ts(flt.start))
    if flt.channels:
        t = t.filter(t.channel.isin(flt.channels))
    return t.group_by(**_month_cells(t)).aggregate(**_repeat_measures(t))


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
    stored = fresh_rollup(db, REPEAT_CONTACTS, flt=flt) is not None
    df = _per_month_and_channel(_repeat_counts(db, flt, stored), bool(by_channel))
    if df.empty:
        return empty_frame(REPEAT_COLUMNS)
    df["repeat_rate"] = ratio(df["repeat_contacts"], df["contacts"])
    return conform(df, REPEAT_COLUMNS)


# `service_levels`' wait histogram: waits up to EXACT_WAIT_SECONDS are kept to the second
# (waits are integer seconds, so the quantiles there are exact); longer waits in bins
# WAIT_BIN_RATIO wide (1 %), each represented by its geometric midpoint.
EXACT_WAIT_SECONDS = 600
WAIT_BIN_RATIO = 1.01
SLA_QUANTILES = (0.5, 0.9)


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
    sla_attainment = within_sla ÷ contacts; wait p50 / p90 are continuous quantiles
    (DuckDB's ``quantile_cont``: linear interpolation between the order statistics at
    position (n − 1)·p), computed from the wait histogram of the selection
    (`_sla_histogram`): exact when both order statistics are at most
    `EXACT_WAIT_SECONDS` (600 s); a longer wait counts as the geometric midpoint of its
    1 %-wide bin, so a quantile above 600 s is within 0.5 % of the exact one. Counts and
    attainment are exact for any threshold. Columns ``month`` (NaT unless ``by_month``),
    ``channel`` ('(missing)' for contacts without one), ``sla_seconds``, ``contacts``,
    ``within_sla``, ``sla_attainment``, ``wait_p50_seconds``, ``wait_p90_seconds``.
    At the default thresholds the period's whole calendar months are summed from
    ``rollup_wait_histogram`` when that is fresh (docs/decisions/009-metric-rollups.md)."""
    limits = dict(DEFAULT_SLA_SECONDS)
    limits.update(thresholds or {})
    bad = {k: v for k, v in limits.items() if v is None or v < 0}
    if bad:
        raise ValueError(f"SLA thresholds must be >= 0 seconds, got {bad}")
    pairs = tuple((ch, float(s)) for ch, s in limits.items())
    hist = _sla_histogram(db, flt, pairs, bool(by_month), _stored_wait_months(db, flt, pairs))
    if hist.empty:
        return empty_frame(SLA_COLUMNS)
    channel = hist["channel"].astype(object)
    hist = hist.assign(channel=channel.where(channel.notna(), "(missing)"))
    if not by_month:
        hist["month"] = pd.NaT
    rows = []
    for (month, ch), h in hist.groupby(["month", "channel"], sort=False, dropna=False):
        h = h.groupby("wait", sort=True)[["contacts", "within_sla"]].sum()
        p50, p90 = histogram_quantiles(h.index.to_numpy(), h["contacts"].to_numpy(), SLA_QUANTILES)
        rows.append({"month": month, "channel": ch, "contacts": int(h["contacts"].sum()),
                     "within_sla": int(h["within_sla"].sum()),
                     "wait_p50_seconds": p50, "wait_p90_seconds": p90})
    df = pd.DataFrame(rows)
    df["sla_seconds"] = df["channel"].map(lambda ch: float(limits[ch]) if ch in limits else float("nan"))
    df["sla_attainment"] = ratio(df["within_sla"], df["contacts"])
    df.loc[df["sla_seconds"].isna(), "sla_attainment"] = float("nan")
    df = df.sort_values(["month", "channel"], na_position="first")
    return conform(df, SLA_COLUMNS)


def _wait_value(wait: ibis.IntegerValue) -> ibis.FloatingValue:
    """The histogram value of a wait: the wait itself up to `EXACT_WAIT_SECONDS` (B);
    above it, bin k = ⌊log_r((wait + ½) / B)⌋ (r = `WAIT_BIN_RATIO`) — the waits with
    B·r^k − ½ ≤ wait < B·r^(k+1) − ½ — represented by B·r^(k+½) − ½, its geometric
    midpoint (in wait + ½). The half second keeps every integer wait clear of a bin edge
    (no edge is a half-integer), so each engine's logarithm puts a wait in the same bin."""
    shifted = wait.cast("float64") + 0.5
    k = ((shifted / EXACT_WAIT_SECONDS).ln() / math.log(WAIT_BIN_RATIO)).floor()
    midpoint = ((k + 0.5) * math.log(WAIT_BIN_RATIO)).exp() * EXACT_WAIT_SECONDS - 0.5
    return ibis.ifelse(wait <= EXACT_WAIT_SECONDS, wait.cast("float64"), midpoint)


def _sla_keys(limits: tuple, by_month: bool, stored_months: tuple = ()) -> tuple[str, ...]:
    return ("channel", "month", "wait") if by_month else ("channel", "wait")


DEFAULT_SLA_LIMITS: tuple[tuple[str, float], ...] = tuple((ch, float(s)) for ch, s in DEFAULT_SLA_SECONDS.items())


def _waited_contacts(db: Database, flt: RetentionFilter, in_period: bool = True) -> ibis.Table:
    """Service contacts of `flt` with a recorded wait, with their customer's cell."""
    t = _service_contacts(touchpoints(db, flt, in_period=in_period))
    return with_cells(db, flt, t.filter(t.wait_seconds.notnull()))


def _wait_counts(t: ibis.Table, limits: tuple[tuple[str, float], ...], by_month: bool) -> ibis.Table:
    """`_sla_histogram`'s rows over the contacts `t` (`_waited_contacts`)."""
    limit = ibis.cases(*[(t.channel == ch, s) for ch, s in limits], else_=ibis.null("float64"))
    keys = {**{d: t[d] for d in POPULATION}, "channel": t.channel, "wait": _wait_value(t.wait_seconds)}
    if by_month:
        keys["month"] = _month(t)
    return t.group_by(**keys).aggregate(
        contacts=t.count(), within_sla=t.count(where=t.wait_seconds <= limit))


def wait_histogram_rollup_source(db: Database) -> ibis.Table:
    """The content of ``rollup_wait_histogram`` (analytics/rollups.py): the stored form of
    `_sla_histogram`'s cube at the default thresholds (`DEFAULT_SLA_SECONDS`) — per
    calendar month of the whole history, customer segment, region and plan, channel and
    wait value (`_wait_value`), the service contacts with a recorded wait and those within
    their channel's SLA. Exact for any period made of whole months and any population or
    channel filter; contacts of unknown customers keep NULL attributes, as live."""
    everyone = RetentionFilter(FAR_FUTURE, FAR_FUTURE)
    return _wait_counts(_waited_contacts(db, everyone, in_period=False), DEFAULT_SLA_LIMITS, by_month=True)


def _stored_wait_months(db: Database, flt: RetentionFilter, limits: tuple) -> tuple[date, ...]:
    """The first days of the period's whole calendar months when ``rollup_wait_histogram``
    may answer for them (default thresholds, fresh rollup), else ()."""
    if limits != DEFAULT_SLA_LIMITS or fresh_rollup(db, WAIT_HISTOGRAM, flt=flt) is None:
        return ()
    return tuple(p.start for p in periods(flt.start, flt.end, "month") if not p.partial)


@cube(keys=_sla_keys, by_channel=True)
def _sla_histogram(
    db: Database, flt: RetentionFilter, limits: tuple[tuple[str, float], ...], by_month: bool,
    stored_months: tuple[date, ...] = (),
) -> ibis.Table:
    """`service_levels`' wait histogram per population cell, channel (and month): service
    contacts with a recorded wait, and those within their channel's SLA, per wait value
    (`_wait_value`). Counts of contacts: additive over cells and channels. `limits` are
    the (channel, SLA seconds) pairs; within_sla compares the raw wait with the threshold,
    so it is exact for any threshold (the cube is kept per `limits`).

    `stored_months` (`_stored_wait_months`): whole months of the period read from the
    fresh ``rollup_wait_histogram`` (`wait_histogram_rollup_source`, the same rows per
    month); the days of the period outside them — a clipped first or last month — are
    counted live, and the two summed."""
    if not stored_months:
        return _wait_counts(_waited_contacts(db, flt), limits, by_month)
    r = db.table(WAIT_HISTOGRAM)
    r = selected_rows(r.filter(r.month.isin(list(stored_months))), flt, channel=True)
    keys = [*POPULATION, "channel", "wait", *(["month"] if by_month else [])]
    parts = [r.select(*keys, "contacts", "within_sla")]
    first, last = min(stored_months), month_end(max(stored_months))
    for start, end in ((flt.start, first - timedelta(days=1)), (last + timedelta(days=1), flt.end)):
        if start <= end:  # a clipped month at either end of the period
            live = _wait_counts(_waited_contacts(db, flt.with_period(start, end)), limits, by_month)
            parts.append(live.select(*keys, "contacts", "within_sla"))
    rows = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    return rows.group_by(*keys).aggregate(contacts=rows.contacts.sum(), within_sla=rows.within_sla.sum())


def satisfaction_trend(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """CSAT and NPS per month from ``survey`` touchpoints.

    CSAT (1–5): ``csat_mean`` and ``csat_top2_share`` = answers of 4 or 5 ÷ answers.
    NPS (0–10): promoters 9–10, passives 7–8, detractors 0–6;
    nps = 100 × (promoters − detractors) ÷ answers (points, −100..100). Answers outside
    the scales are ignored. Columns ``month``, ``csat_responses``, ``csat_mean``,
    ``csat_top2_share``, ``nps_responses``, ``promoters``, ``passives``, ``detractors``,
    ``nps``; months without answers are absent."""
    df = _satisfaction_counts(db, flt, fresh_rollup(db, TOUCHPOINT_DAILY, flt=flt) is not None)
    if df.empty:
        return empty_frame(SATISFACTION_COLUMNS)
    df["csat_mean"] = ratio(df["csat_sum"], df["csat_responses"])
    df["csat_top2_share"] = ratio(df["csat_top2"], df["csat_responses"])
    df["nps"] = 100.0 * ratio(df["promoters"] - df["detractors"], df["nps_responses"])
    return conform(df, SATISFACTION_COLUMNS)


SATISFACTION_MEASURES = ("csat_responses", "csat_sum", "csat_top2", "nps_responses", "promoters",
                         "passives", "detractors")


def _satisfaction_measures(t: ibis.Table) -> dict:
    """Survey answer counts and sums over touchpoints `t` (only ``survey`` rows count)."""
    survey = t.kind == "survey"
    csat_ok = survey & t.csat.between(1, 5)
    nps_ok = survey & t.nps.between(0, 10)
    return dict(
        csat_responses=t.count(where=csat_ok),
        csat_sum=t.csat.cast("float64").sum(where=csat_ok).fill_null(0),
        csat_top2=t.count(where=csat_ok & (t.csat >= 4)),
        nps_responses=t.count(where=nps_ok),
        promoters=t.count(where=nps_ok & (t.nps >= 9)),
        passives=t.count(where=nps_ok & (t.nps >= 7) & (t.nps <= 8)),
        detractors=t.count(where=nps_ok & (t.nps <= 6)),
    )


@cube(keys=("month",), by_channel=True)
def _satisfaction_counts(db: Database, flt: RetentionFilter, stored: bool) -> ibis.Table:
    """`satisfaction_trend`'s survey answer counts and sums per population cell, channel
    and month (counts and sums of answers: additive over both); `stored` as in
    `_fcr_counts`."""
    if stored:
        return from_daily_rollup(db.table(TOUCHPOINT_DAILY), flt, SATISFACTION_MEASURES, present="surveys")
    t = touchpoints(db, flt, in_period=True)
    t = with_cells(db, flt, t.filter(t.kind == "survey"))
    return t.group_by(**_month_cells(t)).aggregate(**_satisfaction_measures(t))


def touchpoint_daily_source(db: Database) -> ibis.Table:
    """The content of ``rollup_touchpoint_daily`` (analytics/rollups.py): per day,
    channel and customer segment, region and plan, the additive counts of three contact
    cubes — `_fcr_counts` (``fcr_contacts``, ``resolved_first_contact``: service contacts
    with FCR recorded), `_satisfaction_counts` (`SATISFACTION_MEASURES`; ``surveys``: its
    rows) and the note
    counts of `note_signals._note_counts` (``all_notes`` and one column per signal;
    ``noted``: touchpoints with a note, blank or not), each
    over the same rows as its live query, in one pass over the touchpoints. Exact for any
    period (whole days) and any population or channel filter, as `repeat_rollup_source`.
    Notes are classified by the same lexicon, once per distinct text."""
    from analytics.metrics import note_signals  # the note counts' definition lives there

    everyone = RetentionFilter(FAR_FUTURE, FAR_FUTURE)
    t = with_cells(db, everyone, touchpoints(db, everyone, in_period=False))
    texts = t.filter(t.note.notnull()).select("note").distinct()
    flags = note_signals.text_flags(db, texts).rename(flagged_note="note")
    t = t.left_join(flags, t.note == flags.flagged_note)
    service = is_service_contact(t) & t.first_contact_resolution.notnull()
    return t.group_by(*POPULATION, "channel", day=t.occurred_at.date()).aggregate(
        fcr_contacts=t.count(where=service),  # also the FCR cube's rows present that day
        surveys=t.count(where=t.kind == "survey"),  # the satisfaction cube's rows
        noted=t.count(where=t.note.notnull()),  # the note cubes' rows (blank notes too)
        resolved_first_contact=t.count(where=service & t.first_contact_resolution),
        **_satisfaction_measures(t),
        **note_signals.note_count_measures(t),
    )


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
    cube = _service_history_cube(db, flt, snap, lookback_days, horizon_days, max_bucket)
    if cube.empty or not cube["customers"].sum():
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


@cube(keys=EARLY_WARNING_MEASURES, by_channel=False)
def _service_history_cube(
    db: Database,
    flt: RetentionFilter,
    snap: date,
    lookback_days: int,
    horizon_days: int,
    max_bucket: int,
) -> ibis.Table:
    """`churn_by_service_histories`' population on day `snap`, counted (and its churned
    within the horizon) per population cell and combination of the buckets of both
    measures, with how many of their look-back contacts have ``resolved`` recorded
    (``resolution_recorded``). Counts of customers: additive over cells (a customer is in
    one), not over channels (a customer's bucket depends on which channels count), so the
    channel filter stays in the query."""
    measures = EARLY_WARNING_MEASURES
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
    buckets = {m: ibis.least(j[m].fill_null(0), max_bucket) for m in measures}
    return j.group_by(*POPULATION, **buckets).aggregate(
        customers=j.count(),
        churned=j.count(where=j.churn_date.notnull() & (j.churn_date <= horizon_end)),
        resolution_recorded=j.resolution_recorded.fill_null(0).sum(),
    )
