"""At-risk customers (retention team): the call list ranked by expected loss, its own
criteria on top of the sidebar, a customer-360 panel for the selected customer, and the
list's export for a dialer or CRM (CSV and Excel). Definitions: docs/metrics.md#at-risk-list."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from analytics.at_risk import AtRiskCriteria, export_frame, readable_export_frame
from analytics.metrics.purchase_value import purchase_log_file
from analytics.metrics.value import VALUE_TIERS
from analytics.risk.drivers import DRIVER_GROUPS
from analytics.risk.note_signals import SIGNAL_PHRASES
from charts import risk as risk_charts
from dashboard import auth, data, glossary as g, sidebar, tables, ui
from dashboard import score_progress, work_queue
from analytics import access, formatting as fmt

SHOWN_ROWS = 500          # rows drawn in the table; the export carries the whole list
EXPORT_LIMIT = 100_000    # beyond this a call list is not a call list: narrow the criteria
DEFAULT_MIN_PROBABILITY = 10  # % — about three times the sample's average 90-day risk
NOT_CONTACTED_CHOICES = (None, 7, 14, 30, 60, 90)
CUSTOMER_KEY = "at_risk_customer"
AGENT_PARAM = "agent"  # ?agent=<id>: that agent's list (a team lead's link; an agent gets only their own)

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


# the list's columns on screen, in order (the frame holds more: see the table below)
LIST_COLUMNS = ["Rank", "Customer", "Status", "Case owner", "Follow-up", "Churn risk", "Expected loss", "Tier",
                "Top drivers", "Days since"]


# a driver group's name in the list's narrow column (the criteria and the 360 say it in full)
SHORT_DRIVER_LABELS: dict[str, str] = {
    "contract": "Contract", "loyalty": "Loyalty", "mrr": "MRR", "mrr_change": "Price change",
    "unresolved_contacts": "Unresolved", "service_requests": "Service requests", "billing_issues": "Billing",
    "cancellation_requests": "Cancel request", "contact_history": "Contacts", "saved_by_offer": "Offers",
    "proactive_outreach": "Outreach", "satisfaction": "CSAT / NPS",
    **{f"note_{s}": f"Note: {fmt.label(s).lower()}" for s in SIGNAL_PHRASES},
}


def short_drivers(customers: pd.DataFrame) -> list[str]:
    """Each customer's top three drivers by their short group names ("Cancel request ·
    Contract · Tenure"); a driver without a group (scores written before groups were
    stored) keeps its sentence."""
    out = []
    for row in customers[["driver_group_1", "driver_group_2", "driver_group_3",
                          "driver_1", "driver_2", "driver_3"]].itertuples(index=False, name=None):
        names = [SHORT_DRIVER_LABELS.get(grp) or driver_label(grp) if isinstance(grp, str) and grp else text
                 for grp, text in zip(row[:3], row[3:]) if isinstance(grp, str) and grp or isinstance(text, str)]
        out.append(" · ".join(names))
    return out


def full_reasons(customers: pd.DataFrame) -> list[str]:
    """Each customer's top three drivers as the model's sentences, joined by "; "."""
    return ["; ".join(d for d in row if isinstance(d, str) and d)
            for row in customers[["driver_1", "driver_2", "driver_3"]].itertuples(index=False, name=None)]


def selected_card(row: pd.Series) -> None:
    """The selected customer in brief, just under the list: who, how to reach them, the
    numbers that put them on the list and the model's reasons in full."""
    with st.container(border=True, key="at_risk_selected"):
        # names, phones and e-mails are the data's text: escaped, never Markdown
        text = {k: fmt.md_escape(row[k]) if isinstance(row[k], str) and row[k] else "—"
                for k in ("full_name", "phone", "email")}
        owner = row["account_owner"]
        owner = fmt.md_escape(names_of.get(owner, owner)) if isinstance(owner, str) and owner else "—"
        if personal:
            st.markdown(f"**{text['full_name']}** · #{int(row['customer_id'])} · ☎ {text['phone']} · "
                        f"✉ {text['email']} · owner {owner}")
        else:  # a manager sees no names, phones or e-mails (decision 023)
            st.markdown(f"**Customer #{int(row['customer_id'])}** · owner {owner}")
        contact = ("never contacted" if pd.isna(row["last_contact_at"])
                   else f"last contact {row['last_contact_at']:%d %b %Y} ({int(row['days_since_contact'])} days ago)")
        st.caption(f"Rank {int(row['risk_rank'])} · churn risk {fmt.percent(row['churn_probability'], 0)} · "
                   f"expected loss {fmt.money(row['expected_loss'])} of future value {fmt.money(row['clv_future'])} · "
                   f"{fmt.md_escape(fmt.label(row['value_tier']))} tier · {contact}")
        reasons = full_reasons(row.to_frame().T)[0]
        if reasons:
            st.markdown("**Why:** " + fmt.md_escape(reasons) + ".")
        st.caption("The full 360 (scores, revenue, case and timeline) is below.")


