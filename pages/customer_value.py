"""Customer value (analysis): historical CLV by segment, predicted CLV from the churn
scores, how concentrated value is (Pareto), value tiers, and CLV against acquisition cost.

Nothing here depends on WHEN customers left, so a single snapshot (`analytics.catalog.
data_present`'s ``churn_dates`` False) changes nothing: historical CLV is margin to date from
dated revenue rows (a churner's rows stop when it stopped paying, whatever its churn date
says), predicted CLV comes from the churn scores (cross-sectional on a snapshot)."""

from __future__ import annotations

import streamlit as st

import pandas as pd

from charts import purchase as purchase_charts, value as value_charts
from dashboard import data, glossary as g, sidebar, tables, ui
from analytics import catalog, formatting as fmt
from analytics.metrics.purchase_value import (ALIVE_THRESHOLD, RECENT_DAYS, purchase_log_file,
                                              purchase_summary)

CAC_DIMENSIONS = ("segment", "acquisition_channel", "plan", "region", "contract_type")
BOX_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
TOP_BUYERS = 20

flt = sidebar.current_filter()
st.title("Customer value")
st.caption(f"Historical CLV = margin earned to date, at {flt.as_of:%d %b %Y}, over every customer who "
           "signed up by then (the period's start does not apply: value is cumulative).")

present = data.data_present()
if not (present["revenue"] or present["purchases"]):
    # without any revenue every CLV would be 0: say what is missing instead of showing ₪0
    ui.needs_data(catalog.needs("revenue", "Customer value"))
    st.stop()
purchase_log = purchase_log_file(present)  # purchases, no subscriptions: BG/NBD instead of churn scores
curve = data.clv_pareto_curve(flt)
if curve.empty:
    ui.empty(ui.NO_MATCH)
    st.stop()
truncation = data.history_truncation(flt).sentence()
if truncation:
    st.caption(truncation + " " + g.help_link(g.HISTORICAL_CLV))

top_share = st.slider("Top share of customers", min_value=5, max_value=50, value=20, step=5, format="%d%%",
                      key="value_top_share",
                      help="How much of total value the most valuable customers hold. " + g.help_link(g.HISTORICAL_CLV)) / 100
pareto = data.clv_pareto(flt, top_share)
quantiles = data.clv_quantiles(flt, BOX_QUANTILES)
overall_cac = data.clv_cac_ratio(flt, "segment")

cols = st.columns(4)
ui.kpi(cols[0], "Average historical CLV", fmt.money(pareto.total_clv / pareto.customers),
       help_text=f"Total margin earned to date ÷ the {fmt.count(pareto.customers)} customers. {truncation}",
       anchor=g.HISTORICAL_CLV)
ui.kpi(cols[1], "Median historical CLV", fmt.money(quantiles.loc[quantiles["quantile"] == 0.5, "clv"].iloc[0]),
       help_text="Half the customers have earned more than this, half less.", anchor=g.HISTORICAL_CLV)
ui.kpi(cols[2], f"Value held by the top {top_share:.0%}", fmt.percent(pareto.top_value_share, 0),
       help_text=f"Historical CLV of the {fmt.count(pareto.top_customers)} most valuable customers ÷ "
       f"total ({fmt.money(pareto.top_clv)} of {fmt.money(pareto.total_clv)}).", anchor=g.VALUE_TIERS)
total_clv, total_cac = overall_cac["total_clv"].sum(), overall_cac["total_cac"].sum()
ui.kpi(cols[3], "CLV : acquisition cost", fmt.multiple(total_clv / total_cac) if total_cac else "—",
       help_text="Total historical CLV ÷ total acquisition cost of the same customers.", anchor=g.CLV_CAC)

# --- distribution --------------------------------------------------------------------------
ui.section("CLV by segment", g.HISTORICAL_CLV, "Distribution of historical CLV per customer in each segment.")
segments = list(flt.segments) or data.dimension_values()["segments"]
by_segment = data.clv_quantiles_by(flt, "segment", segments, BOX_QUANTILES)
ui.chart(value_charts.clv_boxes(by_segment, "segment"), "clv_by_segment",
         data=tables.quantiles_by_group(by_segment, "segment"), help_anchor=g.HISTORICAL_CLV)
