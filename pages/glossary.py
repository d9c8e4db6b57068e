"""Metrics glossary: docs/metrics.md, the definitions every number links to."""

import streamlit as st

from dashboard.glossary import metrics_markdown

st.markdown(metrics_markdown())
