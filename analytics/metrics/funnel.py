"""The reactive retention funnel (cancellation request -> save) and the proactive funnel
(flagged at risk -> retained) (docs/metrics.md#retention-funnel,
docs/metrics.md#proactive-funnel).

The unit of the reactive funnel is a ``cancellation_request`` touchpoint made in
``[flt.start, flt.end]`` by a selected customer in a selected channel (the channel filter
is the channel of the *request*). Its retention attempts are the ``retention_call``
touchpoints whose ``related_touchpoint_id`` is the request, in any channel, up to the
*data's* as-of date. Steps (each a subset of the previous one):

1. requested — the request;
2. attempted — at least one retention call answers it;
3. reached — a call's outcome is not ``not_reached``;
4. offer made — a call's outcome is ``offer_declined`` or ``offer_accepted``;
5. accepted — a call's outcome is ``offer_accepted``;
6. retained 90 days — accepted and the customer is active 90 days after the request
   (``churn_date`` NULL or after request date + 90). Requests made within 90 days of the
   data's as-of date cannot be judged yet and are left out of this step and of its base.

**Outcomes are judged at the data's as-of date, not the filter's end** (issue 14). The
filter picks the *population* — requests (flags) made in ``[flt.start, flt.end]`` — and
everything that happened to them is observed up to `outcomes_until` = the file's
``schema_info.as_of_date`` (`analytics.catalog.data_as_of`; the filter's end only when the
file records none). A past quarter's requests are therefore judged with everything known
today: judging them at the quarter's end left out every retention call made after it and
every 90-day outcome (a quarter's requests are at most 90 days old at its end, so its
"kept 90 days" rested on the requests of its first day). The as-of date is read inside
the functions rather than carried by `RetentionFilter`: it is a fact of the file, not a
choice of the user, it cannot change while a read-only file is open (so kept cubes
and cached results stay right), and every caller would otherwise have to pass it.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Sequence

import ibis
import pandas as pd

from analytics.catalog import data_as_of
from analytics.cubes import POPULATION, cube
from analytics.db import Database
from analytics.filters import RetentionFilter, customers, touchpoints
from analytics.metrics._common import (
    query,
    as_filter,
    conform,
    empty_frame,
    ratio,
)

RETAINED_AFTER_DAYS = 90
PROACTIVE_CONTACT_DAYS = 30

FUNNEL_COLUMNS: dict[str, str] = {
    "step": "string",
    "step_order": "int64",
    "count": "int64",
    "base": "int64",
    "conversion": "float64",
    "share_of_start": "float64",
}

SUMMARY_COLUMNS: dict[str, str] = {
    "dimension": "string",
    "group": "string",
    "requests": "int64",
    "attempted": "int64",
    "reached": "int64",
    "offered": "int64",
    "accepted": "int64",
    "judged_90d": "int64",
    "accepted_judged_90d": "int64",
    "retained_90d": "int64",
    "active_90d": "int64",
    "attempt_rate": "float64",
    "reach_rate": "float64",
    "offer_rate": "float64",
    "acceptance_rate": "float64",
    "save_rate_90d": "float64",
    "active_rate_90d": "float64",
    "median_hours_to_attempt": "float64",
    "p90_hours_to_attempt": "float64",
    "sla_hours": "float64",
    "sla_due": "int64",
    "within_sla": "int64",
    "sla_attainment": "float64",
}

FUNNEL_BY = ("segment", "channel", "agent")


def outcomes_until(db: Database, flt: RetentionFilter) -> date:
    """The last day on which the funnels observe outcomes (retention calls, outreach,
    churn): the data's as-of date, or `flt.end` when the file does not record one."""
    return data_as_of(db) or flt.end


def _observed(flt: RetentionFilter, until: date) -> RetentionFilter:
    """`flt` reaching up to `until` (for touchpoints taken with ``in_period=False``)."""
    return flt.with_period(min(flt.start, until), until)


