"""Churn funnel (retention team): cancellation requests through to customers still with
us 90 days later, the reach rate against the case study's 20–30% baseline, splits by
segment, channel and agent, response time against the SLA, why customers left, and the
proactive funnel; then the retention team's own proactive funnel, from the cases logged
in the app (dashboard/team_outcomes.py).

On a single snapshot (`analytics.catalog.data_present`'s ``churn_dates`` False) the reasons
of the period's leavers say they need churn dates; the funnel itself (requests, calls,
offers, who is still active) stays."""

from __future__ import annotations

import streamlit as st

from charts import churn as churn_charts
from dashboard import data, glossary as g, sidebar, tables, ui
from dashboard.team_outcomes import retention_team_section
from analytics import catalog, formatting as fmt
from analytics.takeaways import REACH_BASELINE

SPLITS = {"segment": "Segment", "channel": "Request channel", "agent": "Agent"}


def stop() -> None:
    """End the reactive part early; the team's section comes from the action store, not the
    analytics file, so it shows whatever the imported data lacks."""
    retention_team_section()
    st.stop()


flt = sidebar.current_filter()
st.title("Churn funnel")
st.caption(
    f"Cancellation requests made {flt.start:%d %b %Y} – {flt.end:%d %b %Y} by the selected customers "
    "in the selected channels; retention calls and outcomes up to the data's as-of date, "
    "whatever the period."
)
sla_hours = st.slider(
    "Response SLA (hours from request to first retention call)", min_value=1, max_value=72, value=24,
    step=1, key="funnel_sla_hours",
    help="A request meets the SLA when its first retention call came within this many hours. "
    + g.help_link(g.RETENTION_FUNNEL),
)

present = data.data_present()
if not present["requests"]:
    ui.needs_data(catalog.needs("requests", "The churn funnel") + " Churn by segment and the "
                  "survival curves (Retention by segment) need only customers and their churn dates.")
    stop()
funnel = data.retention_funnel(flt, sla_hours)
if funnel.empty:
    ui.empty("No cancellation requests match these filters and this period. Widen the period, "
             "the customer filters or the contact channels in the sidebar.")
    stop()
overall = data.retention_funnel_summary(flt, None, sla_hours).iloc[0]

cols = st.columns(5)
ui.kpi(cols[0], "Requests", fmt.count(overall.requests),
       help_text="Cancellation requests in the period.", anchor=g.RETENTION_FUNNEL)
ui.kpi(cols[1], "Reach rate", fmt.percent(overall.reach_rate), n=overall.requests, unit="requests",
       help_text="Requests where a retention call reached the customer ÷ requests. "
       "Case-study baseline: 20–30%.", anchor=g.RETENTION_FUNNEL)
ui.kpi(cols[2], "Offer acceptance", fmt.percent(overall.acceptance_rate), n=overall.offered, unit="offers",
       help_text="Accepted offers ÷ offers made.", anchor=g.RETENTION_FUNNEL)
if present["churn_dates"]:
    ui.kpi(cols[3], "Kept 90 days", fmt.percent(overall.save_rate_90d), n=overall.accepted_judged_90d,
           unit="saves", help_text="Of the accepted offers at least 90 days before the data's as-of date (n), the "
           "share whose customer was still active 90 days after the request.", anchor=g.RETENTION_FUNNEL)
else:  # a single snapshot: whether a churner was still active 90 days after its request is unknown
    ui.kpi(cols[3], "Kept 90 days", "—", help_text=catalog.needs("churn_dates", "Kept 90 days"),
           anchor=g.RETENTION_FUNNEL)
ui.kpi(cols[4], f"Called within {sla_hours} h", fmt.percent(overall.sla_attainment), n=overall.sla_due,
       unit="requests",
       help_text=f"Requests whose first retention call came within {sla_hours} hours ÷ requests "
       f"whose SLA can be judged. Median wait {overall.median_hours_to_attempt:.1f} h.",
       anchor=g.RETENTION_FUNNEL)

ui.section("From request to retained", g.RETENTION_FUNNEL,
           "Each step is a subset of the one before; the last step counts only requests at "
           "least 90 days old.")
left, right = st.columns([3, 2])
with left:
    ui.chart(churn_charts.funnel_chart(funnel, subtitle="Cancellation requests and what became of them"),
             "funnel", data=funnel, help_anchor=g.RETENTION_FUNNEL, width="wide")
with right:
    ui.chart(churn_charts.reach_gauge(float(overall.reach_rate), float(overall.requests)), "reach_gauge", help_anchor=g.RETENTION_FUNNEL,
             caption="Reach rate = reached ÷ requests", width="narrow")

