"""What the retention team's logged work achieved (issue 16): the proactive funnel of the
cases worked in the app, saves, the reach rate and the first-attempt SLA, for the team and
per agent, over a chosen period. Read from the action store (analytics.actions, decision 021);
definitions in docs/metrics.md#retention-team-outcomes and decision 024.

Definitions (a case = a customer with at least one action; its rows are its states):

- **Period and cohort**: the cases *opened* in ``[start, end]`` (UTC days, inclusive); a
  case is opened by its first row — when it was created or assigned. Every later step is
  counted up to `as_of` (default: now), whatever the period: a case opened in March and
  saved in May is a save of March. One cohort for every number, so each funnel step is a
  subset of the one before and old periods stay comparable.
- **Stages**: a case *ever* reached a stage when any of its rows up to `as_of` has that
  status or a later one in the order attempted < reached < offer_made < saved. So a case
  marked saved straight after reached counts as offered too (the furthest stage), and a
  case put back to attempted after reached (a correction) still counts as reached. *lost*
  and *not_now* are outcomes, not stages: they add nothing (a case closed as lost from
  new was never contacted).
- **Funnel**: contacted (attempted or further) → reached → offer made → saved; each
  step's conversion is of the step before. **Saves** = cases that reached *saved*.
- **Reach rate** = reached ÷ contacted. **Save rate** = saved ÷ contacted.
- **First-attempt SLA**: a case meets it when its first contact row (the first row with
  a stage status, i.e. attempted or further) came at most `sla_days` × 24 hours after the
  case was opened. **SLA attainment** = met ÷ due, where due = cases attempted, plus cases
  not attempted whose deadline (opened + `sla_days`) has passed by `as_of` (they missed
  it). Cases still inside their window are not judged yet.
- **Agent**: the case's owner on its latest row up to `as_of` ("(no owner)" when none) —
  the team lead asks "how are my agent's cases doing", and reassigned cases go with the
  agent who holds them.

Nothing here imports streamlit; the queries are SQLAlchemy Core over the store's own
tables (dialect-neutral, values bound), aggregated per case in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pandas as pd
import sqlalchemy as sa

from analytics.actions import ActionStore, ActionStoreError, customer_actions
from analytics.metrics._common import conform, empty_frame, ratio

# the stages of a worked case, in order; each status maps to the furthest stage it shows
STAGES: tuple[str, ...] = ("contacted", "reached", "offer made", "saved")
STAGE_OF_STATUS: dict[str, int] = {"attempted": 1, "reached": 2, "offer_made": 3, "saved": 4}
DEFAULT_SLA_DAYS = 2.0
NO_OWNER = "(no owner)"

CASE_OUTCOME_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "opened_at": "datetime64[ns]",
    "first_attempt_at": "datetime64[ns]",
    "stage": "int64",          # furthest stage ever: 0 none, 1 contacted … 4 saved
    "agent": "string",
}
AGENT_COLUMNS: dict[str, str] = {
    "agent": "string",
    "cases": "int64",
    "contacted": "int64",
    "reached": "int64",
    "offered": "int64",
    "saved": "int64",
    "reach_rate": "float64",      # reached ÷ contacted
    "offer_rate": "float64",      # offered ÷ reached
    "close_rate": "float64",      # saved ÷ offered
    "save_rate": "float64",       # saved ÷ contacted
    "sla_due": "int64",
    "sla_met": "int64",
    "sla_attainment": "float64",  # met ÷ due
    "median_days_to_attempt": "float64",
}
FUNNEL_COLUMNS: dict[str, str] = {
    "step": "string", "count": "int64", "base": "int64", "start": "int64", "step_order": "int64",
    "conversion": "float64", "share_of_start": "float64",
}


@dataclass(frozen=True)
class TeamOutcomes:
    """The team's outcomes for the cases opened in ``[start, end]`` (module docstring).

    `cases` one row per case (`CASE_OUTCOME_COLUMNS`); `team` the totals as one row of
    `AGENT_COLUMNS` (agent "Team"); `by_agent` one row per agent (most cases first, no
    owner last); `funnel` the steps contacted → reached → offer made → saved in the shape
    of `analytics.metrics.funnel.retention_funnel` (conversion = of the step before,
    share_of_start = of contacted). `logged` tells whether the store holds any action at
    all (an empty store is "no cases logged yet", not "none in this period")."""

    start: date
    end: date
    as_of: datetime
    sla_days: float
    logged: bool
    cases: pd.DataFrame
    team: pd.Series
    by_agent: pd.DataFrame
    funnel: pd.DataFrame


def team_outcomes(store: ActionStore, start: date, end: date, sla_days: float = DEFAULT_SLA_DAYS,
                  as_of: datetime | None = None) -> TeamOutcomes:
    """The funnel, saves, reach rate and first-attempt SLA of the cases opened from `start`
    to `end` (UTC days, inclusive), for the team and per agent, counting the rows written
    up to `as_of` (naive UTC; None = now). Definitions in the module docstring. Raises
    `ValueError` for an empty period or a non-positive `sla_days`, `ActionStoreError`
    when the store cannot be read."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if not sla_days > 0:
        raise ValueError(f"the first-attempt SLA is a number of days above 0, got {sla_days!r}")
    as_of = as_of or datetime.now(timezone.utc).replace(tzinfo=None)
    cases, logged = _case_outcomes(store, start, end, as_of)
    sla = timedelta(days=float(sla_days))
    waited = cases["first_attempt_at"] - cases["opened_at"]
    attempted = cases["first_attempt_at"].notna()
    cases = cases.assign(
        sla_due=attempted | (cases["opened_at"] + sla <= as_of),
        sla_met=attempted & (waited <= sla),
        days_to_attempt=waited.dt.total_seconds() / 86_400,
    )
    team = conform(_counts(cases).assign(agent="Team"), AGENT_COLUMNS).iloc[0]
    by_agent = empty_frame(AGENT_COLUMNS)
    if not cases.empty:
        by_agent = pd.concat([_counts(group).assign(agent=agent) for agent, group in cases.groupby("agent")],
                             ignore_index=True)
        by_agent = by_agent.assign(no_owner=by_agent["agent"] == NO_OWNER).sort_values(
            ["no_owner", "cases", "agent"], ascending=[True, False, True], kind="mergesort")
    return TeamOutcomes(start=start, end=end, as_of=as_of, sla_days=float(sla_days), logged=logged,
                        cases=conform(cases, CASE_OUTCOME_COLUMNS), team=team,
                        by_agent=conform(by_agent, AGENT_COLUMNS).reset_index(drop=True), funnel=_funnel(team))