def _requests(db: Database, flt: RetentionFilter, sla_hours: float) -> ibis.Table:
    """One row per cancellation request with its funnel flags (an Ibis expression)."""
    # The customer restriction comes from the inner join with `c` below; restricting the
    # touchpoints to the same customers first would only add two semi-joins over them.
    everyone = as_filter(flt, segments=(), regions=(), plans=())
    req = touchpoints(db, everyone, in_period=True)
    req = req.filter(req.kind == "cancellation_request").select(
        request_id=req.touchpoint_id,
        customer_id=req.customer_id,
        requested_at=req.occurred_at,
        channel=req.channel,
    )
    # Attempts in any channel answer the request; the channel filter is the request's.
    until = outcomes_until(db, flt)
    calls = touchpoints(db, _observed(as_filter(everyone, channels=()), until), in_period=False)
    calls = calls.filter(calls.kind == "retention_call", calls.related_touchpoint_id.notnull())
    per_request = calls.group_by(request_id=calls.related_touchpoint_id).aggregate(
        first_attempt_at=calls.occurred_at.min(),
        agent=calls.agent.argmin(calls.occurred_at),
        reached=(calls.outcome.fill_null("not_reached") != "not_reached").any(),
        offered=calls.outcome.isin(("offer_declined", "offer_accepted")).any(),
        accepted=(calls.outcome == "offer_accepted").any(),
    )
    c = customers(db, flt)
    j = req.left_join(per_request, req.request_id == per_request.request_id).join(
        c, req.customer_id == c.customer_id
    )
    as_of_end = ibis.literal(until).cast("timestamp") + ibis.interval(days=1)
    request_day = req.requested_at.date()
    due = req.requested_at + ibis.interval(seconds=int(round(sla_hours * 3600)))
    # float64 before dividing: Spark SQL types `bigint / 3600.0` as a DECIMAL and rounds
    hours = (per_request.first_attempt_at.epoch_seconds()
             - req.requested_at.epoch_seconds()).cast("float64") / 3600.0
    judged = (request_day + ibis.interval(days=RETAINED_AFTER_DAYS)).cast("date") <= until
    active_after = c.churn_date.isnull() | (
        c.churn_date > (request_day + ibis.interval(days=RETAINED_AFTER_DAYS)).cast("date")
    )
    attempted = per_request.first_attempt_at.notnull()
    return j.select(
        req.request_id,
        segment=c.segment,
        region=c.region,
        plan=c.plan,
        channel=req.channel,
        agent=ibis.cases((attempted, per_request.agent.fill_null("(none)")), else_="(no attempt)"),
        attempted=attempted,
        reached=per_request.reached.fill_null(False),
        offered=per_request.offered.fill_null(False),
        accepted=per_request.accepted.fill_null(False),
        hours_to_attempt=hours,
        # The SLA can be judged once it has passed or once the request was attempted.
        sla_due=attempted | (due < as_of_end),
        within_sla=attempted & (per_request.first_attempt_at <= due),
        judged_90d=judged,
        active_90d=judged & active_after,
    )


def _aggregate(r: ibis.Table, group) -> ibis.Table:
    acc_judged = r.accepted & r.judged_90d
    return r.group_by(group=group).aggregate(
        requests=r.count(),
        attempted=r.attempted.sum(),
        reached=r.reached.sum(),
        offered=r.offered.sum(),
        accepted=r.accepted.sum(),
        judged_90d=r.judged_90d.sum(),
        accepted_judged_90d=acc_judged.sum(),
        retained_90d=(acc_judged & r.active_90d).sum(),
        active_90d=r.active_90d.sum(),
        median_hours_to_attempt=r.hours_to_attempt.quantile(0.5),
        p90_hours_to_attempt=r.hours_to_attempt.quantile(0.9),
        sla_due=r.sla_due.sum(),
        within_sla=r.within_sla.sum(),
    )


def retention_funnel_summary(
    db: Database,
    flt: RetentionFilter,
    by: Literal["segment", "channel", "agent"] | None = None,
    sla_hours: float = 24.0,
) -> pd.DataFrame:
    """The reactive funnel's counts, conversion rates and response time, overall or per
    group: ``by="segment"`` (customer's), ``"channel"`` (the request's) or ``"agent"``
    (who made the first attempt; '(no attempt)' for unanswered requests).

    - reach_rate = reached / requests (the brief's baseline: 20–30%);
      attempt_rate = attempted / requests; offer_rate = offered / reached;
      acceptance_rate = accepted / offered;
      save_rate_90d = retained_90d / accepted_judged_90d (accepted requests at least 90
      days old whose customer is still active 90 days after the request);
      active_rate_90d = active_90d / judged_90d (any request at least 90 days old whose
      customer stayed 90 days, saved or not — the baseline a save is measured against).
    - Hours to first attempt: median and p90 over attempted requests.
    - SLA: a request meets it when its first attempt came within `sla_hours` of the
      request. ``sla_due`` = requests whose SLA can be judged at the data's as-of date (attempted,
      or unattempted with the deadline passed — those count as missed);
      sla_attainment = within_sla / sla_due.
    - Every outcome (calls, churn) is observed up to the data's as-of date (module
      docstring). The n behind each rate is a column of the frame: requests (attempt,
      reach), reached (offer), offered (acceptance), accepted_judged_90d (kept 90 days),
      judged_90d (active 90 days), sla_due (SLA).

    One row per group (``dimension`` = `by` or 'all', ``group``); empty frame when there
    is no request in the selection."""
    if by is not None and by not in FUNNEL_BY:
        raise ValueError(f"by must be one of {FUNNEL_BY} or None, got {by!r}")
    return _summaries(db, flt, (by,), sla_hours)


