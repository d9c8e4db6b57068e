"""Retention ROI & what-if (management): the programme measured against its control group
(analytics.programme, decision 022: churn of worked vs held-out customers, saves, cost
from the action store, ROI with its interval — over the whole store, not the sidebar's
selection), then the what-if on assumed inputs: what the retention programme returned in the
period, what cutting churn would be worth over 12 and 24 months, and what replacing the
period's lost customers costs against keeping them. The arithmetic is analytics.roi.

On a single snapshot (`analytics.catalog.data_present`'s ``churn_dates`` False) the what-if
(today's monthly churn comes from the period's churn rate) and replace-or-keep (the
period's leavers) need WHEN customers left and say so; the programme ROI counts requests,
offers and who is still active, and stays."""

from __future__ import annotations

import streamlit as st

from analytics.roi import DEFAULT_ACQUISITION_MULTIPLE, DEFAULT_COST_PER_ACTION, DEFAULT_COST_PER_OFFER
from analytics import periods
from charts import roi as roi_charts
from dashboard import data, glossary as g, sidebar, tables, ui, work_queue
from analytics import catalog, formatting as fmt

flt = sidebar.current_filter()
st.title("Retention ROI & what-if")
st.caption(f"Period {flt.start:%d %b %Y} – {flt.end:%d %b %Y}. The measured programme comes from the "
           "action store and the data; in the what-if the costs are your assumptions — change them below.")

churn = data.churn_summary(flt)
if churn.empty:
    ui.empty(ui.NO_MATCH)
    st.stop()

funnel = data.retention_funnel_overall(flt)
proactive = data.proactive_funnel(flt)
saved_value = data.saved_customer_value(flt)
mrr = data.mrr_by_month(flt)
cac = data.clv_cac_ratio(flt, "segment")
saved = data.saved_customers(flt)

# --- measured against the control group (decision 022) -------------------------------------
st.header("Measured against a control group", divider="gray")
ui.section("Measured programme", g.MEASURED_PROGRAMME,
           "Churn of the worked customers against the held-out control group over the follow-up window: the "
           "difference is what the programme prevented. Newcombe interval; cost from the logged actions and offers.")
present = data.data_present()
try:
    measured = data.measured_programme(saved_value.value) if present["churn_dates"] else None
except work_queue.STORE_ERRORS as err:
    measured = f"The measured programme cannot be shown: {err}"
if measured is None:
    ui.needs_data(catalog.needs("churn_dates", "The measured programme (who churned in the follow-up window)"))
elif isinstance(measured, str):
    ui.needs_data(measured)
elif not measured.measured:
    ui.needs_data(measured.needs)
else:
    m = measured
    level = f"{m.confidence:.0%}"
    cols = st.columns(5)
    ui.kpi(cols[0], "Worked churn", fmt.percent(m.worked_churn), anchor=g.MEASURED_PROGRAMME, n=m.worked,
           help_text=f"Churned within {m.follow_up_days} days of being listed: {fmt.count(m.worked_churned)} of "
           f"{fmt.count(m.worked)} worked customers (reached or not).")
    ui.kpi(cols[1], "Control churn", fmt.percent(m.held_out_churn), anchor=g.MEASURED_PROGRAMME, n=m.held_out,
           help_text=f"Churned within {m.follow_up_days} days of being listed: {fmt.count(m.held_out_churned)} of "
           f"{fmt.count(m.held_out)} held-out customers, never contacted.")
    ui.kpi(cols[2], "Churn prevented", fmt.points(m.uplift), anchor=g.MEASURED_PROGRAMME,
           help_text=f"Control churn − worked churn; {level} interval {fmt.points(m.uplift_low)} to "
           f"{fmt.points(m.uplift_high)} (Newcombe).")
    ui.kpi(cols[3], "Programme saves", fmt.count(round(m.saves)), anchor=g.MEASURED_PROGRAMME,
           help_text=f"Churn prevented × {fmt.count(m.worked)} worked customers; {level} interval "
           f"{fmt.count(round(m.saves_low))} to {fmt.count(round(m.saves_high))}.")
    roi_text = "—" if m.roi != m.roi else f"{m.roi * 100:,.0f}%"
    ui.kpi(cols[4], "Measured ROI", roi_text, anchor=g.MEASURED_PROGRAMME,
           help_text=(f"(saves × {fmt.money(m.value_per_saved)} − cost {fmt.money(m.cost)}) ÷ cost; {level} interval "
                      f"{m.roi_low * 100:,.0f}% to {m.roi_high * 100:,.0f}%." if m.roi == m.roi else
                      "No logged action or offer costs anything yet: ROI needs a cost."))
    intervals = (f"{level} intervals: churn prevented {fmt.points(m.uplift_low)} to {fmt.points(m.uplift_high)}, "
                 f"saves {fmt.count(round(m.saves_low))} to {fmt.count(round(m.saves_high))}"
                 + (f", ROI {m.roi_low * 100:,.0f}% to {m.roi_high * 100:,.0f}%. " if m.roi == m.roi else ". "))
    st.caption(
        intervals + f"{fmt.count(m.worked)} worked and {fmt.count(m.held_out)} held-out customers whose {m.follow_up_days}-day "
        f"follow-up ended by {m.as_of:%d %b %Y}" + (f" ({fmt.count(m.pending)} more still in it)" if m.pending else "")
        + f". Cost {fmt.money(m.cost)}: {fmt.count(m.actions)} logged actions × {fmt.money(m.cost_per_action)} + "
        f"{fmt.count(m.offers)} saves with an offer × {fmt.money(m.cost_per_offer)} (unit costs from "
        f"retention.toml [actions]); value per saved customer {fmt.money(m.value_per_saved)}, the future value of "
        f"the customers expected to leave. The whole programme, whatever the sidebar selects.")
    if m.held_out_contacted:
        st.warning(f"{fmt.count(m.held_out_contacted)} held-out customers were contacted anyway: the comparison "
                   "understates the programme's effect.", icon=":material/warning:")
    ui.chart(roi_charts.measured_churn_chart(m), "measured_churn", help_anchor=g.MEASURED_PROGRAMME,
             data=tables.record(m))

