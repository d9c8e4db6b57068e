"""Spreadsheet exports never carry a live formula (OWASP CSV injection): the one rule of
analytics/export.py, the bytes of CSV and Excel downloads, the at-risk list's export, the
import's rejects file, and a guard that every export of the app goes through it."""

from __future__ import annotations

import ast
import io
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analytics import load
from analytics import formatting as fmt
from analytics.at_risk import at_risk_customers, export_frame, readable_export_frame
from analytics.db import open_database
from analytics.export import csv_bytes, excel_bytes, formula_safe, spreadsheet_safe
from analytics.filters import RetentionFilter
from analytics.schema import OPTIONAL_TABLES
from tests.builders import build_database
from tests.unit.test_at_risk_list import score

ROOT = Path(__file__).resolve().parents[2]
HYPERLINK = '=HYPERLINK("http://x","a")'


def crafted() -> pd.DataFrame:
    return pd.DataFrame({
        "name": pd.Series([HYPERLINK, "+1 555", "@SUM(A1)", "-2+3", "Dana Levi", "-5"], dtype="string"),
        "balance": [-12.5, 3.0, -0.25, 0.0, 7.0, -5.0],
        "note": [None, "\tcmd", "\r=1", "a=b", "-", "+972501234567"],
    })


def test_text_starting_a_formula_is_quoted_numbers_and_other_text_are_not():
    out = spreadsheet_safe(crafted())
    assert out["name"].tolist() == ["'" + HYPERLINK, "'+1 555", "'@SUM(A1)", "'-2+3", "Dana Levi", "-5"]
    assert str(out["name"].dtype) == "string"
    # a negative number stored as a number is no text: same values, same dtype
    assert out["balance"].dtype == "float64" and out["balance"].tolist() == [-12.5, 3.0, -0.25, 0.0, 7.0, -5.0]
    # tab and CR lead too; "a=b" does not start with a trigger; a lone "-" is no number;
    # a plain signed number (an E.164 phone) stays as typed
    assert out["note"].tolist()[1:] == ["'\tcmd", "'\r=1", "a=b", "'-", "+972501234567"]
    assert out["note"].isna().tolist()[0]
    assert crafted()["name"].tolist()[0] == HYPERLINK  # the input frame is not changed


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("-5", "-5"), ("+3.25", "+3.25"), ("-1.5e3", "-1.5e3"), ("-.5", "-.5"),
    ("-5)", "'-5)"), ("- 5", "'- 5"), ("@", "'@"), ("", ""), (-5, -5), (None, None),
])
def test_formula_safe(value, expected):
    assert formula_safe(value) == expected


def test_csv_bytes_exact():
    text = csv_bytes(crafted()).decode("utf-8")
    # rows end in CRLF, so the cell holding a CR is quoted and stays one cell; pandas doubles
    # the quotes of HYPERLINK's arguments
    assert text == ('name,balance,note\r\n'
                    '"\'=HYPERLINK(""http://x"",""a"")",-12.5,\r\n'
                    "'+1 555,3.0,'\tcmd\r\n"
                    '\'@SUM(A1),-0.25,"\'\r=1"\r\n'
                    "'-2+3,0.0,a=b\r\n"
                    "Dana Levi,7.0,'-\r\n"
                    "-5,-5.0,+972501234567\r\n")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["note"].tolist()[2] == "'\r=1" and len(back) == 6


def test_column_names_are_cells_too():
    frame = pd.DataFrame({"=cmd": [1], "ok": ["x"]})
    assert csv_bytes(frame).decode().split("\r\n")[0] == "'=cmd,ok"


def test_excel_cells_are_text_never_formulas():
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes(crafted(), sheet="At risk")))
    ws = book["At risk"]
    assert [c.value for c in ws[1]] == ["name", "balance", "note"]
    names = [ws.cell(row=r, column=1) for r in range(2, 8)]
    assert [c.value for c in names] == ["'" + HYPERLINK, "'+1 555", "'@SUM(A1)", "'-2+3", "Dana Levi", "-5"]
    assert {c.data_type for c in names} == {"s"}  # strings, not formulas ("f")
    assert [ws.cell(row=r, column=2).value for r in range(2, 8)] == [-12.5, 3, -0.25, 0, 7, -5]
    # no hyperlink cells made out of URL-looking text
    assert not any(c.hyperlink for row in ws.iter_rows() for c in row)


