"""Overview (management): the customer base, trailing churn and MRR for the filters."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import data, formatting as fmt, sidebar
from dashboard.glossary import help_link

flt = sidebar.current_filter()
st.title("Overview")
st.caption(f"As of {flt.as_of:%d %b %Y} · changes compared with 30 days earlier")

now = data.base_snapshot(flt)
before = data.base_snapshot(flt, flt.as_of - timedelta(days=30))

if now.active_customers == 0 and now.churned_90d == 0:
    st.info(
        "No customers match these filters. Widen the segment, region or plan selection "
        "in the sidebar, or clear them to see the whole base."
    )
    st.stop()


def rate_delta(current, previous):
    if current is None or previous is None:
        return None
    return fmt.points(current - previous, 2)


cols = st.columns(4)
cols[0].metric(
    "Active customers",
    fmt.count(now.active_customers),
    delta=f"{now.active_customers - before.active_customers:+,}",
    help=f"Customers whose relationship had started and not ended on {flt.as_of:%d %b %Y}. "
    + help_link("active-customers"),
)
cols[1].metric(
    "Churn, last 30 days",
    fmt.percent(now.churn_rate_30d, 2),
    delta=rate_delta(now.churn_rate_30d, before.churn_rate_30d),
    delta_color="inverse",
    help=f"{fmt.count(now.churned_30d)} of the customers active 30 days ago have left. "
    + help_link("logo-churn-rate"),
)
cols[2].metric(
    "Churn, last 90 days",
    fmt.percent(now.churn_rate_90d, 2),
    delta=rate_delta(now.churn_rate_90d, before.churn_rate_90d),
    delta_color="inverse",
    help=f"{fmt.count(now.churned_90d)} of the customers active 90 days ago have left. "
    + help_link("logo-churn-rate"),
)
cols[3].metric(
    "Monthly recurring revenue",
    fmt.money(now.mrr),
    delta=fmt.money(now.mrr - before.mrr) if before.mrr else None,
    help="Sum of this month's MRR over the active customers. " + help_link("mrr"),
)
