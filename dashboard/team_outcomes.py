"""The "Retention team" section of the Churn funnel page (issue 16): the proactive funnel of
the cases the team works in the app (contacted → reached → offer made → saved), saves,
reach rate and first-attempt SLA, with a per-agent table for the team lead. Definitions:
analytics.team_outcomes, docs/metrics.md#retention-team-outcomes, decision 024.

Read from the action store on every run (never cached: another session's save must show).
Widgets keep a ``team_`` key prefix.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from analytics import formatting as fmt
from analytics.actions import ActionStoreError
from analytics.team_outcomes import NO_OWNER
from charts import churn as churn_charts
from dashboard import data, glossary as g, tables, ui

DEFAULT_PERIOD_DAYS = 30
NOTHING_LOGGED = "No cases logged yet — the funnel fills as the team works the at-risk list."


def _period() -> tuple[date, date]:
    today = datetime.now(timezone.utc).date()
    # the last 30 days that have cases: up to today for a team at work, up to its last
    # logged day for a store that stopped (the sample's simulated year ends with its data)
    try:
        last = data.last_logged_day()
    except (ActionStoreError, ValueError):
        last = None
    if last is not None and last < today:
        today = last
    picked = st.date_input(
        "Cases opened", value=(today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today), key="team_period",
        format="DD/MM/YYYY",
        help="The cases opened (created or assigned) in these days, UTC; what became of them is counted up to now, "
             "whatever the period. " + g.help_link(g.TEAM_OUTCOMES))
    days = [d for d in (picked if isinstance(picked, (tuple, list)) else (picked,)) if d]
    if not days:
        return today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today
    return days[0], days[-1]  # while only the first day of a range is picked, that one day


def retention_team_section() -> None:
    """The section: a period picker, five KPIs, the funnel and the per-agent table; one line
    when the store holds no case yet or cannot be opened."""
    ui.section("Retention team: cases worked in the app", g.TEAM_OUTCOMES,
               "The proactive funnel of the at-risk customers the team works on the At-risk page: "
               "the statuses logged in the app's action store, not the imported data.")
    st.caption("Proactive: the team reaches out to customers at risk before they ask to leave. Unlike the "
               "cancellation-request funnel at the top, it starts from the team's outreach; unlike the proactive "
               "funnel of the imported at-risk flags, it counts what the team logged here. The sidebar's filters "
               "do not apply.")
    start, end = _period()
    try:
        out = data.team_outcomes(start, end)
    except (ActionStoreError, ValueError) as err:
        st.error(f"The team's outcomes cannot be read: {err}", icon=":material/error:")
        return
    if not out.logged:
        ui.needs_data(NOTHING_LOGGED)
        return
    t = out.team
    if t.cases == 0:
        ui.empty(f"No case was opened from {start:%d %b %Y} to {end:%d %b %Y}. Widen the period.")
        return
    sla = f"{out.sla_days:g} day{'s' if out.sla_days != 1 else ''}"
    cols = st.columns(5)
    ui.kpi(cols[0], "Cases opened", fmt.count(t.cases), anchor=g.TEAM_OUTCOMES,
           help_text="Customers whose case was opened (first logged or assigned) in the period.")
    ui.kpi(cols[1], "Contacted", fmt.count(t.contacted), anchor=g.TEAM_OUTCOMES,
           help_text="Of those cases, the ones ever marked attempted or further.")
    ui.kpi(cols[2], "Team reach rate", fmt.percent(t.reach_rate), n=t.contacted, unit="contacted",
           anchor=g.TEAM_OUTCOMES, help_text="Cases ever reached (or further) ÷ cases contacted.")
    ui.kpi(cols[3], "Saves", fmt.count(t.saved), anchor=g.TEAM_OUTCOMES,
           delta_description=f"{fmt.percent(t.save_rate)} of contacted",
           help_text="Cases of the period ever marked saved, whenever that happened.")
    ui.kpi(cols[4], f"Tried within {sla}", fmt.percent(t.sla_attainment), n=t.sla_due, unit="cases",
           anchor=g.TEAM_OUTCOMES,
           help_text=f"Cases first attempted within {sla} of being opened ÷ cases due: attempted, or unattempted "
                     f"past the deadline (missed). Median wait {fmt.count(t.median_days_to_attempt * 24)} h. "
                     "Set [actions] first_attempt_sla_days in retention.toml.")
    if not out.funnel.empty:
        left, right = st.columns([3, 2])
        with left:
            ui.chart(churn_charts.funnel_chart(
                out.funnel, title=f"{fmt.count(t.saved)} saved of {fmt.count(t.contacted)} customers contacted",
                subtitle=f"Cases opened {start:%d %b} – {end:%d %b %Y}, logged by the retention team"),
                "team_funnel", data=out.funnel, help_anchor=g.TEAM_OUTCOMES, width="wide")
        with right:
            st.markdown("**Each step** is the furthest status a case ever had: attempted = contacted, then "
                        "reached, offer made, saved. *Lost* and *not now* close a case without adding a step.")
    else:
        ui.empty("None of the period's cases has been contacted yet.")
    _agent_table(out.by_agent, sla)


def _agent_table(by_agent: pd.DataFrame, sla: str) -> None:
    st.markdown("**By agent** — the case's current owner")
    tried = f"Tried ≤ {sla}"
    by_agent = by_agent.assign(agent=data.as_agent_names(by_agent["agent"]))
    shown = tables.labelled(
        tables.percent_values(by_agent, ["reach_rate", "save_rate", "sla_attainment"]),
        {"agent": "Agent", "cases": "Cases", "contacted": "Contacted", "reached": "Reached",
         "offered": "Offer made", "saved": "Saved", "reach_rate": "Reach rate", "save_rate": "Save rate",
         "sla_attainment": tried, "sla_due": "SLA n", "median_days_to_attempt": "Days to 1st try"},
    )
    counts = {"Cases": "Cases opened in the period", "Contacted": "Ever attempted or further",
              "Reached": "Ever reached or further", "Offer made": "Ever offer made or saved",
              "Saved": "Ever saved", "SLA n": "Cases whose first-attempt SLA can be judged"}
    ui.table(shown, "team_by_agent", height=420 if len(shown) > 10 else "auto", column_config={
        "Agent": st.column_config.TextColumn("Agent", width=150, pinned=True),
        **{c: tables.count_column(c, help_text) for c, help_text in counts.items()},
        "Reach rate": tables.percent_column("Reach rate", 0, "Reached ÷ contacted"),
        "Save rate": tables.percent_column("Save rate", 0, "Saved ÷ contacted"),
        tried: tables.percent_column(tried, 0, f"First attempt within {sla} of opening ÷ SLA n"),
        "Days to 1st try": st.column_config.NumberColumn(
            "Days to 1st try", format="%.1f", help="Median days from opening to the first attempt"),
    })