def _not_contacted_label(days: int | None) -> str:
    return "Any time" if days is None else f"{days}+ days ago or never"


flt = sidebar.current_filter()
who = auth.viewer()
personal = access.may(who.role, access.SEE_PERSONAL_DATA)  # names, phones, e-mails, notes (decision 023)
list_owner, refused = access.list_owner(who.role, who.owner, st.query_params.get(AGENT_PARAM))
names_of = data.owner_names()
st.title("At-risk customers")
if refused:
    st.warning(refused, icon=":material/lock:")

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
    if list_owner is None:
        owners = c5.multiselect(
            "Owner", data.dimension_values().get("account_owners", []), format_func=lambda o: names_of.get(o, o),
            key="at_risk_owners", placeholder="All owners", help="The customer's account owner.")
    else:  # one agent's list: their own (an agent), or the one the link asks for (a team lead)
        owners = [list_owner]
        c5.multiselect("Owner", owners, default=owners, format_func=lambda o: names_of.get(o, o), disabled=True,
                       key="at_risk_owners_fixed", help="The customer's account owner: "
                       + ("yours — the list of an agent is the customers they own." if not access.may(
                           who.role, access.SEE_ALL_LISTS) else "the agent of the link."))
if list_owner is not None and access.may(who.role, access.SEE_ALL_LISTS):
    st.caption(f"The list of {fmt.md_escape(names_of.get(list_owner, list_owner))}, from the link.")
    if st.button("Show the whole list", key="at_risk_whole_list", icon=":material/list:"):
        del st.query_params[AGENT_PARAM]
        st.rerun()

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
        "Rank": listed["risk_rank"], **({"Customer": listed["full_name"]} if personal else {}),
        "ID": listed["customer_id"],
        "P(alive)": listed["p_alive"] * 100, "Expected loss": listed["expected_loss"],
        "Value if alive": listed["value_if_alive"], "Predicted CLV": listed["predicted_clv"],
        "Purchases": listed["purchases"], "Last purchase": listed["last_purchase"].dt.date,
        "Days since": listed["days_since_purchase"], "Segment": listed["segment"].map(fmt.label),
    }), "purchase_at_risk", height=tables.list_height(len(listed)), column_config={
        # widths add up to the ~980 px grid at 1440 px (tests/e2e/test_tables_fit.py)
        "Rank": st.column_config.NumberColumn("Rank", format="%d", width=52, pinned=True,
                                              help="1 = the largest expected loss"),
        "Customer": st.column_config.TextColumn("Customer", width=130, pinned=True),
        "ID": st.column_config.NumberColumn("ID", format="%d", width=60),
        "P(alive)": st.column_config.ProgressColumn("P(alive)", format="%.0f%%", min_value=0, max_value=100,
                                                    width=90, help="Probability the customer is still buying (BG/NBD)"),
        "Expected loss": st.column_config.NumberColumn("Exp. loss", format=money, width=80,
                                                       help="Expected loss = (1 − P(alive)) × value if alive."),
        "Value if alive": st.column_config.NumberColumn(
            "If alive", format=money, width=80, help="Value if alive = predicted CLV ÷ P(alive): the margin of "
            "the horizon if the customer is still buying — the value at stake."),
        "Predicted CLV": st.column_config.NumberColumn("Pred. CLV", format=money, width=84,
                                                       help="Predicted CLV (BG/NBD + Gamma-Gamma)."),
        "Purchases": st.column_config.NumberColumn("Purchases", width=82),
        "Last purchase": st.column_config.DateColumn("Last purchase", format="DD MMM YYYY", width=108),
        "Days since": st.column_config.NumberColumn("Days since", format="%d", width=80,
                                                    help="Days since the last purchase"),
        "Segment": st.column_config.TextColumn("Segment", width=100),
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
           g.AT_RISK_LIST, "Select a row to see the customer just below the list, and the full 360 further down.")
