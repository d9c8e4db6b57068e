"""Set-up: shown instead of the dashboard when the database cannot be used."""

import streamlit as st

from analytics import access
from analytics.db import DatabaseMissing
from dashboard import auth, data

st.title("Retention Radar needs a database")
error = data.database_error()
if error is None:
    st.success("The database is ready.")
    st.button("Open the dashboard", on_click=st.rerun)
    st.stop()

st.error(str(error))
if isinstance(error, DatabaseMissing):
    st.write(
        "You can generate the embedded sample — a simulated subscription business with "
        "50,000 customers and three years of history — or point `RETENTION_DB` at your "
        "own DuckDB file (see `docs/data-model.md`) and restart."
    )
    if not auth.may(access.GENERATE_SAMPLE):  # it writes on the server: admins only (decision 023)
        st.info("Only an admin can generate the sample database or import data. Ask an admin.",
                icon=":material/lock:")
    elif st.button("Generate the sample database", type="primary"):
        with st.status("Generating the sample database…", expanded=True) as status:
            st.write("Simulating 36 months of customers, contacts and revenue (about 10 seconds).")
            summary = data.generate_sample()
            status.update(
                label=f"Sample ready: {summary.customers:,} customers, "
                f"{summary.touchpoints:,} touchpoints.",
                state="complete",
            )
        try:
            auth.audit("generate_sample", f"sample database generated at {data.database_path()}",
                       summary.customers)
        except auth.AUDIT_ERRORS as err:  # the sample is made; say the audit failed
            st.warning(f"The sample is ready, but the audit log could not record it: {err}")
        st.rerun()
else:
    st.write(
        "Nothing has been changed in the file. Fix the cause above, or set "
        "`RETENTION_DB` to another database, then reload this page."
    )
