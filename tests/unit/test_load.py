"""The import pipeline (analytics/load.py) on the committed fixtures of tests/data/import/.

Every expected row below is worked out by hand from the fixture files (row numbers are
the spreadsheet's: header = row 1, first data row = row 2).
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import analytics.load as load
from analytics.db import open_database
from analytics.revenue_shapes import monthly_from_invoices, monthly_from_subscriptions

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def _import(name: str, out: Path, **kw) -> load.ImportReport:
    return load.run_import(load.read_mapping(DATA / name / "mapping.toml"), out, **kw)


def _rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _info(path: Path) -> dict[str, str]:
    return dict(_rows(path, "select key, value from schema_info"))


# --------------------------------------------------------------------------- rejects
@pytest.fixture(scope="module")
def rejects_import(tmp_path_factory) -> tuple[load.ImportReport, Path]:
    out = tmp_path_factory.mktemp("rejects") / "radar.duckdb"
    return _import("rejects", out), out


def test_every_rejection_reason_lands_in_the_rejects_file_with_row_column_value(rejects_import):
    report, out = rejects_import
    rejects = pd.read_csv(out.with_name("radar.duckdb.rejects.csv"), dtype=str, keep_default_na=False)
    assert list(rejects.columns) == ["file", "row", "column", "value", "reason"]
    got = [tuple(r) for r in rejects.itertuples(index=False)]
    assert got == [
        ("customers.csv", "4", "signup_date", "2024-02-01", "not a date in the form %d/%m/%Y"),
        ("customers.csv", "5", "churn_date", "01/02/2024", "churn date before signup date"),
        ("customers.csv", "6", "acquisition_cost", "abc", "not a number"),
        ("customers.csv", "7", "contract_type", "Weekly", "value not in the mapping's closed value map"),
        ("customers.csv", "8", "signup_date", "", "missing value in a required column"),
        ("customers.csv", "9", "acquisition_cost", "-5", "out of range (must be at least 0)"),
        ("customers.csv", "11", "customer_id", "C-10", "duplicate id (every row with this id is rejected)"),
        ("customers.csv", "12", "customer_id", "C-10", "duplicate id (every row with this id is rejected)"),
        ("touchpoints.csv", "4", "customer_id", "C-99", "customer not in the customers file"),
        ("touchpoints.csv", "5", "customer_id", "C-04", "customer was rejected (see the customers file's rejects)"),
        ("touchpoints.csv", "6", "occurred_at", "yesterday", "not a date/time in the form %d/%m/%Y %H:%M"),
        ("touchpoints.csv", "7", "csat", "9", "out of range (must be between 1 and 5)"),
        ("touchpoints.csv", "8", "touchpoint_id", "7", "duplicate id (every row with this id is rejected)"),
        ("touchpoints.csv", "9", "touchpoint_id", "7", "duplicate id (every row with this id is rejected)"),
        ("touchpoints.csv", "10", "occurred_at", "03/05/2024 09:00", "dated after the as-of date"),
        ("monthly.csv", "4", "month", "15/03/2024", "month is not the first day of a month"),
        ("monthly.csv", "6", "month", "01/02/2024", "duplicate customer and month (every such row is rejected)"),
        ("monthly.csv", "7", "month", "01/02/2024", "duplicate customer and month (every such row is rejected)"),
        ("monthly.csv", "8", "mrr", "-1", "out of range (must be at least 0)"),
    ]


def test_report_counts_read_kept_rejected_and_reasons_per_file(rejects_import):
    report, _ = rejects_import
    assert report.accepted
    by_entity = {f.entity: f for f in report.files}
    c, t, r = by_entity["customers"], by_entity["touchpoints"], by_entity["revenue"]
    assert (c.read, c.kept, c.rejected) == (11, 3, 8)
    assert (t.read, t.kept, t.rejected) == (9, 2, 7)
    assert (r.read, r.kept, r.rejected) == (7, 3, 4)
    assert c.reasons["duplicate id (every row with this id is rejected)"] == 2
    assert sum(c.reasons.values()) == 8 and sum(t.reasons.values()) == 7 and sum(r.reasons.values()) == 4
    # the guesses are listed as guesses, in the printed report too
    assert any(g.startswith("margin rate 50%") for g in report.guesses)
    assert any(g.startswith("history start 2024-01-01") for g in report.guesses)
    assert "GUESS: margin rate 50%" in str(report)


def test_kept_rows_text_ids_dd_mm_dates_and_unknown_categories(rejects_import):
    _, out = rejects_import
    assert _rows(out, "select customer_id, plan, contract_type, acquisition_cost, signup_date, churn_date, "
                      "monthly_revenue, margin_rate from customers order by 1") == [
        # C-01..C-10 numbered in file order; "Satellite" is not in the (open) plan map: kept as is
        (1, "premium", "month_to_month", 100.0, date(2024, 1, 1), None, 100.0, 0.5),
        (2, "basic", "annual", 50.0, date(2024, 1, 15), date(2024, 3, 31), 50.0, 0.5),
        (9, "Satellite", "two_year", 0.0, date(2024, 4, 1), None, None, 0.5),
    ]
    assert _rows(out, "select * from customer_source_ids order by 1") == [(1, "C-01"), (2, "C-02"), (9, "C-09")]
    assert _rows(out, "select * from customer_attributes order by 1") == [
        (1, "Payment method", "Credit card"), (2, "Payment method", "Bank transfer")]
    assert _rows(out, "select touchpoint_id, customer_id, occurred_at, kind, channel, csat from touchpoints "
                      "order by 1") == [
        (1, 1, datetime(2024, 1, 2, 10, 0), "complaint", "phone", None),
        (2, 2, datetime(2024, 1, 20, 11, 30), "survey", "email", 4),
    ]
    assert _rows(out, "select * from monthly_revenue order by 1, 2") == [
        (1, date(2024, 1, 1), 100.0), (1, date(2024, 2, 1), 100.0), (2, date(2024, 1, 1), 50.0)]
    info = _info(out)
    assert (info["as_of_date"], info["history_start"]) == ("2024-04-30", "2024-01-01")
    assert (info["margin_rate"], info["margin_rate_guessed"]) == ("0.5", "true")
    open_database(out).close()  # the dashboard's own checks pass


# --------------------------------------------------------------------------- revenue shapes
def test_subscription_periods_become_monthly_rows(tmp_path):
    out = tmp_path / "subs.duckdb"
    report = _import("subscriptions", out)
    # customer 1: Jan (period starts in it) 30, Feb 30, Mar 30 (old price: it runs on Mar 1),
    #   Apr–Jun 45; customer 2: Feb 10 + 5 (two concurrent subscriptions), Mar 10 (the 5 ends
    #   on Mar 1), nothing in Apr (ends on Apr 1); customer 3: both periods rejected
    assert _rows(out, "select customer_id, month, mrr from monthly_revenue order by 1, 2") == [
        (1, date(2024, 1, 1), 30.0), (1, date(2024, 2, 1), 30.0), (1, date(2024, 3, 1), 30.0),
        (1, date(2024, 4, 1), 45.0), (1, date(2024, 5, 1), 45.0), (1, date(2024, 6, 1), 45.0),
        (2, date(2024, 2, 1), 15.0), (2, date(2024, 3, 1), 10.0),
    ]
    revenue = next(f for f in report.files if f.entity == "revenue")
    assert revenue.reasons == {"subscription ends on or before its start": 1, "dated after the as-of date": 1}
    assert _rows(out, "select customer_id, monthly_revenue, margin_rate from customers order by 1") == [
        (1, 45.0, 0.6), (2, 10.0, 0.6), (3, None, 0.6)]
    info = _info(out)
    assert (info["currency"], info["margin_rate"], info["history_start"]) == ("EUR", "0.6", "2024-01-01")
    assert "margin_rate_guessed" not in info and report.guesses == []


def test_invoices_become_monthly_rows(tmp_path):
    out = tmp_path / "inv.duckdb"
    report = _import("invoices", out)
    # customer 1: January 20 + 5, March 20; customer 2: February 100 (the July invoice is
    # after the as-of date: rejected, not silently left out)
    assert _rows(out, "select customer_id, month, mrr from monthly_revenue order by 1, 2") == [
        (1, date(2024, 1, 1), 25.0), (1, date(2024, 3, 1), 20.0), (2, date(2024, 2, 1), 100.0)]
    assert next(f for f in report.files if f.entity == "revenue").reasons == {"dated after the as-of date": 1}


def test_revenue_shape_functions_on_an_empty_input():
    periods = pd.DataFrame({"customer_id": pd.Series(dtype="Int64"), "start": pd.Series(dtype="datetime64[ns]"),
                            "end": pd.Series(dtype="datetime64[ns]"), "mrr": pd.Series(dtype=float)})
    assert monthly_from_subscriptions(periods, date(2024, 1, 31)).empty
    invoices = pd.DataFrame({"customer_id": pd.Series(dtype="Int64"), "date": pd.Series(dtype="datetime64[ns]"),
                             "amount": pd.Series(dtype=float)})
    assert monthly_from_invoices(invoices, date(2024, 1, 31)).empty


def test_churned_flag_text_ids_and_purchase_log(tmp_path):
    out = tmp_path / "flag.duckdb"
    report = _import("flag_and_purchases", out)
    assert _rows(out, "select c.customer_id, s.source_id, c.plan, c.signup_date, c.churn_date from customers c "
                      "join customer_source_ids s using (customer_id) order by 1") == [
        (1, "7590-VHVEG", "basic", date(2023, 2, 1), None),
        (2, "5575-GNVDE", "premium", date(2023, 6, 15), date(2024, 1, 31)),  # flagged: as-of date, a guess
        (3, "3668-QPYBK", "No", date(2023, 9, 30), None),
    ]
    assert any("1 customers flagged churned without a churn date" in g for g in report.guesses)
    assert _rows(out, "select * from purchases order by 1, 2") == [
        (1, date(2023, 2, 3), 19.9), (1, date(2023, 3, 10), 25.0), (2, date(2023, 6, 20), 40.0)]
    assert _rows(out, "select * from customer_attributes order by 1") == [
        (1, "PaymentMethod", "Electronic check"), (2, "PaymentMethod", "Mailed check")]
    assert _rows(out, "select count(*) from touchpoints")[0][0] == 0  # no touchpoints file: empty table
    assert any("purchase log stored in table purchases" in n for n in report.notes)


def test_parquet_and_excel_give_the_same_customers(tmp_path):
    src = pd.read_csv(DATA / "subscriptions" / "customers.csv")
    src["signup_date"] = pd.to_datetime(src["signup_date"])
    src["churn_date"] = pd.to_datetime(src["churn_date"])
    results = []
    for suffix in ("parquet", "xlsx"):
        folder = tmp_path / suffix
        folder.mkdir()
        path = folder / f"customers.{suffix}"
        src.to_parquet(path) if suffix == "parquet" else src.to_excel(path, index=False)
        mapping = load.mapping_from_dict(
            {"import": {"as_of_date": "2024-06-30", "margin_rate": 0.5},
             "customers": {"file": path.name, "columns": {"customer_id": "id"}}}, folder)
        out = folder / "out.duckdb"
        load.run_import(mapping, out)
        results.append(_rows(out, "select customer_id, signup_date, churn_date from customers order by 1"))
    assert results[0] == results[1] == [
        (1, date(2024, 1, 10), None), (2, date(2024, 2, 1), date(2024, 4, 1)), (3, date(2024, 5, 1), None)]


def test_churn_before_signup_can_be_kept_with_a_warning(tmp_path):
    folder = tmp_path / "keep"
    shutil.copytree(DATA / "rejects", folder)
    text = (folder / "mapping.toml").read_text().replace(
        'file = "customers.csv"', 'file = "customers.csv"\nchurn_before_signup = "keep"', 1)
    (folder / "mapping.toml").write_text(text)
    report = load.run_import(load.read_mapping(folder / "mapping.toml"), folder / "out.duckdb")
    customers = next(f for f in report.files if f.entity == "customers")
    assert (customers.kept, customers.rejected) == (4, 7)
    assert list(customers.warnings.values()) == [1]
    assert (4, date(2024, 3, 1), date(2024, 2, 1)) in _rows(
        folder / "out.duckdb", "select customer_id, signup_date, churn_date from customers")


# --------------------------------------------------------------------------- failures change nothing
@pytest.fixture
def existing(tmp_path) -> tuple[Path, bytes]:
    """A target that already holds an import (the invoices fixture), and its bytes."""
    out = tmp_path / "radar.duckdb"
    _import("invoices", out)
    return out, out.read_bytes()


def _only(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_over_the_threshold_nothing_is_written_and_the_cli_says_why(existing, capsys):
    out, before = existing
    files_before = _only(out.parent)
    status = load.main(["--mapping", str(DATA / "rejects" / "mapping.toml"), "--out", str(out),
                        "--max-reject-share", "0.01"])
    assert status == 1
    assert out.read_bytes() == before
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("import refused: customers.csv: 8 of 11 rows rejected (72.73%, above the 1.00% "
                              "threshold")
    # no temp file, no backup; the rejects file (the diagnosis) now lists this attempt's rows
    assert _only(out.parent) == files_before
    assert "C-10" in out.with_name("radar.duckdb.rejects.csv").read_text()


def test_not_a_csv_gets_a_clear_message_and_changes_nothing(existing, tmp_path):
    out, before = existing
    folder = tmp_path / "bad"
    shutil.copytree(DATA / "subscriptions", folder)
    shutil.copy(out, folder / "customers.csv")  # a DuckDB file saved as .csv
    with pytest.raises(load.ImportFailed, match=r"customers.csv is not a CSV file \(it holds binary data\)"):
        load.run_import(load.read_mapping(folder / "mapping.toml"), out)
    assert out.read_bytes() == before


def test_wrong_columns_get_a_clear_message_and_change_nothing(existing, tmp_path):
    out, before = existing
    folder = tmp_path / "cols"
    shutil.copytree(DATA / "subscriptions", folder)
    (folder / "customers.csv").write_text("client,signup_date\n1,2024-01-01\n")
    with pytest.raises(load.ImportFailed, match=r"customers.csv has no column 'id' .* its columns are: client, "
                                                r"signup_date"):
        load.run_import(load.read_mapping(folder / "mapping.toml"), out)
    (folder / "customers.csv").write_text("id,joined\n1,2024-01-01\n")
    with pytest.raises(load.ImportFailed, match=r"customers.csv: no column is mapped to signup_date"):
        load.run_import(load.read_mapping(folder / "mapping.toml"), out)
    assert out.read_bytes() == before


@pytest.mark.parametrize("toml, message", [
    ("[import]\n", r"a \[customers\] section is required"),
    ("[customers]\ncolumns = {}\n", r"\[customers\] needs file"),
    ('[customers]\nfile = "c.csv"\n[customers.columns]\nshoe_size = "x"\n', r"shoe_size is not one of our"),
    ('[import]\nmargin_rate = 45\n[customers]\nfile = "c.csv"\n', r"margin_rate = 45; it must be a share"),
    ('[revenue]\nfile = "r.csv"\nshape = "weekly"\n[customers]\nfile = "c.csv"\n', r"shape = 'weekly'"),
    ("this is = not [ toml", r"is not a readable TOML mapping file"),
])
def test_bad_mapping_files_get_one_line_messages(tmp_path, toml, message):
    (tmp_path / "c.csv").write_text("customer_id,signup_date\n1,2024-01-01\n")
    (tmp_path / "m.toml").write_text(toml)
    with pytest.raises(load.ImportFailed, match=message) as err:
        load.run_import(load.read_mapping(tmp_path / "m.toml"), tmp_path / "out.duckdb")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out.duckdb").exists()


# exception classes, raised fresh in each run: an instance in the parameters lives for the
# whole session and would keep its last traceback's frames (and what they hold) to the exit
@pytest.mark.parametrize("stop", [RuntimeError, KeyboardInterrupt], ids=["failure", "ctrl-c"])
def test_a_failure_or_interruption_while_writing_leaves_the_old_file_byte_identical(existing, monkeypatch, stop):
    out, before = existing
    files_before = _only(out.parent)

    def broken(prepared, path):
        duckdb.connect(str(path)).close()  # half-written temp file
        raise stop("disk full")

    monkeypatch.setattr(load, "write_database", broken)
    with pytest.raises(stop):
        _import("subscriptions", out)
    assert out.read_bytes() == before
    assert _only(out.parent) == files_before  # no temp file left


def test_a_failed_import_leaves_no_connection_in_its_traceback(existing, monkeypatch):
    # A caller that keeps the exception (a page showing it, pytest's parameters) keeps the
    # frames of its traceback; were the staging connection among their locals, it would
    # live to the interpreter's exit, where DuckDB's bindings print ~40 "nanobind: leaked
    # instance" lines (issue 17).
    out, _ = existing

    def broken(prepared, path):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "write_database", broken)
    with pytest.raises(RuntimeError) as err:
        _import("subscriptions", out)
    frames, tb = [], err.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    assert any(f.f_code.co_name == "run_import" for f in frames)
    held = [(f.f_code.co_name, name) for f in frames for name, value in f.f_locals.items()
            if isinstance(value, (duckdb.DuckDBPyConnection, load._Stage))]
    assert held == []


def test_a_successful_import_keeps_the_previous_file_as_bak(existing):
    out, before = existing
    report = _import("subscriptions", out)
    assert report.backup == out.with_name("radar.duckdb.bak")
    assert report.backup.read_bytes() == before
    assert _info(out)["currency"] == "EUR"  # the new data is in place


def test_make_import_target_exists():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "import:" in makefile and "analytics.load --mapping $(MAPPING)" in makefile


def test_the_example_mapping_in_docs_is_a_valid_mapping():
    root = Path(__file__).resolve().parents[2]
    mapping = load.read_mapping(root / "docs" / "example-mapping.toml")
    assert set(mapping.entities) == {"customers", "revenue", "touchpoints"}
    assert mapping.entities["revenue"].shape == "subscriptions"
    assert mapping.entities["customers"].values["contract_type"].closed


def test_single_snapshot_tenure_and_churned_flag(tmp_path):
    out = tmp_path / "snapshot.duckdb"
    report = _import("snapshot", out)
    # signup = as-of date (2024-12-31) minus the tenure in months (month ends clip: Feb 28);
    # the churned one gets the as-of date as churn date; a row without tenure is rejected
    assert _rows(out, "select customer_id, signup_date, churn_date, contract_type, monthly_revenue "
                      "from customers order by 1") == [
        (1, date(2024, 11, 30), None, "month_to_month", 29.85),
        (2, date(2022, 2, 28), None, "annual", 56.95),
        (3, date(2024, 10, 31), date(2024, 12, 31), "month_to_month", 53.85),
    ]
    customers = report.files[0]
    assert (customers.read, customers.kept, customers.reasons) == (
        4, 3, {"missing value in a required column": 1})
    assert any(g.startswith("signup dates of 3 customers derived") for g in report.guesses)
    assert any(g.startswith("1 customers flagged churned") for g in report.guesses)
    assert _info(out)["history_start"] == "2022-02-28"


def test_tenure_without_an_as_of_date_is_refused(tmp_path):
    folder = tmp_path / "snap"
    shutil.copytree(DATA / "snapshot", folder)
    text = (folder / "mapping.toml").read_text().replace('as_of_date = "2024-12-31"\n', "")
    (folder / "mapping.toml").write_text(text)
    with pytest.raises(load.ImportFailed, match="set as_of_date in the mapping's"):
        load.run_import(load.read_mapping(folder / "mapping.toml"), folder / "out.duckdb")


def test_constants_fill_a_column_the_export_lacks(tmp_path):
    (tmp_path / "c.csv").write_text("id,signup_date\n1,2024-01-01\n2,2024-02-01\n")
    (tmp_path / "t.csv").write_text("cust,opened\n1,2024-03-01 10:00:00\n2,2024-03-02 11:00:00\n")
    raw = {"import": {"as_of_date": "2024-06-30", "margin_rate": 0.5},
           "customers": {"file": "c.csv", "columns": {"customer_id": "id"}},
           "touchpoints": {"file": "t.csv", "columns": {"customer_id": "cust", "occurred_at": "opened"},
                           "constants": {"kind": "service_request", "channel": "email"}}}
    report = load.run_import(load.mapping_from_dict(raw, tmp_path), tmp_path / "out.duckdb")
    assert _rows(tmp_path / "out.duckdb", "select touchpoint_id, customer_id, kind, channel from touchpoints "
                                          "order by 1") == [(1, 1, "service_request", "email"),
                                                            (2, 2, "service_request", "email")]
    assert "touchpoints: kind = 'service_request' on every row (a constant of the mapping)" in report.notes
    # neither a churn date nor a flag: all active, and the report says so
    assert "no churn date or churned flag mapped: every customer is taken as active" in report.guesses
    raw["touchpoints"]["constants"]["csat"] = "great"
    with pytest.raises(load.ImportFailed, match=r"csat = 'great' is not a whole number"):
        load.run_import(load.mapping_from_dict(raw, tmp_path), tmp_path / "out.duckdb")


def test_ids_equal_after_trimming_are_duplicates(tmp_path):
    # " 7" and "7" are one customer id once read: both rows rejected, none silently merged
    (tmp_path / "c.csv").write_text("id,signup_date\n7,2024-01-01\n 7,2024-02-01\n8,2024-02-01\n")
    raw = {"import": {"as_of_date": "2024-06-30", "margin_rate": 0.5, "max_reject_share": 1.0},
           "customers": {"file": "c.csv", "columns": {"customer_id": "id"}}}
    report = load.run_import(load.mapping_from_dict(raw, tmp_path), tmp_path / "out.duckdb")
    assert report.files[0].reasons == {"duplicate id (every row with this id is rejected)": 2}
    assert _rows(tmp_path / "out.duckdb", "select customer_id from customers") == [(8,)]


def test_a_cell_of_spaces_in_a_required_column_is_missing_and_no_staging_file_is_left(tmp_path):
    # "   " as a signup date is no date: rejected as missing (not kept with an empty date);
    # the staging database and its spill folder are gone after the import
    (tmp_path / "c.csv").write_text("id,signup_date\n7,   \n8,2024-02-01\n")
    raw = {"import": {"as_of_date": "2024-06-30", "margin_rate": 0.5, "max_reject_share": 1.0},
           "customers": {"file": "c.csv", "columns": {"customer_id": "id"}}}
    report = load.run_import(load.mapping_from_dict(raw, tmp_path), tmp_path / "out.duckdb")
    assert report.files[0].reasons == {"missing value in a required column": 1}
    assert _rows(tmp_path / "out.duckdb", "select customer_id, signup_date from customers") == [(8, date(2024, 2, 1))]
    rejects = pd.read_csv(tmp_path / "out.duckdb.rejects.csv", dtype=str, keep_default_na=False)
    assert [tuple(r) for r in rejects.itertuples(index=False)] == [
        ("c.csv", "2", "signup_date", "   ", "missing value in a required column")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "out.duckdb", "out.duckdb.rejects.csv"]


def test_parquet_rows_count_from_one_and_rejected_cells_show_as_stored(tmp_path):
    # Parquet has no header row: the first record is row 1. Row 2 fails twice (cost < 0 and
    # a duplicate id): one reason, the first in the order of their column names ("cost" <
    # "id"); row 3 is the other copy of id 2.
    pd.DataFrame({"id": [1, 2, 2], "joined": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                  "cost": [10.0, -5.0, 1.0]}).to_parquet(tmp_path / "c.parquet")
    raw = {"import": {"as_of_date": "2024-06-30", "margin_rate": 0.5, "max_reject_share": 1.0},
           "customers": {"file": "c.parquet", "columns": {"customer_id": "id", "signup_date": "joined",
                                                          "acquisition_cost": "cost"}}}
    report = load.run_import(load.mapping_from_dict(raw, tmp_path), tmp_path / "out.duckdb")
    rejects = pd.read_csv(tmp_path / "out.duckdb.rejects.csv", dtype=str, keep_default_na=False)
    assert [tuple(r) for r in rejects.itertuples(index=False)] == [
        ("c.parquet", "2", "acquisition_cost", "-5.0", "out of range (must be at least 0)"),
        ("c.parquet", "3", "customer_id", "2", "duplicate id (every row with this id is rejected)")]
    assert (report.files[0].read, report.files[0].kept) == (3, 1)
    assert _rows(tmp_path / "out.duckdb", "select customer_id, signup_date, acquisition_cost from customers") == [
        (1, date(2024, 1, 1), 10.0)]


def test_a_short_row_has_missing_cells_and_a_latin1_file_gets_a_clear_message(tmp_path):
    # row 3 stops after the id: its signup date is missing (rejected, not a read error)
    (tmp_path / "c.csv").write_text("id,signup_date\n7,2024-01-01\n8\n")
    raw = {"import": {"as_of_date": "2024-06-30", "margin_rate": 0.5, "max_reject_share": 1.0},
           "customers": {"file": "c.csv", "columns": {"customer_id": "id"}}}
    report = load.run_import(load.mapping_from_dict(raw, tmp_path), tmp_path / "out.duckdb")
    rejects = pd.read_csv(tmp_path / "out.duckdb.rejects.csv", dtype=str, keep_default_na=False)
    assert [tuple(r) for r in rejects.itertuples(index=False)] == [
        ("c.csv", "3", "signup_date", "", "missing value in a required column")]
    assert (report.files[0].read, report.files[0].kept) == (2, 1)
    (tmp_path / "c.csv").write_bytes("id,signup_date,city\n7,2024-01-01,Sé\n".encode("latin-1"))
    with pytest.raises(load.ImportFailed, match=r"c.csv is not UTF-8 text; save it as CSV UTF-8.$"):
        load.run_import(load.mapping_from_dict(raw, tmp_path), tmp_path / "out2.duckdb")
    assert not (tmp_path / "out2.duckdb").exists()


def test_data_page_helpers_values_and_suggestions():
    preview = load.preview_source(DATA / "rejects" / "customers.csv", rows=3)
    # 11 data rows; the first three as text, as the file has them
    assert preview.rows == 11
    assert list(preview.head["Joined"]) == ["01/01/2024", "15/01/2024", "2024-02-01"]
    # most frequent first: DSL ×6, Satellite ×3, Fiber optic ×1
    assert preview.distinct_values("Plan") == ["DSL", "Satellite", "Fiber optic"]
    assert preview.distinct_values("Plan", limit=2) == ["DSL", "Satellite"]
    assert load.value_map(["DSL", "Satellite", "Fiber optic"], ["basic", "Satellite", " premium "]) == {
        "DSL": "basic", "Fiber optic": "premium"}
    assert load.suggest_column("customer_id", preview.columns) == "Customer ID"
    assert load.suggest_column("signup_date", preview.columns) is None
    assert load.entity_columns("revenue", "subscriptions") == [
        ("customer_id", True), ("mrr", True), ("start", True), ("end", False)]
    raw = {"import": {"date_format": "%d/%m/%Y"}, "customers": {
        "file": "c.csv", "columns": {"customer_id": "Customer ID"},
        "values": {"plan": {"closed": True, "map": {"Fiber optic": "premium"}}}}}
    import tomllib
    assert tomllib.loads(load.mapping_to_toml(raw, "written by a test")) == raw


def test_a_rollup_failure_is_reported_and_the_import_still_lands(tmp_path, monkeypatch):
    import analytics.rollups

    def broken(db):
        raise RuntimeError("no rollups today")

    monkeypatch.setattr(analytics.rollups, "build_rollups", broken)
    out = tmp_path / "inv.duckdb"
    report = _import("invoices", out)
    assert report.accepted and out.is_file()
    assert any(n.startswith("rollups not built (RuntimeError: no rollups today)") for n in report.notes)
