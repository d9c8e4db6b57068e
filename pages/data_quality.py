"""Data quality (analysis): every check's failing records, rate and examples, priced with
the 1-10-100 rule — 1 to prevent an error at entry, 10 to correct it now, 100 once it has
caused a failure (a wrong plan at signup → a wrong first bill → angry calls → churn)."""

from __future__ import annotations

import streamlit as st

from charts import quality as quality_charts
from dashboard import data, glossary as g, sidebar, tables, ui
from analytics import formatting as fmt

flt = sidebar.current_filter()
st.title("Data quality")
st.caption("Every stored record of the selected customers (and, for contacts, the selected channels); "
           "the reporting period does not apply. Dates are judged against the file's as-of date.")

symbol = fmt.currency_symbol()
unit_cost = st.columns([1, 2])[0].number_input(
    f"Cost to prevent one error at entry ({symbol})", min_value=0.0, value=1.0, step=1.0, format="%.2f",
    key="dq_unit_cost",
    help="The '1' of the 1-10-100 rule; correcting costs 10×, a failure 100×. " + g.help_link(g.DATA_QUALITY))

report = data.data_quality_report(flt, unit_cost=unit_cost)
if report.empty or report["checked"].sum() == 0:
    ui.empty(ui.NO_MATCH)
    st.stop()

customers_checked = int(report.loc[report["table"] == "customers", "checked"].max())
cols = st.columns(4)
ui.kpi(cols[0], "Customer records checked", fmt.count(customers_checked), anchor=g.DATA_QUALITY,
       help_text="Customer rows examined; contact and revenue rows are checked too (see the table).")
ui.kpi(cols[1], "Failures found", fmt.count(report["failing"].sum()), anchor=g.DATA_QUALITY,
       help_text="Failing records summed over the checks (a record failing two checks counts twice).")
ui.kpi(cols[2], "Cost to fix now", fmt.money(report["correction_cost"].sum()), anchor=g.DATA_QUALITY,
       help_text=f"10 × {fmt.money(unit_cost, compact=False)} per failing record, corrected by a check like these.")
ui.kpi(cols[3], "Cost if they cause failures", fmt.money(report["failure_cost"].sum()), anchor=g.DATA_QUALITY,
       help_text=f"100 × {fmt.money(unit_cost, compact=False)} per failing record once it has caused a "
       f"failure downstream; preventing them at entry would have cost {fmt.money(report['prevention_cost'].sum())}.")

st.caption(data.duplicate_policy_text() + " " + g.help_link(g.DATA_QUALITY))

ui.section("Failing records by check", g.DATA_QUALITY)
if report["failing"].sum() == 0:
    st.success("Every check passes for this selection.")
else:
    ui.chart(quality_charts.data_quality_chart(report), "data_quality", help_anchor=g.DATA_QUALITY)

ui.section("Checks, examples and costs", g.DATA_QUALITY,
           "Example ids are the lowest failing record ids (customer_id, or touchpoint_id for contact checks).")
shown = report.assign(examples=report["examples"].map(lambda ids: ", ".join(str(i) for i in ids)))
shown = tables.labelled(
    tables.percent_values(shown, ["rate"]),
    {"check": "Check", "failing": "Failing", "checked": "Checked", "rate": "Rate", "examples": "Examples",
     "prevention_cost": "Prevent (×1)", "correction_cost": "Correct now (×10)",
     "failure_cost": "After a failure (×100)", "dimension": "Dimension", "table": "Table", "description": "Rule"},
    value_columns=("check", "dimension", "table"))
# Fits 1440 px with the sidebar open (~980 px, tests/e2e/test_tables_fit.py): the check pinned,
# the rule shortened in its cell (the whole text on a double-click), Dimension and Table in the
# column menu. Short money headers; their help says which cost.
COST_HELP = {"Prevent (×1)": "What preventing these errors at entry costs (1 unit each).",
             "Correct now (×10)": "What correcting them now, after this check, costs (10 units each).",
             "After a failure (×100)": "What they cost once they have caused a failure (100 units each)."}
ui.table(shown, "data_quality", height=tables.list_height(len(shown)), column_order=[
    "Check", "Rule", "Failing", "Checked", "Rate", "Examples", *COST_HELP], column_config={
    "Check": st.column_config.TextColumn("Check", width=170, pinned=True),
    "Rule": st.column_config.TextColumn("Rule", width=230, help="What the check tests. Double-click a cell to "
                                                               "read a long rule in full."),
    "Checked": tables.count_column("Checked", width=72), "Failing": tables.count_column("Failing", width=64),
    "Rate": tables.percent_column("Rate", 2, width=62),
    **{c: tables.money_column(label, help_text=COST_HELP[c], width=78)
       for c, label in zip(COST_HELP, ("Prevent ×1", "Correct ×10", "Failure ×100"))},
    "Examples": st.column_config.TextColumn("Examples", width=110,
                                            help="The lowest failing record ids."),
})
