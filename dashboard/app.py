"""Retention Radar entry point: page config, the shared sidebar and routing only.

    streamlit run dashboard/app.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, data, sidebar  # noqa: E402

PAGES = ROOT / "pages"


def main() -> None:
    st.set_page_config(page_title="Retention Radar", page_icon="📡", layout="wide")
    auth.sidebar_identity(auth.gate())  # the sign-in screen until signed in (decision 023)
    _route()


def _route() -> bool:
    """Sidebar and the chosen page; False when there is no usable database."""
    if data.database_error() is not None:
        # Without a usable database only the set-up page makes sense.
        st.navigation(auth.allowed({"": [
            st.Page(PAGES / "setup.py", title="Set up the database", icon=":material/build:"),
            st.Page(PAGES / "data_import.py", title="Import your data", icon=":material/upload_file:")]})[""]).run()
        return False
    # URL paths follow the file names (churn_funnel.py -> /churn_funnel), which is also how
    # AppTest.switch_page finds a page before its first run.
    page = st.navigation(auth.allowed(  # only the pages the user's role may open
        {
            "Management": [
                st.Page(PAGES / "overview.py", title="Overview", icon=":material/monitoring:", default=True),
                st.Page(PAGES / "retention_roi.py", title="Retention ROI & what-if", icon=":material/savings:"),
                st.Page(PAGES / "leadership_report.py", title="Leadership report", icon=":material/slideshow:"),
                st.Page(PAGES / "presentation.py", title="Presentation mode", icon=":material/co_present:"),
            ],
            "Retention team": [
                st.Page(PAGES / "at_risk.py", title="At-risk customers", icon=":material/crisis_alert:"),
                st.Page(PAGES / "churn_funnel.py", title="Churn funnel", icon=":material/filter_alt:"),
                st.Page(PAGES / "service_signals.py", title="Service & signals", icon=":material/support_agent:"),
            ],
            "Analysis": [
                st.Page(PAGES / "retention_by_segment.py", title="Retention by segment",
                        icon=":material/groups:"),
                st.Page(PAGES / "customer_value.py", title="Customer value", icon=":material/payments:"),
                st.Page(PAGES / "data_quality.py", title="Data quality", icon=":material/rule:"),
            ],
            "Data": [
                st.Page(PAGES / "data_import.py", title="Import your data", icon=":material/upload_file:"),
                st.Page(PAGES / "audit_log.py", title="Audit log", icon=":material/policy:"),
            ],
            "Reference": [
                st.Page(PAGES / "model.py", title="Model", icon=":material/model_training:"),
                st.Page(PAGES / "glossary.py", title="Metrics glossary", icon=":material/menu_book:", url_path="glossary"),
            ],
        }),
        expanded=True,  # every page listed: 13 entries would otherwise fold into "View 3 more"
    )
    as_of = data.as_of_date()
    history_start = data.history_start()
    sidebar.render_filters(as_of, history_start, data.dimension_values())
    page.run()
    return True


main()