ui.section("Where the funnel leaks", g.RETENTION_FUNNEL)
split = st.segmented_control("Split by", list(SPLITS), format_func=SPLITS.get, default="segment",
                             key="funnel_split") or "segment"
by_group = data.retention_funnel_summary(flt, split, sla_hours)
ui.chart(
    churn_charts.rate_by_group(by_group, split, "reach_rate", "Reach rate", baseline=REACH_BASELINE),
    f"reach_by_{split}", data=by_group, help_anchor=g.RETENTION_FUNNEL,
)
rates = ["attempt_rate", "reach_rate", "offer_rate", "acceptance_rate", "save_rate_90d", "sla_attainment"]
# short headers, the full wording in each header's help: the table fits 1440 px (issue 17)
within_sla = f"Within {sla_hours:g} h"
shown = tables.labelled(
    tables.percent_values(by_group, rates),
    {"group": SPLITS[split], "requests": "Requests", "attempt_rate": "Attempted", "reach_rate": "Reached",
     "offer_rate": "Offered", "acceptance_rate": "Accepted", "save_rate_90d": "Kept 90 days",
     "accepted_judged_90d": "Judged (n)", "median_hours_to_attempt": "Median hours",
     "sla_attainment": within_sla},
    value_columns=("group",),
)
ui.table(shown, f"funnel_by_{split}", column_config={
    "Requests": tables.count_column("Requests"),
    "Attempted": tables.percent_column("Attempted", 1, "Requests with at least one retention call."),
    "Reached": tables.percent_column("Reached", 1, "Requests where the customer was reached."),
    "Offered": tables.percent_column("Offered", 1, "Offer made, as a share of the reached."),
    "Accepted": tables.percent_column("Accepted", 1, "Offer accepted, as a share of the offers."),
    "Kept 90 days": tables.percent_column("Kept 90 days", 1,
                                          "Still active 90 days after accepting (of those accepted at least "
                                          "90 days before the as-of date)."),
    "Judged (n)": tables.count_column("Judged (n)", "Accepted at least 90 days before the as-of date: the n "
                                                    "behind Kept 90 days."),
    "Median hours": st.column_config.NumberColumn("Median hours", format="%.1f",
                                                  help="Median hours from the request to the first call."),
    within_sla: tables.percent_column(within_sla, 1, f"First call within {sla_hours:g} h of the request (the SLA)."),
})

ui.section("Time to the first retention call", g.RETENTION_FUNNEL,
           "Hours from the cancellation request to the first retention call, by the channel of the request.")
by_channel = data.retention_funnel_summary(flt, "channel", sla_hours)
attempted = by_channel.dropna(subset=["median_hours_to_attempt"])
if attempted.empty:
    ui.empty("No request in the selection has had a retention call yet.")
else:
    ui.chart(churn_charts.response_times(attempted, sla_hours), "response_times", data=by_channel,
             help_anchor=g.RETENTION_FUNNEL)

ui.section("Why customers left", g.CHURN_PROFILE,
           "Recorded churn reasons of every customer who left in the period — those who asked to "
           "cancel and were not saved, and those who left without asking.")
reasons = data.churn_reasons(flt) if present["churn_dates"] else None
if not present["churn_dates"]:  # a single snapshot: who left in the period is unknown
    ui.needs_data(catalog.needs("churn_dates", "Why customers left in the period"))
elif reasons.empty:
    ui.empty("Nobody in the selection left in this period.")
else:
    ui.chart(churn_charts.reasons_chart(reasons), "churn_reasons", data=reasons, help_anchor=g.CHURN_PROFILE)

ui.section("Proactive funnel", g.PROACTIVE_FUNNEL,
           "Customers flagged at risk, contacted within 30 days, reached, and still active 90 days "
           "after the flag.")
proactive = data.proactive_funnel(flt)
if proactive.empty:
    ui.empty("No at-risk flags in this period for the selection (the optional at_risk_flags "
             "table is absent or holds none).")
else:
    left, right = st.columns([3, 2])
    with left:
        reached = proactive.loc[proactive["step"] == "reached", "share_of_start"].iloc[0]
        ui.chart(churn_charts.funnel_chart(
            proactive, title=f"{fmt.percent(reached, 0)} of flagged customers were reached",
            subtitle="At-risk flags raised in the period and the outreach that followed"),
            "proactive_funnel", data=proactive, help_anchor=g.PROACTIVE_FUNNEL, width="wide")
    with right:
        comparison = data.proactive_retention_comparison(flt)
        if comparison.empty:
            ui.empty("No flag in the period is 90 days old yet.")
        else:
            ui.chart(churn_charts.proactive_comparison_chart(comparison), "proactive_comparison",
                     data=comparison, help_anchor=g.PROACTIVE_FUNNEL, width="narrow")

retention_team_section()