def retention_funnel_summaries(db: Database, flt: RetentionFilter, sla_hours: float = 24.0) -> pd.DataFrame:
    """`retention_funnel_summary` overall and by each of FUNNEL_BY, stacked (``dimension``
    'all', 'segment', 'channel', 'agent'), from one query: the requests are joined once
    and aggregated four ways (four separate calls cost 4× the join: 1.5 s vs 0.3 s at 1M
    customers). `select_summary` picks one dimension out of it."""
    return _summaries(db, flt, (None, *FUNNEL_BY), sla_hours)


def select_summary(summaries: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """The rows of one dimension (`by`, None = overall) of `retention_funnel_summaries`."""
    rows = summaries[summaries["dimension"] == (by or "all")]
    return rows.reset_index(drop=True)


def _summaries(db: Database, flt: RetentionFilter, dimensions: tuple[str | None, ...],
               sla_hours: float) -> pd.DataFrame:
    if sla_hours <= 0:
        raise ValueError(f"sla_hours must be positive, got {sla_hours}")
    df = _summary_counts(db, flt, tuple(dimensions), float(sla_hours))
    if df.empty:
        return empty_frame(SUMMARY_COLUMNS)
    order = {name or "all": i for i, name in enumerate(dimensions)}
    df = df.sort_values(["dimension", "group"], key=lambda c: c.map(order) if c.name == "dimension" else c)
    df["attempt_rate"] = ratio(df["attempted"], df["requests"])
    df["reach_rate"] = ratio(df["reached"], df["requests"])
    df["offer_rate"] = ratio(df["offered"], df["reached"])
    df["acceptance_rate"] = ratio(df["accepted"], df["offered"])
    df["save_rate_90d"] = ratio(df["retained_90d"], df["accepted_judged_90d"])
    df["active_rate_90d"] = ratio(df["active_90d"], df["judged_90d"])
    df["sla_hours"] = float(sla_hours)
    df["sla_attainment"] = ratio(df["within_sla"], df["sla_due"])
    return conform(df, SUMMARY_COLUMNS)


@query
def _summary_counts(db: Database, flt: RetentionFilter, dimensions: tuple[str | None, ...],
                    sla_hours: float) -> ibis.Table:
    """The funnel counts of `_summaries`: one row per group of each dimension (None = the
    overall row), all dimensions in one query."""
    r = _requests(db, flt, sla_hours)
    parts = []
    for by in dimensions:
        group = r[by].fill_null("(missing)") if by else ibis.literal("all")
        parts.append(_aggregate(r, group).mutate(dimension=ibis.literal(by or "all")))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


FUNNEL_COUNTS = ("requests", "attempted", "reached", "offered", "accepted")


def retention_funnel_counts(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """The reactive funnel's stage counts over the selection, as in
    `retention_funnel_summary`'s overall row: ``requests``, ``attempted``, ``reached``,
    ``offered``, ``accepted`` (one row; zeros when there is no request). Without the
    response-time quantiles, so it is a cube (additive counts per population cell and the
    request's channel) and a filter change is a slice: what the ROI page needs."""
    return _funnel_count_cube(db, flt)


@cube(by_channel=True)
def _funnel_count_cube(db: Database, flt: RetentionFilter) -> ibis.Table:
    """`retention_funnel_counts` per population cell and request channel (counts of
    requests: additive over both; the calls answering a request are looked up in any
    channel either way)."""
    r = _requests(db, flt, 24.0)  # the SLA is not among these counts
    return r.group_by(*POPULATION, "channel").aggregate(
        requests=r.count(), **{k: r[k].cast("int64").sum() for k in FUNNEL_COUNTS[1:]})


def retention_funnel(db: Database, flt: RetentionFilter, sla_hours: float = 24.0) -> pd.DataFrame:
    """The reactive funnel as steps, for a funnel chart (see `funnel_steps`). Empty frame
    when there is no request."""
    return funnel_steps(retention_funnel_summary(db, flt, None, sla_hours))


def funnel_steps(overall: pd.DataFrame) -> pd.DataFrame:
    """The funnel steps from the overall row of `retention_funnel_summary`: ``step``
    (requested, attempted, reached, offer made, accepted, retained 90 days),
    ``step_order``, ``count``, ``base`` (the previous step's count — for the last step,
    accepted requests at least 90 days old), ``conversion`` = count / base,
    ``share_of_start`` = count / requests (for the last step: / requests at least 90 days
    old). Empty frame when there is no request."""
    if overall.empty:
        return empty_frame(FUNNEL_COLUMNS)
    row = overall.iloc[0]
    steps = [
        ("requested", row.requests, row.requests, row.requests),
        ("attempted", row.attempted, row.requests, row.requests),
        ("reached", row.reached, row.attempted, row.requests),
        ("offer made", row.offered, row.reached, row.requests),
        ("accepted", row.accepted, row.offered, row.requests),
        ("retained 90 days", row.retained_90d, row.accepted_judged_90d, row.judged_90d),
    ]
    df = pd.DataFrame(steps, columns=["step", "count", "base", "start"])
    df["step_order"] = range(1, len(df) + 1)
    df["conversion"] = ratio(df["count"], df["base"])
    df["share_of_start"] = ratio(df["count"], df["start"])
    return conform(df, FUNNEL_COLUMNS)


PROACTIVE_COLUMNS = FUNNEL_COLUMNS

PROACTIVE_UPLIFT_COLUMNS: dict[str, str] = {
    "group": "string",
    "flags_judged": "int64",
    "active_90d": "int64",
    "retention_90d": "float64",
}


def _flags(db: Database, flt: RetentionFilter) -> ibis.Table | None:
    """Flags raised in the period for selected customers, with their customer's
    `POPULATION` cell and contact/reach/retention flags; None when the database has no
    ``at_risk_flags`` table."""
    if not db.has_table("at_risk_flags"):
        return None
    f = db.table("at_risk_flags")
    f = f.filter(f.flagged_on >= flt.start, f.flagged_on <= flt.end)
    c = customers(db, flt)
    f = f.join(c, f.customer_id == c.customer_id).select(
        customer_id=f.customer_id, flagged_on=f.flagged_on, churn_date=c.churn_date,
        **{d: c[d] for d in POPULATION}
    )
    # outreach is left-joined onto the selected customers' flags: no customer restriction
    # of its own needed
    until = outcomes_until(db, flt)
    o = touchpoints(db, _observed(as_filter(flt, segments=(), regions=(), plans=()), until), in_period=False)
    o = o.filter(o.kind == "proactive_outreach").select("customer_id", "occurred_at", "outcome")
    window_start = f.flagged_on.cast("timestamp")
    window_end = window_start + ibis.interval(days=PROACTIVE_CONTACT_DAYS)
    hits = f.left_join(
        o,
        [f.customer_id == o.customer_id, o.occurred_at >= window_start, o.occurred_at < window_end],
    )
    # Keyed by (customer, flag day): a customer flagged twice on one day counts once.
    f = hits.group_by(["customer_id", "flagged_on", "churn_date", *POPULATION]).aggregate(
        contacted=hits.occurred_at.count() > 0,
        reached=(hits.outcome.notnull() & (hits.outcome != "not_reached")).any(),
    )
    judged_day = (f.flagged_on + ibis.interval(days=RETAINED_AFTER_DAYS)).cast("date")
    judged = judged_day <= until
    return f.select(
        *POPULATION,
        contacted=f.contacted,
        reached=f.reached.fill_null(False),
        judged_90d=judged,
        active_90d=judged & (f.churn_date.isnull() | (f.churn_date > judged_day)),
    )


def proactive_funnel(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """The proactive funnel: flagged -> contacted -> reached -> retained 90 days.

    Unit: an ``at_risk_flags`` row with ``flagged_on`` in ``[flt.start, flt.end]`` for a
    selected customer. contacted = a ``proactive_outreach`` touchpoint of the customer in
    the selected channels within 30 days from the flag day (up to the data's as-of date);
    reached = such an outreach with an outcome other than ``not_reached``; retained 90
    days = reached and active on ``flagged_on + 90`` — judged only for flags at least 90
    days before the data's as-of date (base = those of them reached). Columns as
    `retention_funnel`. Empty frame when the optional ``at_risk_flags`` table is absent
    or holds no flag in the selection."""
    if not db.has_table("at_risk_flags"):
        return empty_frame(PROACTIVE_COLUMNS)
    cube = _proactive_flag_counts(db, flt)

    def flags(mask) -> int:
        return int(cube.loc[mask, "flags"].sum())

    row = pd.Series({
        "flagged": int(cube["flags"].sum()),
        "contacted": flags(cube["contacted"]),
        "reached": flags(cube["reached"]),
        "judged": flags(cube["judged_90d"]),
        "reached_judged": flags(cube["reached"] & cube["judged_90d"]),
        "retained": flags(cube["reached"] & cube["active_90d"]),
    })
    if row.flagged == 0:
        return empty_frame(PROACTIVE_COLUMNS)
    steps = [
        ("flagged", row.flagged, row.flagged, row.flagged),
        ("contacted", row.contacted, row.flagged, row.flagged),
        ("reached", row.reached, row.contacted, row.flagged),
        ("retained 90 days", row.retained, row.reached_judged, row.judged),
    ]
    df = pd.DataFrame(steps, columns=["step", "count", "base", "start"])
    df["step_order"] = range(1, len(df) + 1)
    df["conversion"] = ratio(df["count"], df["base"])
    df["share_of_start"] = ratio(df["count"], df["start"])
    return conform(df, PROACTIVE_COLUMNS)


def proactive_retention_comparison(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """90-day retention of flagged customers who were reached vs. not reached (flags at
    least 90 days old): ``group`` ('reached' / 'not reached'), ``flags_judged``,
    ``active_90d``, ``retention_90d`` = active_90d / flags_judged. Descriptive only: who
    gets reached is not random, so the gap is not a causal uplift."""
    if not db.has_table("at_risk_flags"):
        return empty_frame(PROACTIVE_UPLIFT_COLUMNS)
    cube = _proactive_flag_counts(db, flt)
    judged = cube[cube["judged_90d"].astype(bool) & (cube["flags"] > 0)]
    if judged.empty:
        return empty_frame(PROACTIVE_UPLIFT_COLUMNS)
    judged = judged.assign(group=judged["reached"].map({True: "reached", False: "not reached"}),
                           active=judged["flags"].where(judged["active_90d"].astype(bool), 0))
    df = (judged.groupby("group")[["flags", "active"]].sum().reset_index()
          .rename(columns={"flags": "flags_judged", "active": "active_90d"})
          .sort_values("group", ascending=False))
    df["retention_90d"] = ratio(df["active_90d"], df["flags_judged"])
    return conform(df, PROACTIVE_UPLIFT_COLUMNS)


@cube(keys=("contacted", "reached", "judged_90d", "active_90d"), by_channel=False)
def _proactive_flag_counts(db: Database, flt: RetentionFilter) -> ibis.Table:
    """The proactive funnel's flags (`_flags`) counted per population cell and
    combination of their four outcome flags (at most 16 rows a cell): every count of
    `proactive_funnel` and `proactive_retention_comparison` is a sum of it. Counts of
    flags: additive over cells (a flag is one customer's), not over channels (whether a
    flag was contacted depends on which channels count), so the channel filter stays in
    the query. Needs the ``at_risk_flags`` table."""
    f = _flags(db, flt)
    return f.group_by(*POPULATION, "contacted", "reached", "judged_90d", "active_90d").aggregate(flags=f.count())


def saved_customers(db: Database, flt: RetentionFilter) -> int:
    """Saved customers of the period: the selected customers who asked to cancel in the
    period, accepted a retention offer, and stayed.

    Distinct selected customers with a ``cancellation_request`` in ``[flt.start,
    flt.end]`` (selected channels) answered by a retention call (any channel) with outcome
    ``offer_accepted`` up to the data's as-of date, who did not churn within 90 days of
    that request: ``churn_date`` NULL or after min(request day + 90, as-of date). A
    request less than 90 days before the as-of date counts while its customer is still
    active (the figure is provisional until the 90 days have passed); once 90 days have
    passed the save is final — a customer who leaves a year later stays a save of the
    quarter they were saved in, so old quarters do not shrink as time passes and can be
    compared with recent ones (the quarterly "saved customers" target counts these). The
    same 90-day rule as the funnel's "retained 90 days", which counts requests, only for
    requests already 90 days old."""
    return int(_saved_count(db, flt)["n"].iloc[0])


def _accepted_requests(db: Database, flt: RetentionFilter, until: date) -> ibis.Table:
    """(customer_id, requested_at, the customer's `POPULATION` cell) of every request in
    the period (selected channels) by a selected customer answered by an accepted offer up
    to `until`, and the customer stayed (not churned within min(request day + 90,
    `until`))."""
    req = touchpoints(db, flt, in_period=True)
    req = req.filter(req.kind == "cancellation_request")
    calls = touchpoints(db, _observed(as_filter(flt, channels=()), until), in_period=False)
    calls = calls.filter(calls.kind == "retention_call", calls.outcome == "offer_accepted")
    c = customers(db, flt).select("customer_id", "churn_date", *POPULATION)
    answered = req.semi_join(calls, req.touchpoint_id == calls.related_touchpoint_id)
    j = answered.join(c, answered.customer_id == c.customer_id).select(
        customer_id=answered.customer_id, requested_at=answered.occurred_at, churn_date=c.churn_date,
        **{d: c[d] for d in POPULATION})
    horizon = ibis.least((j.requested_at.date() + ibis.interval(days=RETAINED_AFTER_DAYS)).cast("date"),
                         ibis.literal(until))
    return j.filter(j.churn_date.isnull() | (j.churn_date > horizon)).select("customer_id", "requested_at", *POPULATION)


def saved_requests(db: Database, flt: RetentionFilter) -> ibis.Table:
    """The requests behind `saved_customers` as an Ibis table (customer_id, requested_at,
    cell): the list a KPI card opens (analytics/kpi_customers.py)."""
    return _accepted_requests(db, flt, outcomes_until(db, flt))


@cube(by_channel=False)
def _saved_count(db: Database, flt: RetentionFilter) -> ibis.Table:
    """`saved_customers` per population cell: distinct customers, so additive over cells
    (a customer is in one) but not over channels (a customer who asked in two channels is
    one save): the channel filter stays in the query."""
    saved = _accepted_requests(db, flt, outcomes_until(db, flt))
    return saved.group_by(*POPULATION).aggregate(n=saved.customer_id.nunique())


SAVED_BY_PERIOD_COLUMNS: dict[str, str] = {"start": "datetime64[ns]", "end": "datetime64[ns]", "saved": "int64"}


def saved_customers_by_period(db: Database, flt: RetentionFilter,
                              periods: Sequence[tuple[date, date]]) -> pd.DataFrame:
    """`saved_customers` for several periods in one query (the Overview's quarterly
    sparkline): for each (start, end), the distinct selected customers with a cancellation
    request in [start, end] (selected channels) answered by an accepted retention offer, who
    stayed — all judged at the data's as-of date, as `saved_customers`. Periods may overlap;
    one row each, in the order given (duplicates collapsed)."""
    spans = list(dict.fromkeys((s, e) for s, e in periods))
    if not spans:
        return empty_frame(SAVED_BY_PERIOD_COLUMNS)
    for s, e in spans:
        if s > e:
            raise ValueError(f"period start {s} is after its end {e}")
    df = _saved_per_window(db, flt, tuple(spans))
    saved = dict(zip(zip(pd.to_datetime(df["start"]), pd.to_datetime(df["end"])), df["saved"]))
    order = [(pd.Timestamp(s), pd.Timestamp(e)) for s, e in spans]
    out = pd.DataFrame({"start": [s for s, _ in order], "end": [e for _, e in order],
                        "saved": [saved.get(span, 0) for span in order]})
    return conform(out, SAVED_BY_PERIOD_COLUMNS)


@cube(keys=("start", "end"), by_channel=False)
def _saved_per_window(db: Database, flt: RetentionFilter, spans: tuple[tuple[date, date], ...]) -> ibis.Table:
    """`saved_customers_by_period`'s ``saved`` per population cell and (``start``,
    ``end``) of `spans` (distinct, valid) that has any; distinct customers, so not summed
    over channels (as `_saved_count`)."""
    windows = ibis.memtable({"start": [s for s, _ in spans], "end": [e for _, e in spans]},
                            schema={"start": "date", "end": "date"})
    lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
    window_flt = as_filter(flt, start=lo, end=hi)
    # whether a request is a save does not depend on the window: judged at the as-of date
    pairs = _accepted_requests(db, window_flt, outcomes_until(db, window_flt))
    w = pairs.cross_join(windows)
    end_of_day = w.end.cast("timestamp") + ibis.interval(days=1)
    w = w.filter(w.requested_at >= w.start.cast("timestamp"), w.requested_at < end_of_day)
    return w.group_by(*POPULATION, "start", "end").aggregate(saved=w.customer_id.nunique())
