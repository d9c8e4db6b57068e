"""AppTest: the Data page uploads the invoices fixture (tests/data/import/invoices), guesses
the column mapping from the names, checks, then imports into the configured database — the
same pipeline and the same rows as the command line (tests/unit/test_load.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import subprocess
import sys

from tests.app.apptest import run_page
from tests.builders import build_database

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "import" / "invoices"


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "radar.duckdb"
    build_database(path, customers=[{"customer_id": 1, "signup_date": date(2024, 1, 5)}])
    return path


def _upload(at, label_start: str, name: str, data: bytes) -> None:
    widget = next(u for u in at.file_uploader if u.label.startswith(label_start))
    widget.set_value((name, data, "text/csv"))


def test_upload_map_check_and_import(monkeypatch, tmp_path):
    db = _database(tmp_path)
    before = db.read_bytes()
    at = run_page(monkeypatch, db, "data_import.py")
    assert not at.exception
    assert at.title[0].value == "Import your data"
    assert any("Upload at least the customers file" in i.value for i in at.info)

    _upload(at, "Customers", "customers.csv", (FIXTURE / "customers.csv").read_bytes())
    at.run()
    _upload(at, "Revenue", "invoices.csv", (FIXTURE / "invoices.csv").read_bytes())
    at.run()
    assert not at.exception
    at.selectbox(key="revenue_shape").set_value("invoices").run()
    # their "id" column is not named like ours: mapped by hand; the rest by name
    at.selectbox(key="map_customers_customer_id").set_value("id")
    at.selectbox(key="map_revenue_customer_id").set_value("customer")
    at.text_input(key="as_of").set_value("2024-06-30")
    at.text_input(key="margin").set_value("0.4")
    at.number_input(key="threshold").set_value(1.0)
    at.run()
    assert at.selectbox(key="map_revenue_amount").value == "amount"

    at.button(key="check").click().run()
    assert not at.exception
    assert any("pass the checks" in s.value for s in at.success)
    assert db.read_bytes() == before  # a check writes nothing

    at.button(key="import").click().run()
    assert not at.exception
    assert any(s.value.startswith(f"Imported into {db}") for s in at.success)
    # read in a fresh process: in this one DuckDB may hand back the instance the app opened
    # on the replaced file (issue 13, "a replaced file is picked up"; dashboard/data.py)
    rows = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print(c.execute('select customer_id, month, mrr from monthly_revenue order by 1, 2').fetchall())",
         str(db)], capture_output=True, text=True, check=True).stdout.strip()
    assert rows == repr([(1, date(2024, 1, 1), 25.0), (1, date(2024, 3, 1), 20.0), (2, date(2024, 2, 1), 100.0)])
    assert db.with_name("radar.duckdb.bak").read_bytes() == before
    # the import is in the audit log: who, what, how many rows kept (decision 023)
    from analytics import actions

    store = actions.open_store(f"sqlite:///{db.with_name('actions.sqlite')}")
    try:
        log = actions.audit_entries(store, action="import")
    finally:
        store.close()
    # 2 customers + 4 invoices kept (the one of 2024-07-01 is after the as-of date)
    assert log[["actor", "row_count"]].values.tolist() == [["local user", 2 + 4]]
    assert log["detail"].iloc[0].startswith("imported customers (")


def test_a_file_that_is_not_a_csv_gets_a_message(monkeypatch, tmp_path):
    db = _database(tmp_path)
    at = run_page(monkeypatch, db, "data_import.py")
    _upload(at, "Customers", "customers.csv", b"PK\x03\x04 not really a csv")
    at.run()
    assert not at.exception
    assert any("is not a CSV file" in e.value for e in at.error)
