"""Overview (management): the retention KPIs against the previous period and the
quarter's targets, the churn and revenue-retention trend, and the groups that moved."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analytics import periods
from analytics.takeaways import MIN_GROUP_CUSTOMERS
from charts import overview as overview_charts
from dashboard import data, glossary as g, score_progress, sidebar, tables, ui
from analytics import formatting as fmt


flt = sidebar.current_filter()
st.title("Overview")
mode = st.segmented_control(
    "Rates over", periods.WINDOW_MODES, default=periods.QUARTER_TO_DATE, key="overview_window",
    help="Churn, revenue churn, NRR and GRR over the quarter holding the as-of date, or over "
    "the sidebar's period; each compared with the period before it.",
) or periods.QUARTER_TO_DATE
cmp = periods.comparison(flt, mode)
st.caption(
    f"As of {flt.as_of:%d %b %Y} · rates over {cmp.name}, changes against {cmp.previous_name} · "
    f"sparklines and trends over the sidebar period"
)
st.page_link(Path(__file__).resolve().parent / "leadership_report.py", label="Leadership report",
             icon=":material/slideshow:", help="The deck and PDF of this story, for the sidebar's filters")

board = data.headlines(flt, mode)  # the KPIs, trends, targets and movers, assembled once in analytics
if board.empty:
    ui.empty(ui.NO_MATCH)
    st.stop()

for row in (board.kpis[i:i + 4] for i in range(0, len(board.kpis), 4)):  # a purchase log has more
    for column, k in zip(st.columns(4), row):
        ui.kpi_card(column, k)
if board.churn_dates_note:  # a single snapshot: the period churn cards above read "—"
    ui.needs_data(board.churn_dates_note)
score_progress.show("Margin at risk")  # while churn scores are computed in the background
st.page_link(Path(__file__).resolve().parent / "at_risk.py", label="Open the at-risk list",
             icon=":material/crisis_alert:", help="The customers behind margin at risk, ranked by expected loss")

# --- the quarter's targets ----------------------------------------------------------------
quarter = board.quarter
ui.section(f"Targets for {quarter}", g.TARGETS, "Targets are set for the whole business (config/targets.toml).")
targets = board.targets
if board.targets_error:
    st.error(board.targets_error)
elif board.targets_note:
    st.info(board.targets_note, icon=":material/filter_alt:")
elif targets["target"].isna().all():
    st.info(f"No targets are set for {quarter} in config/targets.toml.")
else:
    left, right = st.columns([3, 2])
    with left:
        ui.chart(overview_charts.targets_chart(targets, board.targets_takeaway), "targets", data=targets,
                 help_anchor=g.TARGETS, width="wide")
    with right:
        shown = tables.labelled(
            targets.assign(status=targets["met"].map({True: "Met", False: "Missed"}).fillna("—")),
            {"metric": "Metric", "target": "Target", "actual": "Actual", "status": "Status"},
            value_columns=("metric",),
        )
        is_count = targets["metric"] == "saved_customers"
        for col in ("Target", "Actual"):
            shown[col] = [fmt.count(v) if c else fmt.percent(v, 2) for v, c in zip(shown[col], is_count)]
        ui.table(shown, "targets")
        if bool(targets["partial"].any()):
            st.caption(f"{quarter} is not over: actuals are to {flt.as_of:%d %b %Y} and not scaled up.")

# --- trends -------------------------------------------------------------------------------
ui.section("Churn and retention trend", g.LOGO_CHURN,
           "Titles come from the fitted trend line over the whole months, not from the first and last month.")
if board.churn_dates_note:  # a single snapshot: no month's churn is known
    ui.needs_data(board.churn_dates_note)
else:
    left, right = st.columns(2)
    with left:
        ui.chart(overview_charts.churn_trend(board.monthly_churn, board.monthly_revenue, board.churn_trend_takeaway),
                 "churn_trend", data=board.monthly_churn, help_anchor=g.LOGO_CHURN, width="half")
    with right:
        if board.monthly_revenue.empty:
            ui.empty("No recurring revenue in the selection.")
        else:
            ui.chart(overview_charts.revenue_retention_trend(board.monthly_revenue,
                                                             board.revenue_retention_takeaway),
                     "revenue_retention", data=board.monthly_revenue, help_anchor=g.NRR, width="half")

# --- movers -------------------------------------------------------------------------------
ui.section("Groups that moved most", g.CHURN_PROFILE,
           f"Logo churn over {cmp.name} against {cmp.previous_name}, by segment, region, plan and contract type.")
if board.churn_dates_note:
    ui.needs_data(board.churn_dates_note)
elif board.movers.empty:
    ui.empty(board.movers_takeaway)
else:
    ui.chart(overview_charts.movers_chart(board.movers, board.movers_takeaway), "movers", data=board.movers,
             help_anchor=g.CHURN_PROFILE,
             caption=f"Groups with at least {MIN_GROUP_CUSTOMERS} customers at both period starts; "
                     "faded bars moved within noise.")