shown = work_queue.without_control_group(listed.head(SHOWN_ROWS), call_list.scored_on)  # holdout: not shown
table = pd.DataFrame({
    "Rank": shown["risk_rank"],
    **({"Customer": shown["full_name"]} if personal else {}),  # a manager sees no names
    "ID": shown["customer_id"],
    "Churn risk": shown["churn_probability"] * 100,
    "Expected loss": shown["expected_loss"],
    "Future value": shown["clv_future"],
    "Predicted CLV": shown["clv_predicted"],
    "Tier": shown["value_tier"].map(fmt.label),
    "Top drivers": short_drivers(shown),
    "Reasons": full_reasons(shown),
    "Last contact": shown["last_contact_at"].dt.date,
    "Days since": shown["days_since_contact"],
    "Segment": shown["segment"].map(fmt.label),
    "Plan": shown["plan"].map(fmt.label),
    "Owner": data.as_agent_names(shown["account_owner"]),
})
table = work_queue.with_case_columns(table, shown["customer_id"])  # the cases' status and owner, read per run
money = f"{fmt.currency_symbol()}%,.0f"
# Fits the main column at 1440 px with the sidebar open (~980 px; tests/e2e/test_tables_fit.py):
# the columns a caller works from show, pinned names on the left; ID, the other money
# columns, the contact date, segment, plan, owner and the full reasons stay in the frame and
# the toolbar's column menu shows them. Widths in px add up to the grid (the rest is shared out).
event = st.dataframe(
    table, hide_index=True, key="table_at_risk", on_select="rerun", selection_mode="single-row",
    height=tables.list_height(len(table)), placeholder="—",
    # a manager sees no names: the customer's ID takes the Customer column's place
    column_order=LIST_COLUMNS if personal else [("ID" if c == "Customer" else c) for c in LIST_COLUMNS],
    column_config={
        "Rank": st.column_config.NumberColumn("Rank", format="%d", width=52, pinned=True,
                                              help="1 = the largest expected loss in the selection"),
        "Customer": st.column_config.TextColumn("Customer", width=130, pinned=True),
        "ID": st.column_config.NumberColumn("ID", format="%d", width=60),
        "Status": st.column_config.TextColumn("Status", width=80, help="The case's status (New: no action yet)."),
        "Case owner": st.column_config.TextColumn("Case owner", width=82, help="The agent working the case."),
        "Follow-up": st.column_config.TextColumn("Follow-up", width=82, help="The case comes up again on this day."),
        "Churn risk": st.column_config.NumberColumn("Risk", format="%.0f%%", width=62,
                                                    help="Churn risk: the probability of churning within 90 days"),
        "Expected loss": st.column_config.NumberColumn(
            "Exp. loss", format=money, width=78,
            help="Expected loss = churn risk × future value (the margin still to come)."),
        "Future value": st.column_config.NumberColumn(
            "Future value", format=money, help="Expected discounted margin of the next 24 months: the value "
            "the expected loss weighs."),
        "Predicted CLV": st.column_config.NumberColumn("Predicted CLV", format=money),
        "Tier": st.column_config.TextColumn("Tier", width=62, help="Value tier by future value."),
        "Top drivers": st.column_config.TextColumn(
            "Top drivers", width=236,
            help="The model's three strongest reasons, named short. Select the row for the full sentences "
                 "below the list (or show the Reasons column from the column menu)."),
        "Reasons": st.column_config.TextColumn("Reasons", width="large", help="The model's reasons in full."),
        "Last contact": st.column_config.DateColumn("Last contact", format="DD MMM YYYY"),
        "Days since": st.column_config.NumberColumn("Contacted", format="%d d ago", width=76,
                                                    help="Days since the last contact; — = never contacted."),
    },
)
selected_rows = event.selection.rows if event is not None else []
if selected_rows:
    selected_card(shown.iloc[selected_rows[0]])  # where the user is looking: right under the list
if call_list.truncated:
    top = min(call_list.matching, SHOWN_ROWS)
    held = top - len(shown)  # the control group's, said above the list
    st.caption(f"The top {fmt.count(top)} of the {fmt.count(call_list.matching)} on the list"
               + (f" ({fmt.count(held)} of them held out as the control group)" if held else "")
               + "; the export holds the whole list but its control group.")
if access.may(who.role, access.ASSIGN):
    work_queue.bulk_assign(shown)

EXPORT_LAYOUTS = {"readable": "Readable", "dialer": "For a dialer or CRM"}