def test_excel_without_the_quote_would_still_be_text():
    # belt and braces: xlsxwriter's strings_to_formulas is off, so even a cell that escaped
    # the quote (it cannot, through excel_bytes) would be written as a string
    from analytics import export
    frame = pd.DataFrame({"name": [HYPERLINK]})
    original = export.spreadsheet_safe
    try:
        export.spreadsheet_safe = lambda f: f.copy()
        book = openpyxl.load_workbook(io.BytesIO(export.excel_bytes(frame)))
    finally:
        export.spreadsheet_safe = original
    cell = book["Data"]["A2"]
    assert cell.value == HYPERLINK and cell.data_type == "s"


def test_at_risk_export_is_quoted(tmp_path):
    # the at-risk page's download = csv_bytes / excel_bytes of export_frame (pages/at_risk.py)
    frame = export_frame(_two_customer_list(tmp_path))  # defined with the presets' tests below
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), dtype=str, keep_default_na=False).set_index("customer_id")
    assert back.loc["1", "full_name"] == "'" + HYPERLINK
    assert back.loc["1", "owner"] == "'@owner"
    assert back.loc["1", "reason_1"] == "'-2+3 reason"
    assert back.loc["1", "phone"] == "+972501234567"  # a dialer's E.164 number is not quoted
    assert back.loc["2", "full_name"] == "Dana Levi"
    assert float(back.loc["1", "expected_loss"]) == pytest.approx(500.0)


# --- the at-risk export's two presets: readable and the dialer's machine layout ----------------

def _two_customer_list(tmp_path):
    """Customer 1 with a formula for a name, an '@' owner and a reason starting '-2+3';
    customer 2 plain. Scores of 31 Dec 2024: p 0.5 / 0.2, future value 1000 each."""
    customers = [
        {"customer_id": 1, "full_name": HYPERLINK, "phone": "050-1234567", "email": "a@x.com",
         "account_owner": "@owner", "segment": "small_business", "plan": "basic", "signup_date": date(2023, 1, 1)},
        {"customer_id": 2, "full_name": "Dana Levi", "account_owner": "A", "segment": "consumer", "plan": "pro",
         "signup_date": date(2023, 1, 1)},
    ]
    day = date(2024, 12, 31)
    scores = [score(1, day, 0.5, 1000, ("contract", None, None), texts=("-2+3 reason", "Long waits", None)),
              score(2, day, 0.2, 1000, rank=2)]
    path = build_database(tmp_path / "x.duckdb", customers=customers,
                          schema_info={"as_of_date": "2024-12-31", "history_start": "2023-01-01"},
                          extra_tables={"churn_scores": (OPTIONAL_TABLES["churn_scores"], scores)})
    db = open_database(path)
    try:
        return at_risk_customers(db, RetentionFilter(date(2024, 1, 1), day))
    finally:
        db.close()


READABLE_HEADERS = ["Rank", "Customer", "ID", "Phone", "E-mail", "Status", "Case owner", "Follow-up", "Churn risk",
                    "Expected loss", "Future value", "Predicted CLV", "Tier", "Reasons", "Last contact",
                    "Days since contact", "Segment", "Plan", "Owner"]


def test_readable_preset_has_the_pages_headers_and_formats_and_is_quoted(tmp_path):
    cases = pd.DataFrame({"customer_id": [1], "status": ["offer_made"], "owner": ["=cmd|' /C calc'!A0"],
                          "follow_up_date": [pd.Timestamp("2025-01-07")]})
    frame = readable_export_frame(_two_customer_list(tmp_path), cases)
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), dtype=str, keep_default_na=False)
    assert list(back.columns) == READABLE_HEADERS
    money = fmt.currency_symbol()
    first, second = back.to_dict("records")
    assert first == {
        "Rank": "1", "Customer": "'" + HYPERLINK, "ID": "1", "Phone": "050-1234567", "E-mail": "a@x.com",
        "Status": "Offer made", "Case owner": "'=cmd|' /C calc'!A0", "Follow-up": "07 Jan 2025",
        "Churn risk": "50%", "Expected loss": f"{money}500", "Future value": f"{money}1,000",
        "Predicted CLV": f"{money}1,500",  # historical 500 (score(): future / 2) + future 1000
        "Tier": "Platinum",  # 2 scored: rank 0 < 0.1 × 2 is platinum, rank 1 < 0.6 × 2 silver (ties by id)
        "Reasons": "'-2+3 reason; Long waits", "Last contact": "—", "Days since contact": "never",
        "Segment": "Small business", "Plan": "Basic", "Owner": "'@owner"}
    assert (second["Customer"], second["Status"], second["Case owner"], second["Follow-up"], second["Tier"],
            second["Churn risk"], second["Phone"]) == ("Dana Levi", "New", "—", "—", "Silver", "20%", "—")