# --- what-if on assumed inputs -----------------------------------------------------------------
st.header("What-if (assumed inputs)", divider="gray")
symbol = fmt.currency_symbol()
with st.container(border=True):
    st.markdown("**Assumptions**")
    cols = st.columns(4)
    cost_per_action = cols[0].number_input(
        f"Cost of a retention action ({symbol})", min_value=0.0, value=DEFAULT_COST_PER_ACTION, step=5.0, format="%.0f", key="roi_action_cost",
        help="One retention call or proactive outreach: agent time and overhead.")
    cost_per_offer = cols[1].number_input(
        f"Cost of an accepted offer ({symbol})", min_value=0.0, value=DEFAULT_COST_PER_OFFER, step=10.0, format="%.0f", key="roi_offer_cost",
        help="Discount or benefit given when a customer accepts a retention offer.")
    multiple = cols[2].number_input(
        "Acquisition cost multiple", min_value=1.0, max_value=30.0, value=DEFAULT_ACQUISITION_MULTIPLE,
        step=0.5, format="%.1f", key="roi_multiple",
        help="How many times more acquiring a customer costs than keeping one (the brief: 5–7×, "
        "up to 20× in some sectors).")
    value_per_saved = cols[3].number_input(
        f"Value of a saved customer ({symbol})", min_value=0.0, value=saved_value.value, step=50.0, format="%.0f",
        key="roi_value_per_saved",
        help="The margin a saved customer is still expected to bring (future value, not the margin already "
        f"earned). Default: {saved_value.note} " + g.help_link(g.RETENTION_ROI))

# --- programme ROI -------------------------------------------------------------------------
ui.section("Programme ROI", g.RETENTION_ROI,
           "Saved customers × value per saved customer − (actions × action cost + accepted offers × offer cost).")
row = funnel.iloc[0] if not funnel.empty else None
attempted = int(row.attempted) if row is not None else 0
accepted = int(row.accepted) if row is not None else 0
contacted = int(proactive.loc[proactive["step"] == "contacted", "count"].iloc[0]) if not proactive.empty else 0
result = data.programme_roi(saved_customers=saved, value_per_saved=value_per_saved,
                            actions=attempted + contacted, cost_per_action=cost_per_action,
                            offers=accepted, cost_per_offer=cost_per_offer)
if not (present["requests"] and present["outcomes"]):
    ui.needs_data(catalog.needs("requests" if not present["requests"] else "outcomes", "Programme ROI")
                  + " Saved customers and the programme's cost are counted from them; the what-if and "
                  "replace-or-keep below need only churn and revenue.")
cols = st.columns(4)
ui.kpi(cols[0], "Saved customers", fmt.count(saved) if present["requests"] else "—", anchor=g.SAVED_CUSTOMERS,
       help_text="Asked to cancel in the period, accepted an offer, still active at its end.")
ui.kpi(cols[1], "Programme cost", fmt.money(result.programme_cost), anchor=g.RETENTION_ROI,
       help_text=f"{fmt.count(result.actions)} retention actions ({fmt.count(attempted)} calls answering "
       f"requests + {fmt.count(contacted)} proactive outreaches) and {fmt.count(accepted)} accepted offers.")
ui.kpi(cols[2], "Net benefit", fmt.money(result.net_benefit), anchor=g.RETENTION_ROI,
       help_text="Value kept − programme cost.")
