"""At-risk customers (retention team): the call list ranked by expected loss, its own
criteria on top of the sidebar, a customer-360 panel for the selected customer, and the
list's export for a dialer or CRM (CSV and Excel). Definitions: docs/metrics.md#at-risk-list."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.at_risk import AtRiskCriteria, export_frame
from analytics.metrics.purchase_value import purchase_log_file
from analytics.metrics.value import VALUE_TIERS
from analytics.risk.drivers import DRIVER_GROUPS
from analytics.risk.note_signals import SIGNAL_PHRASES
from charts import risk as risk_charts
from dashboard import data, glossary as g, sidebar, ui
from dashboard import score_progress, work_queue
from analytics import formatting as fmt

SHOWN_ROWS = 500          # rows drawn in the table; the export carries the whole list
EXPORT_LIMIT = 100_000    # beyond this a call list is not a call list: narrow the criteria
DEFAULT_MIN_PROBABILITY = 10  # % — about three times the sample's average 90-day risk
NOT_CONTACTED_CHOICES = (None, 7, 14, 30, 60, 90)
CUSTOMER_KEY = "at_risk_customer"

DRIVER_LABELS: dict[str, str] = {
    "contract": "Contract type", "plan": "Plan", "segment": "Segment", "loyalty": "Loyalty club",
    "tenure": "Tenure", "mrr": "Monthly revenue", "mrr_change": "Price / MRR change",
    "unresolved_contacts": "Unresolved contacts", "service_requests": "Service requests",
    "complaints": "Complaints", "billing_issues": "Billing issues",
    "cancellation_requests": "Cancellation request", "contact_history": "Contact history",
    "retention_calls": "Retention calls", "saved_by_offer": "Retention offers",
    "proactive_outreach": "Proactive outreach", "purchases": "Purchases", "repeat_contacts": "Repeat contacts",
    "long_waits": "Long waits", "contact_recency": "Contact recency", "satisfaction": "CSAT / NPS",
    **{f"note_{s}": f"Agent note: {phrase}" for s, phrase in SIGNAL_PHRASES.items()},
}


def driver_label(group: str) -> str:
    return DRIVER_LABELS.get(group, fmt.label(group))


def _not_contacted_label(days: int | None) -> str:
    return "Any time" if days is None else f"{days}+ days ago or never"


flt = sidebar.current_filter()
st.title("At-risk customers")

# --- the page's own criteria ------------------------------------------------------------------
with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns([1.2, 1, 1.3, 1, 1])
    min_probability = c1.slider(
        "Churn risk at least", min_value=0, max_value=90, value=DEFAULT_MIN_PROBABILITY, step=5, format="%d%%",
        key="at_risk_min_probability",
        help="Probability of churning within 90 days, from the risk model. " + g.help_link(g.EXPECTED_LOSS))
    tiers = c2.multiselect(
        "Value tier", [name for name, _ in VALUE_TIERS], format_func=fmt.label, key="at_risk_tiers",
        placeholder="All tiers",
        help="Tiers by future value (the margin still to come) among the selection's scored customers: "
             "top 10% platinum, next 20% gold, next 30% silver, rest bronze. " + g.help_link(g.AT_RISK_LIST))
    drivers_ok = data.driver_filter_available()
    drivers = c3.multiselect(
        "Driver", [grp.name for grp in DRIVER_GROUPS], format_func=driver_label, key="at_risk_drivers",
        placeholder="Any driver" if drivers_ok else "Re-score to filter by driver", disabled=not drivers_ok,
        help="Keep customers with any of these among their top three risk drivers. " + g.help_link(g.AT_RISK_LIST))
    not_contacted = c4.selectbox(
        "Last contact", NOT_CONTACTED_CHOICES, format_func=_not_contacted_label, key="at_risk_not_contacted",
        help="Not contacted in N days: nobody spoke with the customer (service, complaint, billing, "
             "cancellation, retention call or outreach) in the N days up to the as-of date. "
             + g.help_link(g.AT_RISK_LIST))
    owners = c5.multiselect(
        "Owner", data.dimension_values().get("account_owners", []),
        key="at_risk_owners", placeholder="All owners", help="The customer's account owner.")

criteria = AtRiskCriteria(min_probability=min_probability / 100, value_tiers=tuple(tiers),
                          driver_groups=tuple(drivers) if drivers_ok else (),
                          not_contacted_days=not_contacted, owners=tuple(owners))
# the page draws the first SHOWN_ROWS; the counts come with them (window totals), and the
# whole list is fetched only when an export is downloaded (at 1M customers fetching 100k
# wide rows up front cost ~1.5 s of every render)
call_list = data.at_risk_customers(flt, criteria, limit=SHOWN_ROWS)

if not call_list.available and purchase_log_file(data.data_present()):
    # a purchase log without churn scores: rank buyers by (1 − P(alive)) × value if alive (BG/NBD)
    buyers = data.purchase_at_risk(flt, limit=SHOWN_ROWS)
    if not buyers.available:
        ui.needs_data(f"The at-risk list of a purchase log needs a purchase model: {buyers.message}")
        st.stop()
    if buyers.population == 0:
        ui.empty(ui.NO_MATCH)
        st.stop()
    st.info("No churn scores: this purchase log is ranked by the purchase model instead, and the criteria above "
            "do not apply.", icon=":material/shopping_cart:")
    st.caption(buyers.note + " " + g.help_link(g.PURCHASE_LOG_VALUE))
    cols = st.columns(3)
    ui.kpi(cols[0], "Buyers at risk", fmt.count(buyers.at_risk),
           help_text=f"Buyers with an expected loss above 0, of {fmt.count(buyers.population)} who ever bought.",
           anchor=g.PURCHASE_LOG_VALUE)
    ui.kpi(cols[1], "Their expected loss", fmt.money(buyers.total_expected_loss),
           help_text="Σ (1 − P(alive)) × value if alive over the selection's buyers.", anchor=g.PURCHASE_LOG_VALUE)
    ui.kpi(cols[2], "Buyers in the selection", fmt.count(buyers.population), anchor=g.PURCHASE_LOG_VALUE)
    listed = buyers.customers
    ui.section(f"The {fmt.count(len(listed))} buyers with the largest expected loss", g.PURCHASE_LOG_VALUE)
    money = f"{fmt.currency_symbol()}%,.0f"
    ui.table(pd.DataFrame({
        "Rank": listed["risk_rank"], "Customer": listed["full_name"], "ID": listed["customer_id"],
        "P(alive)": listed["p_alive"] * 100, "Expected loss": listed["expected_loss"],
        "Value if alive": listed["value_if_alive"], "Predicted CLV": listed["predicted_clv"],
        "Purchases": listed["purchases"], "Last purchase": listed["last_purchase"].dt.date,
        "Days since": listed["days_since_purchase"], "Segment": listed["segment"].map(fmt.label),
    }), "purchase_at_risk", height=420 if len(listed) > 10 else "auto", column_config={
        "Rank": st.column_config.NumberColumn("Rank", format="%d", help="1 = the largest expected loss"),
        "ID": st.column_config.NumberColumn("ID", format="%d"),
        "P(alive)": st.column_config.ProgressColumn("P(alive)", format="%.0f%%", min_value=0, max_value=100,
                                                    help="Probability the customer is still buying (BG/NBD)"),
        "Expected loss": st.column_config.NumberColumn("Expected loss", format=money),
        "Value if alive": st.column_config.NumberColumn(
            "Value if alive", format=money, help="Predicted CLV ÷ P(alive): the margin of the horizon if the "
            "customer is still buying — the value at stake."),
        "Predicted CLV": st.column_config.NumberColumn("Predicted CLV", format=money),
        "Last purchase": st.column_config.DateColumn("Last purchase", format="DD MMM YYYY"),
    })
    if buyers.population > len(listed):
        st.caption(f"Showing the first {fmt.count(len(listed))} of {fmt.count(buyers.population)} buyers.")
    st.stop()
if not call_list.available:
    if not score_progress.show("The at-risk list"):  # scores being computed in the background
        st.info(call_list.message + " Stop the dashboard, run `make scores` (or `python -m analytics.score`), "
                "then start it again.", icon=":material/hourglass_empty:")
    st.stop()
if call_list.population == 0:
    ui.empty(ui.NO_MATCH)
    st.stop()

st.caption(f"Ranked by expected loss = 90-day churn probability × future value (the margin still to "
           f"come, not the margin already earned). Scores of "
           f"{call_list.scored_on:%d %b %Y} for the {fmt.count(call_list.population)} active customers of the "
           "selection; the sidebar's channel filter does not apply here. " + g.help_link(g.AT_RISK_LIST))

cols = st.columns(4)
ui.kpi(cols[0], "Customers on the list", fmt.count(call_list.matching),
       help_text=f"Active scored customers meeting the criteria, of {fmt.count(call_list.population)} in the "
       "selection.", anchor=g.AT_RISK_LIST)
ui.kpi(cols[1], "Their expected loss", fmt.money(call_list.matching_expected_loss),
       help_text="Σ churn probability × future value over the customers on the list.", anchor=g.EXPECTED_LOSS)
ui.kpi(cols[2], "Share of margin at risk", fmt.percent(call_list.share_of_margin_at_risk, 0),
       help_text=f"The list's expected loss ÷ the selection's margin at risk "
       f"({fmt.money(call_list.population_expected_loss)}).", anchor=g.MARGIN_AT_RISK)
listed = call_list.customers
ui.kpi(cols[3], "Never contacted", fmt.count(call_list.never_contacted),
       help_text="Customers on the list with no conversation on record up to the as-of date.",
       anchor=g.AT_RISK_LIST)

if call_list.matching == 0:
    ui.empty("No customer meets these criteria. Lower the churn-risk threshold or clear the tier, driver, "
             "contact or owner criteria.")
    st.stop()

# --- the list ---------------------------------------------------------------------------------
ui.section(f"The {fmt.count(min(call_list.matching, SHOWN_ROWS))} customers with the largest expected loss",
           g.AT_RISK_LIST, "Select a row to open the customer's 360 view below.")
shown = listed.head(SHOWN_ROWS)
table = pd.DataFrame({
    "Rank": shown["risk_rank"],
    "Customer": shown["full_name"],
    "ID": shown["customer_id"],
    "Churn risk": shown["churn_probability"] * 100,
    "Expected loss": shown["expected_loss"],
    "Future value": shown["clv_future"],
    "Predicted CLV": shown["clv_predicted"],
    "Tier": shown["value_tier"].map(fmt.label),
    "Top drivers": [" · ".join(d for d in row if isinstance(d, str)) for row in
                    shown[["driver_1", "driver_2", "driver_3"]].itertuples(index=False, name=None)],
    "Last contact": shown["last_contact_at"].dt.date,
    "Days since": shown["days_since_contact"],
    "Segment": shown["segment"].map(fmt.label),
    "Plan": shown["plan"].map(fmt.label),
    "Owner": shown["account_owner"],
})
table = work_queue.with_case_columns(table, shown["customer_id"])  # the cases' status and owner, read per run
money = f"{fmt.currency_symbol()}%,.0f"
event = st.dataframe(
    table, hide_index=True, key="table_at_risk", on_select="rerun", selection_mode="single-row",
    height=420 if len(table) > 10 else "auto",
    column_config={
        "Rank": st.column_config.NumberColumn("Rank", format="%d", width="small",
                                              help="1 = the largest expected loss in the selection"),
        "ID": st.column_config.NumberColumn("ID", format="%d", width="small"),
        "Churn risk": st.column_config.ProgressColumn("Churn risk", format="%.0f%%", min_value=0, max_value=100,
                                                      help="Probability of churning within 90 days"),
        "Expected loss": st.column_config.NumberColumn("Expected loss", format=money),
        "Future value": st.column_config.NumberColumn(
            "Future value", format=money, help="Expected discounted margin of the next 24 months: the value "
            "the expected loss weighs."),
        "Predicted CLV": st.column_config.NumberColumn("Predicted CLV", format=money),
        "Top drivers": st.column_config.TextColumn("Top drivers", width="large"),
        "Last contact": st.column_config.DateColumn("Last contact", format="DD MMM YYYY"),
        "Days since": st.column_config.NumberColumn("Days since", format="%d", help="Days since the last contact"),
    },
)
if call_list.truncated:
    st.caption(f"Showing the first {fmt.count(len(shown))} of {fmt.count(call_list.matching)}; the export "
               "holds them all.")
work_queue.bulk_assign(shown)

def export() -> pd.DataFrame:
    """The whole list (up to EXPORT_LIMIT) in the export layout, fetched when a download is
    clicked (the callable runs outside the page's script run: no widgets in here)."""
    return export_frame(data.at_risk_customers(flt, criteria, limit=EXPORT_LIMIT))


stamp = f"{call_list.scored_on:%Y%m%d}"
exported = min(call_list.matching, EXPORT_LIMIT)
left, mid, _ = st.columns([1, 1, 4])
left.download_button("Export CSV", lambda: ui.csv_bytes(export()), file_name=f"at-risk-{stamp}.csv",
                     mime="text/csv", icon=":material/download:", key="at_risk_csv", on_click="ignore",
                     help=f"All {fmt.count(exported)} customers on the list, with the columns a dialer or CRM "
                          "import needs (phone in E.164). " + g.help_link(g.AT_RISK_LIST))
mid.download_button("Export Excel", lambda: ui.excel_bytes(export(), sheet="At risk"),
                    file_name=f"at-risk-{stamp}.xlsx", key="at_risk_xlsx", on_click="ignore",
                    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    icon=":material/table_view:", help="The same list as an Excel workbook.")
if call_list.matching > EXPORT_LIMIT:
    st.warning(f"The export stops at {fmt.count(EXPORT_LIMIT)} customers; narrow the criteria to export the rest.")

# --- customer 360 -----------------------------------------------------------------------------
# The table's selected row picks the customer; the selectbox below follows it and also lets
# the user pick from the list by name (and keeps the choice when the table is re-sorted).
selected_rows = event.selection.rows if event is not None else []
options = shown["customer_id"].astype(int).tolist()
offered = work_queue.my_list_and_search(flt.as_of, CUSTOMER_KEY)  # more customers the 360 can open
options += [int(cid) for cid in offered["customer_id"] if int(cid) not in options]
if selected_rows:
    picked = int(shown["customer_id"].iloc[selected_rows[0]])
    if st.session_state.get("at_risk_last_row") != picked:
        st.session_state["at_risk_last_row"] = picked
        st.session_state[CUSTOMER_KEY] = picked
if st.session_state.get(CUSTOMER_KEY) not in options:
    st.session_state.pop(CUSTOMER_KEY, None)
names = dict(zip(options, shown["full_name"].fillna("(no name)")))
losses = dict(zip(options, shown["expected_loss"]))
for cid, name, loss in offered[["customer_id", "full_name", "expected_loss"]].itertuples(index=False, name=None):
    names.setdefault(int(cid), name if isinstance(name, str) else "(no name)")
    losses.setdefault(int(cid), loss)

ui.section("Customer 360", g.AT_RISK_LIST, "Profile, value, score history and every touchpoint with its note.")
customer_id = st.selectbox(
    "Customer", options, index=None, key=CUSTOMER_KEY, placeholder="Select a row above, or pick a customer",
    format_func=lambda cid: f"{names[cid]} · #{cid} · expected loss {fmt.money(losses[cid])}")
if customer_id is None:
    st.caption("Select a customer to see the profile, value, score history and timeline.")
    st.stop()

profile = data.customer_profile(customer_id, flt.as_of)
if profile is None:
    ui.empty(f"Customer #{customer_id} is not in the database.")
    st.stop()
f = profile.fields
score = profile.score or {}
with st.container(border=True):
    # names, phones, e-mails and categories are the data's text: escaped, never Markdown
    st.markdown(f"### {fmt.md_escape(f['full_name'] or '(no name)')} · #{customer_id}")
    st.caption(" · ".join(fmt.md_escape(x) for x in (
        fmt.label(f["segment"]), fmt.label(f["region"]), f"{fmt.label(f['plan'])} plan",
        fmt.label(f["contract_type"]), f"owner {f['account_owner'] or '—'}",
        f"☎ {f['phone'] or '—'}", f"✉ {f['email'] or '—'}") if x))
    k = st.columns(3)
    ui.kpi(k[0], "Churn risk, 90 days", fmt.percent(score.get("churn_probability")),
           help_text="Probability of churning within 90 days at the latest scoring.", anchor=g.EXPECTED_LOSS)
    ui.kpi(k[1], "Expected loss", fmt.money(score.get("expected_loss")),
           help_text=f"Churn probability × future value ({fmt.money(score.get('clv_future'))}, the margin "
           "still to come).", anchor=g.EXPECTED_LOSS)
    ui.kpi(k[2], "Predicted CLV", fmt.money(score.get("clv_predicted")),
           help_text="Margin to date plus the discounted margin still expected.", anchor=g.PREDICTIVE_CLV)
    k = st.columns(3)
    ui.kpi(k[0], "Historical CLV", fmt.money(profile.clv_historical),
           help_text=" ".join(t for t in ("Margin earned to the as-of date.", profile.clv_note()) if t),
           anchor=g.HISTORICAL_CLV)
    ui.kpi(k[1], "MRR", fmt.money(f["monthly_revenue"], compact=False),
           help_text="Current monthly recurring revenue.", anchor=g.MRR)
    ui.kpi(k[2], "Customer for", fmt.months(profile.tenure_months, 0),
           help_text=f"Since {pd.Timestamp(f['signup_date']):%d %b %Y}; status at the as-of date: "
           f"{profile.status}.")
    reasons = [score.get(f"driver_{i}") for i in (1, 2, 3)]
    reasons = [r for r in reasons if isinstance(r, str) and r]
    if reasons:
        st.markdown("**Why the model flags this customer:** " + "; ".join(fmt.md_escape(r) for r in reasons) + ".")

    left, right = st.columns(2)
    history = data.score_history(customer_id, flt.as_of)
    with left:
        if history.empty:
            st.caption("No score history for this customer.")
        else:
            ui.chart(risk_charts.score_history_chart(history), f"score_history_{customer_id}", width="half",
                     caption="Earlier month-ends are backfilled with the current model.",
                     help_anchor=g.EXPECTED_LOSS)
    with right:
        revenue = data.customer_revenue_history(customer_id, flt.as_of)
        if revenue.empty:
            st.caption("No revenue recorded for this customer.")
        else:
            ui.chart(risk_charts.customer_mrr_chart(revenue), f"customer_mrr_{customer_id}", width="half",
                     help_anchor=g.MRR)

    work_queue.case_panel(customer_id)  # the retention team's case: log an action, see the actions

    timeline = data.customer_timeline(customer_id, flt.as_of)
    st.markdown(f"**Timeline** — {fmt.count(len(timeline))} touchpoints, newest first")
    if timeline.empty:
        st.caption("No touchpoints recorded for this customer.")
    else:
        shown_timeline = pd.DataFrame({
            "When": timeline["occurred_at"],
            "What": timeline["kind"].map(fmt.label),
            "Channel": timeline["channel"].map(fmt.label),
            "Note": timeline["note"].fillna(""),
            "Churn signals": timeline["signals"].map(lambda s: s if isinstance(s, str) else "")
                                                .str.replace("_", " "),
            "Outcome": timeline["outcome"].map(fmt.label),
            "Resolved": timeline["resolved"],
            "Subject": timeline["subject"].map(fmt.label),
            "Direction": timeline["direction"].map(fmt.label),
            "Agent": timeline["agent"].fillna(""),
        })
        ui.table(shown_timeline, f"timeline_{customer_id}", height=360, column_config={
            "When": st.column_config.DatetimeColumn("When", format="DD MMM YYYY, HH:mm"),
            "Note": st.column_config.TextColumn("Note", width="large"),
            "Churn signals": st.column_config.TextColumn(
                "Churn signals", help="Signals the note's wording fires (Hebrew and English lexicon)."),
        })
