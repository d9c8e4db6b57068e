"""Retention by segment (analysis): signup-cohort retention, survival curves with their
95% bands for a chosen dimension, median lifetime and the log-rank test, retention by
group, and the churn profile — who leaves, when, and why.

On a single snapshot (`analytics.catalog.data_present`'s ``churn_dates`` False: a churned
flag and tenure, every churner given the as-of date) the survival curves, median lifetime,
log-rank test and tenure at churn stay: each customer's lifetime is its tenure (signup =
as-of − tenure, churn = as-of for churners; actives censored at their tenure), which is
exactly what the export records, and no customer joined before the history (its start is
the earliest derived signup). What needs WHEN customers left says so instead: cohort
retention by signup month (a churner's derived signup month is shifted by however long ago
it left), churn over the period by group, and churn reasons by month."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts import churn as churn_charts
from dashboard import data, glossary as g, sidebar, tables, ui
from analytics import catalog, formatting as fmt

DIMENSIONS = ("segment", "plan", "region", "contract_type", "acquisition_channel", "loyalty_member")
BASES = {"logo": "Customers (logo)", "revenue": "Revenue (MRR)"}
NOT_REACHED = "not reached"  # a median or bound beyond the data


def _months(value) -> str:
    return NOT_REACHED if pd.isna(value) else f"{value:.1f}"


def _interval(lower, upper) -> str:
    """'31.9–34.4'; '≥ 49.1' when only the upper bound is beyond the data."""
    if pd.isna(lower):
        return NOT_REACHED
    return f"≥ {lower:.1f}" if pd.isna(upper) else f"{lower:.1f}–{upper:.1f}"


flt = sidebar.current_filter()
st.title("Retention by segment")
st.caption(f"Period {flt.start:%d %b %Y} – {flt.end:%d %b %Y}; survival over each customer's whole history "
           f"to {flt.as_of:%d %b %Y}.")

if data.churn_by_period(flt, "month").empty:
    ui.empty(ui.NO_MATCH)
    st.stop()
snapshot_note = "" if data.data_present()["churn_dates"] else catalog.needs("churn_dates", "Churn over time")

by = st.selectbox("Compare by", DIMENSIONS, format_func=fmt.label, key="retention_by",
                  help="The customer attribute the survival curves and churn rates are split by.")

medians_all = data.median_lifetime(flt)
medians = data.median_lifetime(flt, by)
logrank = data.survival_logrank(flt, by)
cols = st.columns(3)
ui.kpi(cols[0], "Median customer lifetime", fmt.months(medians_all["median_lifetime"].iloc[0], 1)
       if not medians_all.empty else "—",
       help_text="Months after signup by which half the customers have left (Kaplan–Meier, "
       "active customers censored; customers who joined before the data starts count from its "
       "first day).", anchor=g.MEDIAN_LIFETIME)
ui.kpi(cols[1], f"Log-rank p-value by {fmt.label(by).lower()}", fmt.p_value(logrank.p_value),
       help_text=f"Chance of curves this different if every {fmt.label(by).lower()} had the same "
       f"churn hazard (χ² = {logrank.test_statistic:.1f}, {logrank.degrees_of_freedom} df). "
       "Small = the groups really differ.", anchor=g.SURVIVAL)
ui.kpi(cols[2], "Groups compared", fmt.count(len(medians)),
       help_text=f"Values of {fmt.label(by).lower()} with customers in the selection.", anchor=g.SURVIVAL)

# --- survival ------------------------------------------------------------------------------
ui.section(f"Survival by {fmt.label(by).lower()}", g.SURVIVAL,
           "Kaplan–Meier estimate of the share of customers still active, by months since signup, "
           "with 95% confidence bands. Customers who joined before the data starts are counted "
           "from its first day (delayed entry), not as survivors of their early months.")
curves = data.kaplan_meier(flt, by, "months")
left, right = st.columns([3, 2])
with left:
    ui.chart(churn_charts.survival_curves(curves, medians, by, logrank.p_value), f"survival_{by}",
             data=curves, help_anchor=g.SURVIVAL, width="wide")
with right:
    # a median or bound the curve never reaches is said in words (a number column would
    # print its missing value as "None"); the interval is one column, so the table fits
    # the narrow column at 1440 px (issue 17); the counts are in its column menu
    bounded = tables.finite(medians, ["median_lifetime", "median_ci_lower", "median_ci_upper"])
    shown = tables.labelled(bounded, {"group": fmt.label(by), "customers": "Customers", "churned": "Churned"},
                            value_columns=("group",))
    shown.insert(1, "Median (months)", [_months(v) for v in bounded["median_lifetime"]])
    shown.insert(2, "95% CI", [_interval(lo, hi) for lo, hi in zip(bounded["median_ci_lower"],
                                                                    bounded["median_ci_upper"])])
    ui.table(shown, f"medians_{by}", column_order=[fmt.label(by), "Median (months)", "95% CI"], column_config={
        "Customers": tables.count_column("Customers"), "Churned": tables.count_column("Churned"),
        "95% CI": st.column_config.TextColumn("95% CI", help="The median's 95% confidence interval, in months."),
    })
    st.caption(f"“{NOT_REACHED}”: the curve has not fallen that far within the data "
               "(more than half the customers outlast it). " + g.help_link(g.MEDIAN_LIFETIME))

# --- cohorts -------------------------------------------------------------------------------
ui.section("Cohort retention", g.COHORT_RETENTION,
           "Each row is the customers who signed up in one month of the period; each column, months since.")
basis = st.segmented_control("Retention of", list(BASES), format_func=BASES.get, default="logo",
                             key="cohort_basis") or "logo"
cohorts = data.cohort_retention(flt, basis) if not snapshot_note else None
if snapshot_note:
    ui.needs_data(catalog.needs("churn_dates", "Cohort retention"))
elif cohorts.empty:
    ui.empty("No customers in the selection signed up in this period.")
else:
    ui.chart(churn_charts.cohort_heatmap(cohorts, basis), f"cohorts_{basis}", data=cohorts,
             help_anchor=g.COHORT_RETENTION)

# --- retention by group and the churn profile ----------------------------------------------
ui.section(f"Churn by {fmt.label(by).lower()}", g.CHURN_PROFILE,
           "Who leaves: logo churn over the period among customers active at its start.")
by_group = data.churn_by_dimension(flt, by) if not snapshot_note else None
if snapshot_note:
    ui.needs_data(catalog.needs("churn_dates", f"Churn over the period by {fmt.label(by).lower()}"))
elif by_group.empty:
    ui.empty("Nobody in the selection was active at the start of the period.")
else:
    left, right = st.columns([3, 2])
    with left:
        ui.chart(churn_charts.churn_by_group(by_group, by), f"churn_by_{by}", data=by_group,
                 help_anchor=g.LOGO_CHURN, width="wide")
    with right:
        shown = tables.labelled(
            tables.percent_values(by_group, ["churn_rate", "retention_rate", "share_of_churned"]),
            {"group": fmt.label(by), "churn_rate": "Churn", "retention_rate": "Retention",
             "active_start": "Active at start", "churned": "Churned", "share_of_churned": "Share of churned"},
            value_columns=("group",))
        # fits the narrow column at 1440 px; retention (100% − churn) and the share of all
        # churned are in the table's column menu
        ui.table(shown, f"churn_table_{by}", column_order=[fmt.label(by), "Churn", "Churned", "Active at start"],
                 column_config={
            "Active at start": tables.count_column("Active at start"),
            "Churned": tables.count_column("Churned"),
            "Churn": tables.percent_column("Churn", 1), "Retention": tables.percent_column("Retention", 1),
            "Share of churned": tables.percent_column("Share of churned", 1),
        })

ui.section("When and why customers leave", g.CHURN_PROFILE)
tenure = data.tenure_at_churn(flt)  # lifetimes: right on a snapshot too (module docstring)
if tenure.empty:
    ui.empty("Nobody in the selection left in this period.")
else:
    left, right = st.columns(2)
    with left:
        ui.chart(churn_charts.tenure_chart(tenure), "tenure_at_churn", data=tenure, help_anchor=g.CHURN_PROFILE,
                 width="half")
    with right:
        if snapshot_note:
            ui.needs_data(catalog.needs("churn_dates", "Churn reasons by month"))
        else:
            trend = data.churn_reasons_by_month(flt)
            ui.chart(churn_charts.reasons_trend(trend), "reasons_by_month", data=trend,
                     help_anchor=g.CHURN_PROFILE, width="half")