def test_readable_preset_without_a_store_leaves_the_case_columns_blank(tmp_path):
    frame = readable_export_frame(_two_customer_list(tmp_path), cases=None)
    assert frame[["Status", "Case owner", "Follow-up"]].eq("").all().all()


def test_dialer_preset_leads_with_the_dialers_columns(tmp_path):
    frame = export_frame(_two_customer_list(tmp_path))
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), dtype=str, keep_default_na=False)
    assert list(back.columns) == [
        "customer_id", "phone", "full_name", "priority", "reason_code", "reason_1", "reason_2", "reason_3",
        "phone_local", "email", "owner", "segment", "region", "plan", "contract_type", "churn_probability_90d",
        "expected_loss", "clv_future", "clv_predicted", "value_tier", "last_contact_date", "days_since_contact",
        "scored_on"]
    first = back.iloc[0]
    assert (first["customer_id"], first["phone"], first["full_name"], first["priority"], first["reason_code"]) == (
        "1", "+972501234567", "'" + HYPERLINK, "1", "contract")
    assert first["reason_1"] == "'-2+3 reason" and first["owner"] == "'@owner"
    assert first["segment"] == "small_business" and first["value_tier"] == "platinum"  # codes, not labels
    assert first["scored_on"] == "2024-12-31" and first["churn_probability_90d"] == "0.5"
    assert back.iloc[1]["phone"] == "" and back.iloc[1]["reason_code"] == ""  # no valid phone, no driver


def test_rejects_file_uses_the_same_rule(tmp_path):
    (tmp_path / "c.csv").write_text('id,signup_date,cost\n1,2024-01-01,"=HYPERLINK(""http://x"",""a"")"\n'
                                    "2,2024-01-01,-5\n3,2024-01-01,-2+3\n4,2024-01-01,1\n")
    raw = {"import": {"as_of_date": "2024-06-30", "margin_rate": 0.5, "max_reject_share": 1.0},
           "customers": {"file": "c.csv", "columns": {"customer_id": "id", "acquisition_cost": "cost"}}}
    load.run_import(load.mapping_from_dict(raw, tmp_path), tmp_path / "out.duckdb")
    rejects = pd.read_csv(tmp_path / "out.duckdb.rejects.csv", dtype=str, keep_default_na=False)
    assert rejects["value"].tolist() == ["'" + HYPERLINK, "-5", "'-2+3"]


# --- every export of the app goes through analytics/export.py ---------------------------------

SOURCE_DIRS = ("pages", "dashboard", "reports", "analytics", "charts")


def _calls(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
            yield node


def test_no_spreadsheet_writer_outside_the_export_module():
    found = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text())
            for name in ("to_csv", "to_excel", "write_csv"):
                for call in _calls(tree, name):
                    found.append((path.relative_to(ROOT).as_posix(), name, ast.get_source_segment(path.read_text(), call)))
    outside = [(p, n) for p, n, _ in found if p != "analytics/export.py"]
    # the rejects file is written by DuckDB with the same rule in SQL (formula_guard_sql)
    assert outside == [("analytics/load.py", "write_csv")]
    load_call = next(src for p, n, src in found if p == "analytics/load.py")
    assert "params=params" in load_call


def test_every_spreadsheet_download_button_goes_through_csv_or_excel_bytes():
    buttons = []
    for folder in ("pages", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text()
            for call in _calls(ast.parse(text), "download_button"):
                source = ast.get_source_segment(text, call)
                if ".csv" in source or ".xlsx" in source or "text/csv" in source:
                    buttons.append((path.relative_to(ROOT).as_posix(), source))
    assert len(buttons) >= 4
    for where, source in buttons:
        # the import's rejects file was written with the rule already (test above)
        assert "csv_bytes(" in source or "excel_bytes(" in source or "rejects" in source, (where, source)