ui.kpi(cols[3], "ROI", "—" if result.roi != result.roi else f"{result.roi * 100:,.0f}%", anchor=g.RETENTION_ROI,
       help_text="Net benefit ÷ programme cost.")
ui.chart(roi_charts.roi_waterfall(result), "roi_waterfall", help_anchor=g.RETENTION_ROI,
         data=tables.record(result))

# --- what-if -------------------------------------------------------------------------------
ui.section("What if churn fell?", g.RETENTION_ROI,
           "Revenue from today's customers over the next 12 and 24 months, at today's monthly churn "
           "and at a lower one; no new sales. Proactive retention adds about 5–8 points of retention "
           "a year in recurring businesses (the brief).")
period_days = periods.length_days(flt)
# today's churn is a rate over the customers active at the period start (0 ÷ 0 without them)
if not present["churn_dates"]:
    ui.needs_data(catalog.needs("churn_dates", "The what-if (today's monthly churn rate)"))
elif int(churn["active_start"].iloc[0]) == 0:
    ui.needs_data("The what-if needs customers active at the period start — none in this selection. "
                  "Start the period earlier, or widen the filters.")
elif not present["revenue"]:
    ui.needs_data(catalog.needs("revenue", "The what-if"))
elif mrr.empty:
    ui.empty("No recurring revenue or churn to project in the selection.")
else:
    monthly_churn = data.monthly_churn_rate(float(churn["churn_rate"].iloc[0]), period_days)
    top = max(0.05, round(monthly_churn * 100, 2))
    cut = st.slider("Cut monthly churn by (percentage points)", min_value=0.0, max_value=float(top),
                    value=float(min(0.25, top)), step=0.05, format="%.2f pp", key="roi_churn_cut",
                    help=f"Today's monthly logo churn, from the period's rate: {fmt.percent(monthly_churn, 2)}.")
    whatif = data.churn_reduction_whatif(float(mrr["mrr"].iloc[-1]), monthly_churn, cut / 100)
    cols = st.columns(4)
    ui.kpi(cols[0], "Monthly churn today", fmt.percent(monthly_churn, 2), anchor=g.LOGO_CHURN,
           help_text=f"The monthly rate that compounds to the period's {fmt.percent(churn['churn_rate'].iloc[0], 2)} "
           f"over its {period_days} days.")
    ui.kpi(cols[1], "Monthly churn after the cut", fmt.percent(whatif.improved_churn, 2), anchor=g.LOGO_CHURN)
    for col, horizon in zip(cols[2:], whatif.horizons):
        ui.kpi(col, f"Extra revenue, {horizon.months} months", fmt.money(horizon.extra_revenue),
               anchor=g.RETENTION_ROI,
               help_text=f"{fmt.money(horizon.improved_revenue)} instead of {fmt.money(horizon.baseline_revenue)} "
               f"from today's MRR of {fmt.money(whatif.monthly_revenue)}.")
    ui.chart(roi_charts.whatif_chart(whatif), "whatif", help_anchor=g.RETENTION_ROI,
             data=tables.records(whatif.horizons))

# --- replace or keep -----------------------------------------------------------------------
ui.section("Replace them or keep them?", g.CLV_CAC,
           "The period's leavers: what winning the same number of new customers costs, against one "
           "retention action and one offer each.")
if not present["churn_dates"]:  # the period's leavers are unknown: everyone "left" on the as-of date
    ui.needs_data(catalog.needs("churn_dates", "Replace or keep (the period's leavers)"))
    st.stop()
lost = int(churn["churned"].iloc[0])
observed_cac = tables.overall_rate(cac, "total_cac", "customers")
choice = data.replace_or_keep(lost_customers=lost, cost_per_action=cost_per_action, cost_per_offer=cost_per_offer,
                              observed_cac=observed_cac, multiple=multiple)
cols = st.columns(3)
ui.kpi(cols[0], "Customers lost", fmt.count(lost), anchor=g.LOGO_CHURN,
       help_text="Customers whose relationship ended in the period.")
ui.kpi(cols[1], "Average acquisition cost", fmt.money(choice.observed_cac), anchor=g.CLV_CAC,
       help_text=f"Recorded acquisition cost per customer — {fmt.multiple(choice.observed_cac / choice.keep_cost_per_customer)} "
       f"your cost to keep one ({fmt.money(choice.keep_cost_per_customer)})." if choice.keep_cost_per_customer else
       "Recorded acquisition cost per customer.")
ui.kpi(cols[2], "Saved by keeping them", fmt.money(choice.saving), anchor=g.RETENTION_ROI,
       help_text="Replacement at the recorded acquisition cost − cost of keeping.")
ui.chart(roi_charts.replace_or_keep_chart(choice), "replace_or_keep", help_anchor=g.RETENTION_ROI,
         data=tables.record(choice))