def _case_outcomes(store: ActionStore, start: date, end: date, as_of: datetime) -> tuple[pd.DataFrame, bool]:
    """One row per case opened in the period: opened_at, first_attempt_at, furthest stage
    and current agent, aggregated in the database (one group-by and a join on the latest
    row), plus whether the store holds any action."""
    a = customer_actions
    stage = sa.case(*[(a.c.status == status, rank) for status, rank in STAGE_OF_STATUS.items()], else_=0)
    attempt_at = sa.case((a.c.status.in_(list(STAGE_OF_STATUS)), a.c.created_at), else_=None)
    upto = a.c.created_at <= as_of
    per_case = (sa.select(a.c.customer_id,
                          sa.func.min(a.c.created_at).label("opened_at"),
                          sa.func.min(attempt_at).label("first_attempt_at"),
                          sa.func.max(stage).label("stage"),
                          sa.func.max(a.c.id).label("latest_id"))
                .where(upto).group_by(a.c.customer_id)
                .having(sa.and_(sa.func.min(a.c.created_at) >= datetime.combine(start, time()),
                                sa.func.min(a.c.created_at) < datetime.combine(end + timedelta(days=1), time())))
                .subquery())
    latest = a.alias("latest")
    query = (sa.select(per_case.c.customer_id, per_case.c.opened_at, per_case.c.first_attempt_at,
                       per_case.c.stage, latest.c.owner)
             .join(latest, latest.c.id == per_case.c.latest_id).order_by(per_case.c.customer_id))
    try:
        with store.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            logged = conn.execute(sa.select(a.c.id).where(upto).limit(1)).first() is not None
    except sa.exc.SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        raise ActionStoreError(f"cannot read the action store at {store.where}: {reason}") from err
    cases = pd.DataFrame(rows, columns=["customer_id", "opened_at", "first_attempt_at", "stage", "owner"])
    cases["agent"] = cases["owner"].where(cases["owner"].notna() & (cases["owner"] != ""), NO_OWNER)
    cases = cases.drop(columns="owner").astype({"customer_id": "int64", "stage": "int64", "agent": "string"})
    for column in ("opened_at", "first_attempt_at"):
        cases[column] = pd.to_datetime(cases[column])
    return cases, logged


def _counts(cases: pd.DataFrame) -> pd.DataFrame:
    """The counts and rates of `AGENT_COLUMNS` (without ``agent``) over some cases, one row."""
    stage = cases["stage"]
    row = {"cases": len(cases), "contacted": int((stage >= 1).sum()), "reached": int((stage >= 2).sum()),
           "offered": int((stage >= 3).sum()), "saved": int((stage >= 4).sum()),
           "sla_due": int(cases["sla_due"].sum()), "sla_met": int(cases["sla_met"].sum())}
    row["reach_rate"] = ratio(row["reached"], row["contacted"])
    row["offer_rate"] = ratio(row["offered"], row["reached"])
    row["close_rate"] = ratio(row["saved"], row["offered"])
    row["save_rate"] = ratio(row["saved"], row["contacted"])
    row["sla_attainment"] = ratio(row["sla_met"], row["sla_due"])
    days = cases["days_to_attempt"].dropna()
    row["median_days_to_attempt"] = float(days.median()) if len(days) else float("nan")
    return pd.DataFrame([row])


def _funnel(team: pd.Series) -> pd.DataFrame:
    counts = [int(team[c]) for c in ("contacted", "reached", "offered", "saved")]
    if counts[0] == 0:
        return empty_frame(FUNNEL_COLUMNS)
    df = pd.DataFrame({"step": list(STAGES), "count": counts, "base": [counts[0]] + counts[:-1],
                       "start": counts[0], "step_order": range(1, len(STAGES) + 1)})
    df["conversion"] = ratio(df["count"], df["base"])
    df["share_of_start"] = ratio(df["count"], df["start"])
    return conform(df, FUNNEL_COLUMNS)
