"""Data: import your own exports — upload, preview, map columns, check, import.

The same pipeline as `python -m analytics.load` (analytics/load.py): the page only collects
the files and the choices into a mapping, and shows the report. The import writes a new
file next to the configured database and swaps it in atomically (the old one stays as
`<name>.bak`); a failed or refused import changes nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import access, formatting as fmt, load
from analytics.config import PROJECT_ROOT, database_path
from dashboard import auth, data

NOT_MAPPED = "(not in this file)"
LABELS = {"customers": "Customers (required)", "revenue": "Revenue (optional)",
          "touchpoints": "Touchpoints: contacts, complaints, surveys, notes (optional)",
          "purchases": "Purchase log (optional, for businesses without subscriptions)"}
SHAPES = {"monthly": "monthly revenue rows (customer, month, MRR)",
          "subscriptions": "subscription periods (customer, start, end, MRR)",
          "invoices": "invoices / transactions (customer, date, amount)"}


def _staging() -> Path:
    if "import_staging" not in st.session_state:
        st.session_state["import_staging"] = tempfile.mkdtemp(prefix="radar-import-")
    return Path(st.session_state["import_staging"])


def _preview(entity: str, upload) -> tuple[Path, load.SourcePreview]:
    """The staged copy of an upload and its preview, made once per uploaded file: every
    widget change reruns the page, and a touchpoints export can be millions of rows."""
    key = f"preview_{entity}"
    kept = st.session_state.get(key)
    if kept is None or kept[0] != upload.file_id:
        path = load.stage_upload(_staging(), entity, upload.name, upload.getvalue())
        kept = (upload.file_id, path, load.preview_source(path))
        st.session_state[key] = kept
    return kept[1], kept[2]


def _show(report: load.ImportReport, rejects: Path | None) -> None:
    table = pd.DataFrame([{"entity": f.entity, "file": f.file, "read": f.read, "kept": f.kept,
                           "rejected": f.rejected, "rejected share": f"{f.reject_share:.2%}",
                           "why rejected": "; ".join(f"{r}: {n:,}" for r, n in sorted(f.reasons.items()))}
                          for f in report.files])
    st.dataframe(table, hide_index=True, width="stretch")
    for guess in report.guesses:
        st.warning(f"Guess: {fmt.md_escape(guess)}", icon=":material/help:")
    for note in report.notes:
        st.caption(fmt.md_escape(note))
    if rejects is not None and rejects.is_file():
        st.download_button("Download the rejected rows (CSV)",
                           auth.audited_file("rejects.csv (rejected rows of an import check)",
                                             sum(f.rejected for f in report.files), rejects.read_bytes),
                           file_name="rejects.csv", mime="text/csv", on_click="ignore")


st.title("Import your data")
if not auth.may(access.IMPORT_DATA):  # not routed for other roles; checked again here (decision 023)
    st.error("Importing data replaces the database everyone reads: admins only.", icon=":material/lock:")
    st.stop()
target = database_path()
# said relative to the project when it is inside it (data/sample.duckdb), as the README and
# retention.toml say it
shown_target = target.relative_to(PROJECT_ROOT) if target.is_relative_to(PROJECT_ROOT) else target
st.caption(f"Upload one file per entity (CSV, Parquet or Excel), map their columns to ours, check, "
           f"then import into `{shown_target}` (the previous file is kept as `{target.name}.bak`). "
           "The same import runs from the command line: `make import MAPPING=mapping.toml`.")

folder = _staging()
raw: dict = {"import": {}}
for entity in load.ENTITIES:
    upload = st.file_uploader(LABELS[entity], type=["csv", "parquet", "xlsx"], key=f"upload_{entity}")
    if upload is None:
        continue
    try:
        path, preview = _preview(entity, upload)
    except load.ImportFailed as err:
        st.error(fmt.md_escape(str(err).replace(str(folder) + "/", "")))
        continue
    section: dict = {"file": path.name}
    with st.expander(f"{fmt.md_escape(upload.name)}: {preview.rows:,} rows — preview and columns", expanded=True):
        st.dataframe(preview.head, width="stretch")
        shape = None
        if entity == "revenue":
            shape = st.selectbox("Shape of the revenue file", list(SHAPES), format_func=SHAPES.get,
                                 key="revenue_shape")
            section["shape"] = shape
        theirs = preview.columns
        columns = {}
        cells = st.columns(3)
        for n, (ours, required) in enumerate(load.entity_columns(entity, shape)):
            suggested = load.suggest_column(ours, theirs)
            options = [NOT_MAPPED, *theirs]
            choice = cells[n % 3].selectbox(f"{ours}{' (required)' if required else ''}", options,
                                            index=options.index(suggested) if suggested else 0,
                                            key=f"map_{entity}_{ours}")
            if choice != NOT_MAPPED:
                columns[ours] = choice
        section["columns"] = columns
        values = {}
        for ours in load.CATEGORY_COLUMNS.get(entity, ()):
            if ours not in columns:
                continue
            seen = preview.distinct_values(columns[ours])
            st.caption(f"Values of {fmt.md_escape(columns[ours])} → our {ours} (edit 'ours' to translate; values left as "
                       "they are are kept as they are)")
            edited = st.data_editor(pd.DataFrame({"theirs": seen, "ours": seen}), disabled=["theirs"],
                                    hide_index=True, key=f"values_{entity}_{ours}")
            translated = load.value_map(seen, list(edited["ours"]))
            if translated:
                values[ours] = {"map": translated}
        if values:
            section["values"] = values
    raw[entity] = section

if "customers" not in raw:
    st.info("Upload at least the customers file (an id, a signup date, and a churn date or churned flag).")
    st.stop()

st.subheader("Formats and business facts")
cells = st.columns(3)
settings = raw["import"]
settings["date_format"] = cells[0].text_input("Date format (strptime)", "%Y-%m-%d", key="date_format")
settings["timestamp_format"] = cells[1].text_input("Date/time format", "%Y-%m-%d %H:%M:%S", key="timestamp_format")
as_of = cells[2].text_input("As-of date (YYYY-MM-DD; empty = latest date in the data)", "", key="as_of")
currency = cells[0].text_input("Currency (e.g. EUR)", "", key="currency")
margin = cells[1].text_input("Gross margin rate, 0–1 (empty = 0.5, shown as a guess)", "", key="margin")
settings["max_reject_share"] = cells[2].number_input("Largest share of rejected rows per file", 0.0, 1.0,
                                                     load.DEFAULT_MAX_REJECT_SHARE, step=0.01, format="%.3f",
                                                     key="threshold")
if as_of.strip():
    settings["as_of_date"] = as_of.strip()
if currency.strip():
    settings["currency"] = currency.strip()
if margin.strip():
    try:
        settings["margin_rate"] = float(margin)
    except ValueError:
        st.error(f"Margin rate {margin!r} is not a number (write e.g. 0.6).")
        st.stop()

st.download_button("Download this mapping (mapping.toml)",
                   load.mapping_to_toml(raw, "Retention Radar import mapping, written by the Data page.\n"
                                             "Files are named as uploaded by entity; edit the paths."),
                   file_name="mapping.toml", mime="application/toml")

check, run = st.columns(2)
checked = check.button("Check the files", key="check")
imported = run.button("Import", type="primary", key="import")
if checked or imported:
    try:
        mapping = load.mapping_from_dict(raw, folder, where="the mapping")
        if checked:
            rejects = folder / "rejects.csv"
            report = load.run_import(mapping, target, check_only=True, rejects_path=rejects)
        else:
            with st.status("Importing…", expanded=True) as status:
                report = load.run_import(mapping, target, progress=status.write)
                status.update(label="Import finished" if report.accepted else "Import refused",
                              state="complete" if report.accepted else "error")
            rejects = report.rejects_path
    except load.ImportFailed as err:
        st.error(f"{fmt.md_escape(str(err).replace(str(folder) + '/', ''))} Nothing was changed.")
        st.stop()
    if not report.accepted:
        st.error(f"Not imported: {fmt.md_escape(report.reason)}")
    elif report.out is None:
        st.success("The files pass the checks: nothing is written until you press Import.")
    else:
        # every page reopens the swapped file on its next view (dashboard/data.py keys on its
        # modification time); clearing now frees the previous file's results at once
        data.forget_database()
        st.cache_data.clear()
        try:
            auth.audit("import", f"imported {', '.join(f.entity + ' (' + f.file + ')' for f in report.files)} "
                       f"into {report.out}", sum(f.kept for f in report.files))
        except auth.AUDIT_ERRORS as err:  # the import is done; say the audit failed
            st.warning(f"Imported, but the audit log could not record it: {err}")
        st.success(f"Imported into {report.out}." + (f" The previous file is {report.backup}." if report.backup else ""))
    _show(report, rejects)