predicted = data.predicted_clv_quantiles_by(flt, "segment", segments, BOX_QUANTILES)
predicted = {s: q for s, q in predicted.items() if not q.empty}
if predicted:
    ui.section("Predicted CLV by segment", g.PREDICTIVE_CLV,
               "Active customers of the latest churn scoring: margin earned to date beside predicted CLV "
               "(to date plus the future value — the expected, discounted margin of the next 24 months at "
               "their churn risk).")
    scored = next(iter(predicted.values()))
    ui.chart(value_charts.predicted_clv_boxes(predicted, "segment"), "predicted_clv_by_segment",
             data=tables.quantiles_by_group_wide(predicted, "segment"), help_anchor=g.PREDICTIVE_CLV,
             caption=f"Churn scores as of {scored['scored_as_of'].iloc[0]:%d %b %Y}, "
                     f"{fmt.count(sum(int(q['customers'].iloc[0]) for q in predicted.values()))} active customers "
                     "(the box above also counts customers who have left).")
elif not purchase_log:
    st.caption("Predicted CLV (expected future margin) appears here once churn scores exist for this date: "
               "run `python -m analytics.score` (or `make scores`) with the dashboard stopped. "
               + g.help_link(g.PREDICTIVE_CLV))

# --- purchase log: predicted value without subscriptions (BG/NBD + Gamma-Gamma) -------------
if purchase_log:
    ui.section("Predicted value from the purchase log", g.PURCHASE_LOG_VALUE,
               "Customers buy without subscriptions: BG/NBD predicts whether each is still buying (P(alive)) "
               "and how often, Gamma-Gamma how much they spend per purchase.")
    value = data.purchase_value(flt)
    if not value.available:
        ui.needs_data(value.message)
    elif value.customers.empty:
        ui.empty(ui.NO_MATCH)
    else:
        buyers = value.customers
        summary = purchase_summary(value)
        cols = st.columns(4)
        ui.kpi(cols[0], "Active buyers", fmt.count(summary.active),
               help_text=f"Bought within {RECENT_DAYS} days, or bought more than once with P(alive) ≥ "
               f"{ALIVE_THRESHOLD:.0%}; of {fmt.count(summary.buyers)} customers who ever bought.",
               anchor=g.PURCHASE_LOG_VALUE)
        ui.kpi(cols[1], "Average predicted CLV", fmt.money(summary.average_predicted_clv),
               help_text=f"Expected margin of the next {value.horizon_months} months per customer who ever bought "
               "(expected purchases × expected spend × margin rate, discounted 10% a year).",
               anchor=g.PURCHASE_LOG_VALUE)
        ui.kpi(cols[2], "Total predicted CLV", fmt.money(summary.total_predicted_clv),
               help_text="Σ predicted CLV over the selection's buyers.", anchor=g.PURCHASE_LOG_VALUE)
        ui.kpi(cols[3], "Average P(alive)", fmt.percent(summary.average_p_alive, 0),
               help_text="Mean probability that a buyer is still buying (1 for one-time buyers under BG/NBD).",
               anchor=g.PURCHASE_LOG_VALUE)
        left, right = st.columns(2)
        with left:
            ui.chart(purchase_charts.predicted_clv_chart(buyers), "purchase_predicted_clv", width="half",
                     help_anchor=g.PURCHASE_LOG_VALUE)
        with right:
            ui.chart(purchase_charts.p_alive_chart(buyers), "purchase_p_alive", width="half",
                     help_anchor=g.PURCHASE_LOG_VALUE)
        top = buyers.head(TOP_BUYERS)
        ui.table(pd.DataFrame({
            "Customer": top["full_name"], "ID": top["customer_id"], "Segment": top["segment"].map(fmt.label),
            "Purchases": top["purchases"], "Last purchase": top["last_purchase"].dt.date,
            "P(alive)": top["p_alive"] * 100, "Expected purchases": top["expected_purchases"],
            "Expected spend": top["expected_spend"], "Predicted CLV": top["predicted_clv"],
        }), "purchase_top_buyers", height=tables.list_height(len(top)), column_config={
            "Customer": st.column_config.TextColumn("Customer", width=150, pinned=True),
            "ID": st.column_config.NumberColumn("ID", format="%d", width=64),
            "Segment": st.column_config.TextColumn("Segment", width=100),
            "Purchases": st.column_config.NumberColumn("Purchases", width=84),
            "Last purchase": st.column_config.DateColumn("Last purchase", width=108),
            "P(alive)": st.column_config.ProgressColumn("P(alive)", format="%.0f%%", min_value=0, max_value=100,
                                                        width=100),
            "Expected purchases": st.column_config.NumberColumn("Expected purchases", format="%.1f",
                                                                help=f"Next {value.horizon_months} months"),
            "Expected spend": tables.money_column("Expected spend"),
            "Predicted CLV": tables.money_column("Predicted CLV"),
            "Last purchase": st.column_config.DateColumn("Last purchase", format="DD MMM YYYY"),
        })
        k = value.params
        st.caption(f"The {fmt.count(len(top))} buyers with the highest predicted CLV. {value.message} "
                   f"BG/NBD r = {k['r']:.3f}, α = {k['alpha']:.2f} weeks, a = {k['a']:.3f}, b = {k['b']:.3f}; "
                   f"Gamma-Gamma p = {k['p']:.2f}, q = {k['q']:.2f}, γ = {k['v']:.2f}. "
                   + g.help_link(g.PURCHASE_LOG_VALUE))

