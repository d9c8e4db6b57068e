"""Metrics glossary: docs/metrics.md, the definitions every number links to."""

import streamlit as st

from dashboard.glossary import metrics_markdown

st.title("Metrics glossary")
st.caption("How every number in Retention Radar is defined. Source: docs/metrics.md.")
st.markdown(metrics_markdown())
