"""The retention team's work queue on the At-risk page (issue 16): the case columns of the
list, bulk assign, "My list", search for any customer, and the case form and action log in
the customer 360. Definitions: analytics.actions (cases, statuses, open cases, my list) and
analytics.customer_search; decision 021.

Writes go to the action store (dashboard/data.py, never cached). Bulk assign reruns the
page so the list's columns show it at once. The 360's case panel is a fragment whose form
saves in its submit callback: a save reruns that panel only (one short run, not two runs of
the whole page), so the case's state line and action log show the new row at once, while
the list's Status / Case owner / Follow-up columns and "My list" show it at the page's next
full run (decision 021). Widgets here keep keys with the page's ``at_risk_`` prefix or a
``case_`` prefix.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics import access, formatting as fmt
from analytics.actions import KEEP, STATUSES, ActionStoreError
from analytics.customer_search import BRIEF_COLUMNS, MIN_PHONE_DIGITS
from analytics.metrics._common import empty_frame
from dashboard import auth, data

SEARCH_LIMIT = 20
FLASH_KEY = "work_queue_flash"
STORE_ERRORS = (ActionStoreError, ValueError)
NOBODY = ""  # the owner picker's "no owner"


def current_user() -> tuple[str, bool]:
    """(who, signed_in): the id this session's user acts as (dashboard.auth.Viewer.owner)
    and whether they signed in; `auth.LOCAL_USER` when no sign-in is configured."""
    who = auth.viewer()
    return who.owner, who.signed_in


def _owner_picker(container, label: str, key: str, current: str = "", help_text: str = "") -> str:
    """The owner to give a case to: a pick from the agents directory (shown by name), or
    free text when the directory is empty. An owner not in the directory stays pickable."""
    directory = data.agent_directory()
    if directory.empty:
        return container.text_input(label, value=current, key=key, placeholder="An agent's name or id",
                                    help=help_text)
    ids = [NOBODY, *directory["id"].tolist()]
    if current and current not in ids:
        ids.append(current)
    return container.selectbox(label, ids, index=ids.index(current) if current in ids else 0, key=key,
                               format_func=lambda a: data.owner_name(a) if a else "Nobody", help=help_text)


def _flash(where: str, message: str, ok: bool = True) -> None:
    st.session_state[FLASH_KEY] = (where, message, ok)


def _show_flash(where: str) -> None:
    held = st.session_state.get(FLASH_KEY)
    if held and held[0] == where:
        del st.session_state[FLASH_KEY]
        if held[2]:
            st.success(held[1], icon=":material/check_circle:")
        else:
            st.error(held[1], icon=":material/error:")


def store_problem() -> str | None:
    """Why the action store cannot be used (None when it can)."""
    try:
        data.action_store()
    except STORE_ERRORS as err:
        return str(err)
    return None


def _unavailable(problem: str) -> None:
    st.error(f"The action store cannot be opened, so actions cannot be logged: {problem}",
             icon=":material/error:")


# --- the list's case columns ---------------------------------------------------------------------

def with_case_columns(table: pd.DataFrame, customer_ids) -> pd.DataFrame:
    """`table` (one row per id of `customer_ids`, in that order) with the cases' current
    Status, Case owner and Follow-up inserted after its "ID" column (status "New" for a
    customer without a case). Read from the store on every run: nothing cached."""
    ids = [int(c) for c in customer_ids]
    problem = store_problem()
    cases = empty_frame({"customer_id": "int64"}) if problem else data.current_cases(ids).set_index("customer_id")
    if problem:
        _unavailable(problem)
    known = cases.index if not problem else []
    status = [fmt.label(cases.at[c, "status"]) if c in known else fmt.label("new") for c in ids]
    # blank, not the table's grey "None", where a case has no owner or follow-up yet
    owner = data.as_agent_names([cases.at[c, "owner"] if c in known else None for c in ids])
    follow_up = [cases.at[c, "follow_up_date"].strftime("%d %b %Y")
                 if c in known and not pd.isna(cases.at[c, "follow_up_date"]) else "" for c in ids]
    out = table.copy()
    at = list(out.columns).index("ID") + 1 if "ID" in out.columns else len(out.columns)
    out.insert(at, "Status", status)
    out.insert(at + 1, "Case owner", owner)
    out.insert(at + 2, "Follow-up", follow_up)
    return out


# --- the control group (decision 022) ---------------------------------------------------------

CONTROL_GROUP = "Control group — do not contact"


def without_control_group(shown: pd.DataFrame, list_as_of: date) -> pd.DataFrame:
    """Work the list: record each shown customer's group for the list's programme period
    (`data.assign_holdout`; a customer keeps the group of their first listing) and return
    the rows to contact — the held-out customers are not shown, and a caption says how
    many. Without a usable store nothing is recorded and every row is shown (the case
    columns say why)."""
    if shown.empty or store_problem():
        return shown
    user, _ = current_user()
    try:
        groups = data.assign_holdout(shown["customer_id"], list_as_of, by=user)
    except STORE_ERRORS as err:
        st.warning(f"No control group was held out of this list: {err}", icon=":material/warning:")
        return shown
    held = set(groups.loc[groups["held_out"], "customer_id"].astype(int))
    if held:
        st.caption(f"{fmt.count(len(held))} customers of this list are in the control group — held out at random "
                   "and not shown: do not contact them. The Retention ROI page compares their churn with the worked "
                   "customers'.")
    return shown[~shown["customer_id"].astype(int).isin(held)].reset_index(drop=True)


def worked_only(listed: pd.DataFrame, list_as_of: date) -> pd.DataFrame:
    """`listed` less its control group, for an export (no Streamlit output: it runs when a
    download is clicked). The exported customers are assigned their groups too."""
    if listed.empty:
        return listed
    try:
        groups = data.assign_holdout(listed["customer_id"], list_as_of, by=current_user()[0])
    except STORE_ERRORS:
        return listed  # nothing recorded: no one is held out (the page shows why)
    held = set(groups.loc[groups["held_out"], "customer_id"].astype(int))
    return listed[~listed["customer_id"].astype(int).isin(held)].reset_index(drop=True)


# --- bulk assign -------------------------------------------------------------------------------

def bulk_assign(listed: pd.DataFrame) -> None:
    """An expander to assign the shown customers (all of them, or those picked) to an agent
    or to oneself ("Take them"). `listed` has ``customer_id`` and ``full_name``."""
    user, _ = current_user()
    _show_flash("assign")
    ids = [int(c) for c in listed["customer_id"]]
    names = dict(zip(ids, listed["full_name"].fillna("(no name)")))
    with st.expander(f"Assign these customers ({fmt.count(len(ids))} shown)", icon=":material/assignment_ind:"):
        problem = store_problem()
        if problem:
            _unavailable(problem)
            return
        with st.form("at_risk_assign_form", clear_on_submit=True, border=False):
            picked = st.multiselect("Customers", ids, key="at_risk_assign_pick",
                                    format_func=lambda cid: f"{names[cid]} · #{cid}",
                                    placeholder=f"All {fmt.count(len(ids))} shown",
                                    help="Leave empty to assign every customer the list shows.")
            owner = _owner_picker(st, "Assign to", "at_risk_assign_owner",
                                  help_text="The case owner: the agent who works these customers.")
            left, right, _ = st.columns([1, 1, 3])
            assign_to = left.form_submit_button("Assign", icon=":material/person_add:", key="at_risk_assign")
            take = right.form_submit_button("Take them", icon=":material/front_hand:", key="at_risk_take",
                                            help=f"Assign them to yourself ({user}).")
        if not (assign_to or take):
            return
        chosen = picked or ids
        try:
            written = data.assign(chosen, user if take else owner, by=user)
        except STORE_ERRORS as err:
            st.error(str(err), icon=":material/error:")
            return
        _flash("assign", f"Assigned {fmt.count(written)} customers to "
                         f"{fmt.md_escape(data.owner_name(user if take else owner.strip()))}.")
        st.rerun()


# --- my list and search: more customers to open in the 360 ------------------------------------

def my_list_and_search(as_of: date, customer_key: str) -> pd.DataFrame:
    """"My list" (a toggle: the user's open cases by follow-up date, then expected loss)
    and "Find any customer" (id, name, phone or e-mail over every customer). A row or
    match picked sets the 360's customer (`customer_key`) when the pick changes. Returns
    the customers they offer (`BRIEF_COLUMNS`) so the 360 can open them."""
    who = auth.viewer()
    user = who.owner
    offered: list[int] = []
    if not access.may(who.role, access.SEE_PERSONAL_DATA):
        return empty_frame(BRIEF_COLUMNS)  # a manager: no search by name, phone or e-mail, no list of their own
    left, right = st.columns([1, 2])
    show_mine = left.toggle("My list", key="at_risk_my_list",
                            help="Your open cases (new, attempted, reached, offer made, or not now with a "
                                 "follow-up date), by follow-up date, then expected loss.")
    left.caption(f"Working as {fmt.md_escape(who.name)}" + ("" if who.signed_in else
                 " — no sign-in is configured, so everyone works as this one local user."))
    text = right.text_input("Find any customer", key="at_risk_search", placeholder="Name, id, phone or e-mail",
                            help="Every customer, not only the list: the exact id, part of the name or e-mail (any case), or "
                                 f"{MIN_PHONE_DIGITS}+ digits of the phone (dashes, spaces and +972 ignored).")
    if text.strip():
        matches = data.search_customers(text, SEARCH_LIMIT)
        if matches.empty:
            right.caption("No customer matches. Search looks at every customer, not only the list.")
        else:
            ids = [int(c) for c in matches["customer_id"]]
            labels = {int(r.customer_id): " · ".join(str(x) for x in (
                r.full_name if isinstance(r.full_name, str) else "(no name)", f"#{int(r.customer_id)}",
                r.phone if isinstance(r.phone, str) else None, r.email if isinstance(r.email, str) else None) if x)
                for r in matches.itertuples()}
            pick = right.selectbox(
                f"{fmt.count(len(ids))}{'+' if len(ids) == SEARCH_LIMIT else ''} matching", ids, index=None,
                key="at_risk_search_pick", format_func=labels.get, placeholder="Pick one to open the 360")
            _follow(pick, "at_risk_last_search_pick", customer_key)
            if pick is not None:
                offered.append(pick)
    if show_mine:
        offered += _my_list(user, as_of, customer_key)
    if not offered:
        return empty_frame(BRIEF_COLUMNS)
    return data.customer_briefs(sorted(set(offered)), as_of)


def _follow(pick, last_key: str, customer_key: str) -> None:
    # a new pick opens that customer; an unchanged one leaves another choice alone
    if pick is not None and st.session_state.get(last_key) != pick:
        st.session_state[customer_key] = pick
    st.session_state[last_key] = pick


def _my_list(user: str, as_of: date, customer_key: str) -> list[int]:
    problem = store_problem()
    if problem:
        _unavailable(problem)
        return []
    mine = data.my_list(user)
    if mine.empty:
        st.caption("No open case is yours. Take a customer in the 360 below, or assign list rows to yourself.")
        return []
    briefs = data.customer_briefs(mine["customer_id"].tolist(), as_of)
    mine = data.my_list(user, briefs[["customer_id", "expected_loss"]])
    mine = mine.merge(briefs[["customer_id", "full_name"]], on="customer_id", how="left")
    today = date.today()
    st.markdown(f"**My list** — {fmt.count(len(mine))} open cases, by follow-up date, then expected loss")
    shown = pd.DataFrame({
        "Follow-up": mine["follow_up_date"].dt.date,
        "Due": [not pd.isna(d) and d.date() <= today for d in mine["follow_up_date"]],
        "Customer": mine["full_name"].fillna("(no name)"),
        "ID": mine["customer_id"],
        "Status": mine["status"].map(fmt.label),
        "Expected loss": mine["expected_loss"],
        "Last outcome": mine["outcome"].fillna(""),
        "Updated": mine["updated_at"],
    })
    event = st.dataframe(
        shown, hide_index=True, key="table_at_risk_my_list", on_select="rerun", selection_mode="single-row",
        height=300 if len(shown) > 8 else "auto", column_config={
            "ID": st.column_config.NumberColumn("ID", format="%d", width="small"),
            "Due": st.column_config.CheckboxColumn("Due", help="Follow-up date today or earlier"),
            "Expected loss": st.column_config.NumberColumn("Expected loss", format=f"{fmt.currency_symbol()}%,.0f"),
            "Updated": st.column_config.DatetimeColumn("Updated (UTC)", format="DD MMM YYYY, HH:mm"),
        })
    rows = event.selection.rows if event is not None else []
    _follow(int(mine["customer_id"].iloc[rows[0]]) if rows else None, "at_risk_last_my_list_row", customer_key)
    return [int(c) for c in mine["customer_id"]]


# --- the case in the customer 360 ----------------------------------------------------------------

SAVED = "Action saved. The list above shows it at the page's next run (a filter, a row or a customer picked)."


@st.fragment
def case_panel(customer_id: int) -> None:
    """The case of `customer_id` in the 360: its current state, a form to log an action
    (status, owner or "take it", follow-up date, outcome, note), and the action log,
    newest first.

    A fragment: pressing "Save action" reruns this panel only, not the At-risk page, and
    the write happens in the button's callback (`_save_case`) before the panel's run, so
    that one short run already reads the new row. What the rest of the page shows of the
    case (the list's columns, "My list") is refreshed at its next full run."""
    cid = int(customer_id)
    who = auth.viewer()
    user = who.owner
    problem = store_problem()
    if problem:
        _unavailable(problem)
        return
    history = data.case_timeline(cid)
    latest = history.iloc[0] if not history.empty else None
    status = latest["status"] if latest is not None else "new"
    owner = latest["owner"] if latest is not None and not pd.isna(latest["owner"]) else ""
    follow_up = (latest["follow_up_date"].date() if latest is not None and not pd.isna(latest["follow_up_date"])
                 else None)
    state = f"status {fmt.label(status)}, owner {fmt.md_escape(data.owner_name(owner)) if owner else 'nobody'}"
    if follow_up:
        state += f", follow up on {follow_up:%d %b %Y}"
    st.markdown(f"**Case** — {state}")
    held = data.held_out_periods(cid)
    if held:
        st.warning(f"**{CONTROL_GROUP}** proactively: held out of the worked list in {', '.join(held)} to measure "
                   "the programme. Serve the customer if they get in touch; do not reach out.",
                   icon=":material/block:")
    _show_flash(f"case_{cid}")
    personal = access.may(who.role, access.SEE_PERSONAL_DATA)
    if not access.may(who.role, access.LOG_ACTIONS):
        _action_log(history, personal)
        return
    may_assign = access.may(who.role, access.ASSIGN)
    with st.form(f"case_form_{cid}"):  # `_save_case` resets it to the saved state
        c = st.columns([1, 1.2, 1, 1.4])
        c[0].selectbox("Status", STATUSES, index=STATUSES.index(status), format_func=fmt.label,
                       key=f"case_status_{cid}", help="new → attempted → reached → offer made → saved / lost / not now")
        if may_assign:
            _owner_picker(c[1], "Owner", f"case_owner_{cid}", owner, "The agent who works the case; empty = nobody.")
        else:  # an agent takes a case or leaves its owner; giving it to someone is the team lead's
            c[1].text_input("Owner", value=data.owner_name(owner), key=f"case_owner_{cid}", disabled=True,
                            help="Only a team lead or an admin gives a case to someone else; take it yourself below.")
        c[1].checkbox(f"Take it ({fmt.md_escape(who.name)})", key=f"case_take_{cid}")
        c[2].date_input("Follow-up", value=follow_up, key=f"case_follow_up_{cid}",
                        help="Snooze until: the case comes up again on this day.")
        c[3].text_input("Outcome", key=f"case_outcome_{cid}", placeholder="e.g. no answer, accepted 10% off")
        st.text_area("Note", key=f"case_note_{cid}", height=80)
        st.form_submit_button("Save action", icon=":material/save:", key=f"case_save_{cid}",
                              on_click=_save_case, args=(cid, user, may_assign))
    _action_log(history, personal)


def _save_case(cid: int, user: str, may_assign: bool) -> None:
    """The case form's submit callback: write the action from the form's submitted values
    (Session State) before the panel reruns, and leave the panel a message to show. The
    owner field is written only for a role that may assign; "Take it" gives it to `user`.

    After a save the form starts from the case as saved — its status, owner and follow-up
    date, "Take it" off, outcome and note empty — so a second save changes only what is
    touched (the widgets keep their own state across runs; their defaults would not move).
    After a refused save the form keeps what was typed."""
    form = st.session_state

    def key(name: str) -> str:
        return f"case_{name}_{cid}"

    owner = user if form.get(key("take")) else (form.get(key("owner"), NOBODY) if may_assign else KEEP)
    try:
        data.record_action(cid, by=user, status=form.get(key("status")), owner=owner,
                           follow_up_date=form.get(key("follow_up")), outcome=form.get(key("outcome")),
                           note=form.get(key("note")))
        case = data.current_cases([cid]).iloc[0]
    except STORE_ERRORS as err:
        _flash(f"case_{cid}", str(err), ok=False)
        return
    saved_owner = NOBODY if pd.isna(case["owner"]) else str(case["owner"])
    form[key("status")] = str(case["status"])
    form[key("owner")] = saved_owner if may_assign else data.owner_name(saved_owner)
    form[key("take")] = False
    form[key("follow_up")] = None if pd.isna(case["follow_up_date"]) else case["follow_up_date"].date()
    form[key("outcome")] = ""
    form[key("note")] = ""
    _flash(f"case_{cid}", SAVED)


def _action_log(history: pd.DataFrame, personal: bool) -> None:
    """The case's actions, newest first; owners and authors by name; the free-text notes
    only for a role that sees personal data."""
    if history.empty:
        st.caption("No actions logged for this customer yet.")
        return
    cid = int(history["customer_id"].iloc[0])
    st.markdown(f"**Actions** — {fmt.count(len(history))} logged, newest first")
    log = pd.DataFrame({
        "When": history["created_at"],
        "Status": history["status"].map(fmt.label),
        "Owner": data.as_agent_names(history["owner"]),
        "Follow-up": history["follow_up_date"].dt.date,
        "Outcome": history["outcome"].fillna(""),
        "Note": history["note"].fillna(""),
        "By": data.as_agent_names(history["created_by"]),
    })
    st.dataframe(log if personal else log.drop(columns=["Note"]), hide_index=True, key=f"table_case_actions_{cid}",
                 height=240 if len(history) > 6 else "auto",
                 column_config={"When": st.column_config.DatetimeColumn("When (UTC)", format="DD MMM YYYY, HH:mm"),
                                "Note": st.column_config.TextColumn("Note", width="large")})