# --- concentration -------------------------------------------------------------------------
ui.section("How concentrated value is", g.VALUE_TIERS)
left, right = st.columns(2)
with left:
    ui.chart(value_charts.pareto_curve(curve, pareto.top_share, pareto.top_value_share), "pareto",
             help_anchor=g.HISTORICAL_CLV, width="half")
with right:
    tiers = data.value_tiers(flt)
    ui.chart(value_charts.value_tiers_chart(tiers), "value_tiers", data=tiers, help_anchor=g.VALUE_TIERS,
             width="half")
shown = tables.labelled(
    tables.percent_values(tiers, ["share_of_customers", "share_of_value"]),
    {"value_tier": "Tier", "customers": "Customers", "share_of_customers": "Share of customers",
     "total_clv": "Total CLV", "share_of_value": "Share of value", "min_clv": "Lowest CLV",
     "max_clv": "Highest CLV", "mean_clv": "Average CLV"},
    value_columns=("value_tier",))
ui.table(shown, "tiers", column_config={
    "Customers": tables.count_column("Customers"),
    "Share of customers": tables.percent_column("Share of customers", 0),
    "Share of value": tables.percent_column("Share of value", 0),
    **{c: tables.money_column(c) for c in ("Total CLV", "Lowest CLV", "Highest CLV", "Average CLV")},
})

# --- CLV : CAC -----------------------------------------------------------------------------
ui.section("CLV against acquisition cost", g.CLV_CAC,
           "Historical CLV is still growing for young customers, so their ratio understates the eventual return.")
by = st.selectbox("Compare by", CAC_DIMENSIONS, format_func=fmt.label, key="value_cac_by")
cac = data.clv_cac_ratio(flt, by)
left, right = st.columns([3, 2])
with left:
    ui.chart(value_charts.clv_cac_chart(cac, by), f"clv_cac_{by}", data=cac, help_anchor=g.CLV_CAC, width="wide")
with right:
    shown = tables.labelled(
        cac, {"group": fmt.label(by), "customers": "Customers", "mean_clv": "Average CLV",
              "mean_cac": "Average CAC", "clv_cac_ratio": "CLV ÷ CAC"},
        value_columns=("group",))
    # five columns in the 2/5 column (~380 px at 1440): short headers, widths that add up
    ui.table(shown, f"cac_table_{by}", column_config={
        fmt.label(by): st.column_config.TextColumn(fmt.label(by), width=96, pinned=True),
        "Customers": tables.count_column("Customers", width=72),
        "Average CLV": tables.money_column("Avg CLV", "Average historical CLV", width=68),
        "Average CAC": tables.money_column("Avg CAC", "Average acquisition cost", width=68),
        "CLV ÷ CAC": st.column_config.NumberColumn("CLV ÷ CAC", format="%.1f×", width=66),
    })
