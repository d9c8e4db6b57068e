"""Overview (management): the retention KPIs against the previous period and the
quarter's targets, the churn and revenue-retention trend, and the groups that moved."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import periods
from analytics.takeaways import MIN_GROUP_CUSTOMERS
from charts import overview as overview_charts
from dashboard import data, glossary as g, score_progress, sidebar, tables, ui
from analytics import formatting as fmt
from analytics.filters import RetentionFilter
from charts.theme import BAD, GOOD, NEUTRAL

STATUS_COLOURS = {"Met": GOOD, "Missed": BAD}  # as the targets chart's bars


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


@st.dialog("The customers behind the number", width="large")
def customers_behind(key: str, window: RetentionFilter, title: str) -> None:
    behind = data.customers_behind(key, window)
    st.markdown(f"**{title}** — {fmt.count(behind.total)} customers"
                + (f"; the latest {fmt.count(len(behind.customers))} shown" if behind.capped else ""))
    if behind.customers.empty:
        st.info("Nobody in this selection.")
        return
    shown = tables.labelled(behind.customers, {
        "customer_id": "Customer", "full_name": "Name", "segment": "Segment", "region": "Region", "plan": "Plan",
        "signup_date": "Signed up", "event_date": "Churned" if behind.kind == "churned" else "Asked to cancel",
        "monthly_revenue": "Monthly revenue"}, value_columns=("segment", "region", "plan"))
    shown["Monthly revenue"] = shown["Monthly revenue"].map(fmt.money)
    for col in ("Signed up", "Churned", "Asked to cancel"):
        if col in shown.columns:
            shown[col] = pd.to_datetime(shown[col]).dt.strftime("%d %b %Y")
    ui.table(shown, f"behind_{key}")


score_progress.show("Margin at risk")  # while churn scores are computed in the background

# the customers behind the cards: who churned and who was saved in the cards' windows, who is at risk
who = st.columns(4)
churn_card, saved_card = board.kpi("logo_churn"), board.kpi("saved_customers")
if not churn_card.unavailable and who[0].button(
        f"Who churned in {churn_card.window}", icon=":material/person_remove:", key="behind_logo_churn",
        help="The customers behind Logo churn: active at the window's start, gone by its end"):
    customers_behind("logo_churn", cmp.current, f"Churned in {churn_card.window}")
if not saved_card.unavailable and who[1].button(
        f"Who was saved in {saved_card.window}", icon=":material/handshake:", key="behind_saved_customers",
        help="The customers behind Saved customers: asked to cancel, accepted an offer, stayed"):
    customers_behind("saved_customers", periods.quarter_to_date(flt).current, f"Saved in {saved_card.window}")
with who[2]:
    st.page_link(Path(__file__).resolve().parent / "at_risk.py", label="Who is at risk",
                 icon=":material/crisis_alert:", help="The customers behind margin at risk, ranked by expected loss")

# --- recurring revenue ----------------------------------------------------------------------
recurring = board.recurring
ui.section("Recurring revenue", g.MRR, f"MRR, ARR and ARPA on the last day of {cmp.name}, against the last day of "
           f"{cmp.previous_name}; the waterfall from the window's opening MRR to its closing MRR.")
if recurring.note:
    ui.needs_data(recurring.note)
else:
    for column, k in zip(st.columns(4), recurring.kpis):
        ui.kpi_card(column, k)
    if recurring.waterfall_note:
        ui.needs_data(recurring.waterfall_note)
    else:
        ui.chart(overview_charts.mrr_waterfall_chart(recurring.waterfall.iloc[0], recurring.takeaway), "mrr_waterfall",
                 data=recurring.waterfall, help_anchor=g.MRR_WATERFALL,
                 caption=recurring.opening_note or "A customer's MRR counts 0 from its churn date, whatever was "
                 "billed that month.")

# --- the quarter's targets ----------------------------------------------------------------
quarter = board.quarter
ui.section(f"Targets for {board.quarter_name}", g.TARGETS, "Targets are set for the whole business (config/targets.toml).")
targets = board.targets
if board.targets_error:
    st.error(board.targets_error)
elif board.targets_note:
    st.info(board.targets_note, icon=":material/filter_alt:")
elif targets["target"].isna().all():
    st.info(f"No targets are set for {board.quarter_name} ({quarter}) in config/targets.toml.")
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
        ui.table(shown.style.map(lambda v: f"color: {STATUS_COLOURS.get(v, NEUTRAL)}; font-weight: 600",
                                 subset=["Status"]), "targets")
        if bool(targets["partial"].any()):
            st.caption(f"{board.quarter_name} is not over: actuals are to {flt.as_of:%d %b %Y} and not scaled up.")

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
