"""Overview (management): the retention KPIs against the previous period and the
quarter's targets, the churn and revenue-retention trend, and the groups that moved."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import charts, data, glossary as g, periods, sidebar, tables, ui
from dashboard import formatting as fmt

MOVER_DIMENSIONS = ("segment", "region", "plan", "contract_type")
SPARK_QUARTERS = 4

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

monthly_churn = data.churn_by_period(flt, "month")
if monthly_churn.empty:
    ui.empty(ui.NO_MATCH)
    st.stop()

active_now = data.active_customers(flt)
active_before = data.active_customers(cmp.previous)
churn_now, churn_before = data.churn_summary(cmp.current), data.churn_summary(cmp.previous)
revenue_now = data.revenue_retention(cmp.current, "range")
revenue_before = data.revenue_retention(cmp.previous, "range")
monthly_revenue = data.revenue_retention(flt, "month")
quarters = periods.quarter_windows(flt, SPARK_QUARTERS)
# the quarterly sparklines: one query per series, not one per quarter
clv_at = data.average_clv_at(flt, tuple(q.end for q in quarters) + (cmp.previous.end,))
clv_at = clv_at.set_index(clv_at["as_of"].dt.date)
saves_before_window = periods.quarter_to_date(flt).previous
saves = data.saved_customers_by_period(
    flt, tuple((q.start, q.end) for q in quarters) + ((saves_before_window.start, saves_before_window.end),))
saves = dict(zip(zip(saves["start"].dt.date, saves["end"].dt.date), saves["saved"].astype(int)))
saves_by_quarter = [saves[(q.start, q.end)] for q in quarters]
saves_before = saves[(saves_before_window.start, saves_before_window.end)]


def first(df, column):
    return float(df[column].iloc[0]) if not df.empty else float("nan")


def rate_change(now, before):
    return None if fmt.percent(now) == "—" or fmt.percent(before) == "—" else fmt.points(now - before, 2)


clv_now = float(clv_at.loc[quarters[-1].end, "average_clv"])
clv_before = float(clv_at.loc[cmp.previous.end, "average_clv"])

row1 = st.columns(4)
ui.kpi(
    row1[0], "Active customers", fmt.count(active_now), fmt.signed_count(active_now - active_before),
    help_text=f"Customers whose relationship had started and not ended on {flt.as_of:%d %b %Y}; "
    f"change since {cmp.previous.end:%d %b %Y}. Sparkline: month ends.",
    anchor=g.ACTIVE_CUSTOMERS, sparkline=monthly_churn["active_end"], chart_type="area",
)
logo_now, logo_before = first(churn_now, "churn_rate"), first(churn_before, "churn_rate")
ui.kpi(
    row1[1], "Logo churn", fmt.percent(logo_now, 2), rate_change(logo_now, logo_before), inverse=True,
    help_text=f"{fmt.count(first(churn_now, 'churned_from_start'))} of the "
    f"{fmt.count(first(churn_now, 'active_start'))} customers active at the start of {cmp.name} "
    "left during it. Sparkline: monthly rate.",
    anchor=g.LOGO_CHURN, sparkline=monthly_churn["churn_rate"],
)
grc_now, grc_before = first(revenue_now, "gross_revenue_churn"), first(revenue_before, "gross_revenue_churn")
ui.kpi(
    row1[2], "Revenue churn", fmt.percent(grc_now, 2), rate_change(grc_now, grc_before), inverse=True,
    help_text="Churned plus contraction MRR of the starting book ÷ its MRR at the start. "
    "Sparkline: monthly rate.",
    anchor=g.GROSS_REVENUE_CHURN, sparkline=monthly_revenue.get("gross_revenue_churn"),
)
nrr_now, nrr_before = first(revenue_now, "nrr"), first(revenue_before, "nrr")
ui.kpi(
    row1[3], "Net revenue retention", fmt.percent(nrr_now), rate_change(nrr_now, nrr_before),
    help_text="MRR at the end from the customers paying at the start ÷ their MRR at the start "
    "(expansion counts). Sparkline: monthly NRR.",
    anchor=g.NRR, sparkline=monthly_revenue.get("nrr"),
)
row2 = st.columns(4)
grr_now, grr_before = first(revenue_now, "grr"), first(revenue_before, "grr")
ui.kpi(
    row2[0], "Gross revenue retention", fmt.percent(grr_now), rate_change(grr_now, grr_before),
    help_text="As NRR, with each customer's MRR capped at its start value (no expansion). "
    "Sparkline: monthly GRR.",
    anchor=g.GRR, sparkline=monthly_revenue.get("grr"),
)
ui.kpi(
    row2[1], "Average historical CLV", fmt.money(clv_now),
    fmt.signed_money(clv_now - clv_before) if clv_before == clv_before else None,
    help_text=f"Margin earned to date per customer, over the {fmt.count(clv_at.loc[quarters[-1].end, 'customers'])} "
    "customers who ever signed up. Sparkline: quarter ends.",
    anchor=g.HISTORICAL_CLV, sparkline=[clv_at.loc[q.end, "average_clv"] for q in quarters], chart_type="area",
)
quarter_name = periods.quarter_to_date(flt).name
ui.kpi(
    row2[2], "Saved this quarter", fmt.count(saves_by_quarter[-1]),
    fmt.signed_count(saves_by_quarter[-1] - saves_before),
    help_text=f"Customers who asked to cancel in {quarter_name}, accepted a retention offer and are "
    f"still active; change against the same days of the previous quarter. Sparkline: quarters.",
    anchor=g.SAVED_CUSTOMERS, sparkline=saves_by_quarter,
)
risk = data.margin_at_risk(flt)
if risk.available:
    risk_trend = data.margin_at_risk_trend(flt)
    earlier = risk_trend[risk_trend["scored_on"].dt.date < risk.scored_on]
    risk_before = float(earlier["expected_loss"].iloc[-1]) if not earlier.empty else float("nan")
    ui.kpi(
        row2[3], "Margin at risk", fmt.money(risk.total_expected_loss),
        fmt.signed_money(risk.total_expected_loss - risk_before) if risk_before == risk_before else None,
        inverse=True,
        help_text=f"Σ churn probability (90 days) × future value (the margin still to come) over the {fmt.count(risk.customers)} active "
        f"customers, scores of {risk.scored_on:%d %b %Y}; the riskiest {risk.top_share:.0%} hold "
        f"{fmt.percent(risk.top_loss_share, 0)} of it. Change and sparkline: month-end scorings "
        "(earlier ones backfilled with the current model).",
        anchor=g.MARGIN_AT_RISK, sparkline=risk_trend["expected_loss"],
    )
else:
    ui.kpi(row2[3], "Margin at risk", "—", help_text=risk.message + " Run `make scores` with the dashboard "
           "stopped.", anchor=g.MARGIN_AT_RISK)
st.page_link(Path(__file__).resolve().parent / "at_risk.py", label="Open the at-risk list",
             icon=":material/crisis_alert:", help="The customers behind margin at risk, ranked by expected loss")

# --- the quarter's targets ----------------------------------------------------------------
quarter = periods.current_quarter(flt)
ui.section(f"Targets for {quarter}", g.TARGETS,
           "Targets are set for the whole business; with segment, region or plan filters the "
           "comparison is indicative only.")
try:
    targets = data.targets_vs_actuals(flt, quarter)
except (FileNotFoundError, ValueError) as err:
    st.error(f"The quarterly targets could not be read: {err}")
    targets = None
if targets is not None:
    if targets["target"].isna().all():
        st.info(f"No targets are set for {quarter} in config/targets.toml.")
    else:
        left, right = st.columns([3, 2])
        with left:
            ui.chart(charts.targets_chart(targets), "targets", data=targets, help_anchor=g.TARGETS, width="wide")
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
ui.section("Churn and retention trend", g.LOGO_CHURN)
left, right = st.columns(2)
with left:
    ui.chart(charts.churn_trend(monthly_churn, monthly_revenue), "churn_trend", data=monthly_churn,
             help_anchor=g.LOGO_CHURN, width="half")
with right:
    if monthly_revenue.empty:
        ui.empty("No recurring revenue in the selection.")
    else:
        ui.chart(charts.revenue_retention_trend(monthly_revenue), "revenue_retention",
                 data=monthly_revenue, help_anchor=g.NRR, width="half")

# --- movers -------------------------------------------------------------------------------
ui.section("Groups that moved most", g.CHURN_PROFILE,
           f"Logo churn over {cmp.name} against {cmp.previous_name}, by segment, region, plan and contract type.")
movers = tables.churn_movers(  # one query per period for all four dimensions
    [data.churn_by_dimensions(cmp.current, MOVER_DIMENSIONS)],
    [data.churn_by_dimensions(cmp.previous, MOVER_DIMENSIONS)],
)
if movers.empty:
    ui.empty("No group has enough customers in both periods to compare.")
else:
    ui.chart(charts.movers_chart(movers), "movers", data=movers, help_anchor=g.CHURN_PROFILE,
             caption=f"Groups with at least {tables.MIN_GROUP_CUSTOMERS} customers at both period starts.")
