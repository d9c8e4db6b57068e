"""Audit log (admin only; decision 023): every action on a case, every assignment, export,
import and sample generation — who, when (UTC), what and how many rows — newest first,
filtered by user and kind. Text is shown in a table cell, never as Markdown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import access, formatting as fmt
from analytics.actions import ActionStoreError
from dashboard import auth, data

SHOWN = 500

st.title("Audit log")
if not auth.may(access.VIEW_AUDIT_LOG):  # not routed for other roles; checked again here
    st.error("The audit log is for admins only.", icon=":material/lock:")
    st.stop()
try:
    actors, kinds = data.audit_filters()
except (ActionStoreError, ValueError) as err:
    st.error(f"The action store, which keeps the audit log, cannot be opened: {err}", icon=":material/error:")
    st.stop()

left, right, _ = st.columns([1, 1, 2])
known = data.owner_names()
actor = left.selectbox("User", actors, index=None, key="audit_actor", placeholder="Every user",
                       format_func=lambda a: f"{known[a]} ({a})" if a in known else a)
kind = right.selectbox("Kind", kinds, index=None, key="audit_kind", placeholder="Every kind", format_func=fmt.label)
entries = data.audit_entries(SHOWN, actor=actor, action=kind)
names = data.owner_names()
st.caption(f"{fmt.count(len(entries))} entries, newest first" + (f" (the latest {SHOWN})" if len(entries) == SHOWN
                                                                 else "") + ". Times in UTC.")
if entries.empty:
    st.caption("Nothing recorded yet." if not (actor or kind) else "No entry matches these filters.")
    st.stop()
st.dataframe(pd.DataFrame({
    "When": entries["occurred_at"],
    "User": [f"{names[a]} ({a})" if a in names else a for a in entries["actor"]],  # directory names
    "Kind": entries["action"].map(fmt.label),
    "What": entries["detail"].fillna(""),
    "Rows": entries["row_count"],
}), hide_index=True, key="table_audit_log", height=560 if len(entries) > 14 else "auto", column_config={
    "When": st.column_config.DatetimeColumn("When (UTC)", format="DD MMM YYYY, HH:mm:ss"),
    "What": st.column_config.TextColumn("What", width="large"),
    "Rows": st.column_config.NumberColumn("Rows", format="%d"),
})