def export(layout: str) -> pd.DataFrame:
    """The whole list (up to EXPORT_LIMIT) in `layout`, fetched when a download is clicked
    (the callable runs outside the page's script run: no widgets in here). "readable": the
    page's headers and formats, with the cases' status; "dialer": the machine layout
    (analytics.at_risk.EXPORT_COLUMNS). Both go through analytics.export's formula guard.
    Held-out customers (the control group, decision 022) are not exported."""
    whole = data.at_risk_customers(flt, criteria, limit=EXPORT_LIMIT)
    # the control group is not exported
    whole = replace(whole, customers=work_queue.worked_only(whole.customers, call_list.scored_on))
    if layout == "dialer":
        return export_frame(whole)
    try:
        cases = data.current_cases(whole.customers["customer_id"].tolist())
    except work_queue.STORE_ERRORS:
        cases = None  # no store: the case columns stay blank
    return readable_export_frame(whole, cases)


stamp = f"{call_list.scored_on:%Y%m%d}"
exported = min(call_list.matching, EXPORT_LIMIT)
whose = "the whole list" if list_owner is None else f"the list of {list_owner}"
if access.may(who.role, access.EXPORT_PERSONAL_DATA):  # the export carries names and phones
    layout_col, left, mid, _ = st.columns([1.6, 1, 1, 2.4], vertical_alignment="bottom")
    layout = layout_col.segmented_control(
        "Export layout", list(EXPORT_LAYOUTS), format_func=EXPORT_LAYOUTS.get, default="readable",
        key="at_risk_export_layout", required=True,
        help="Readable: the columns and formats the page shows, the reasons in full. For a dialer or CRM: fixed "
             "snake_case headers (customer_id, phone, full_name, priority, reason_code, …), phone in E.164, "
             "plain numbers and ISO dates. " + g.help_link(g.AT_RISK_LIST)) or "readable"
    name = "at-risk" if layout == "readable" else "at-risk-dialer"
    left.download_button(
        "Export CSV", auth.audited_download(f"{name}-{stamp}.csv ({whose})", lambda: export(layout),
                                            lambda frame: ui.csv_bytes(frame)),
        file_name=f"{name}-{stamp}.csv", mime="text/csv", icon=":material/download:", key="at_risk_csv",
        on_click="ignore", help=f"All {fmt.count(exported)} customers on the list, in the layout chosen.")
    mid.download_button(
        "Export Excel", auth.audited_download(f"{name}-{stamp}.xlsx ({whose})", lambda: export(layout),
                                              lambda frame: ui.excel_bytes(frame, sheet="At risk")),
        file_name=f"{name}-{stamp}.xlsx", key="at_risk_xlsx", on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:", help="The same list as an Excel workbook.")
else:
    st.caption("The list's export carries customers' names and phones: your role sees the list without them.")
if call_list.matching > EXPORT_LIMIT:
    st.warning(f"The export stops at {fmt.count(EXPORT_LIMIT)} customers; narrow the criteria to export the rest.")

# --- customer 360 -----------------------------------------------------------------------------
# The table's selected row picks the customer; the selectbox below follows it and also lets
# the user pick from the list by name (and keeps the choice when the table is re-sorted).
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
    format_func=lambda cid: (f"{names[cid]} · " if personal else "") + f"#{cid} · expected loss "
                            f"{fmt.money(losses[cid])}")
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
    # a role without personal data sees the customer's number, not their name, phone or e-mail
    st.markdown(f"### {fmt.md_escape(f['full_name'] or '(no name)')} · #{customer_id}" if personal
                else f"### Customer #{customer_id}")
    account_owner = names_of.get(f["account_owner"], f["account_owner"]) if f["account_owner"] else "—"
    st.caption(" · ".join(fmt.md_escape(x) for x in (
        fmt.label(f["segment"]), fmt.label(f["region"]), f"{fmt.label(f['plan'])} plan",
        fmt.label(f["contract_type"]), f"owner {account_owner}",
        *((f"☎ {f['phone'] or '—'}", f"✉ {f['email'] or '—'}") if personal else ())) if x))
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
            "Agent": data.as_agent_names(timeline["agent"]),
        })
        if not personal:  # free-text notes speak of the customer by name
            shown_timeline = shown_timeline.drop(columns=["Note"])
        # fits the 360 panel at 1440 px (issue 17): resolved, subject and direction stay in
        # the frame, shown from the table's column menu
        shown_columns = [c for c in ("When", "What", "Channel", "Note", "Churn signals", "Outcome", "Agent")
                         if c in shown_timeline.columns]
        ui.table(shown_timeline, f"timeline_{customer_id}", height=360, column_order=shown_columns, column_config={
            "When": st.column_config.DatetimeColumn("When", format="DD MMM YYYY, HH:mm", pinned=True),
            "Note": st.column_config.TextColumn("Note", width=260),
            "Churn signals": st.column_config.TextColumn(
                "Churn signals", help="Signals the note's wording fires (Hebrew and English lexicon)."),
        })
