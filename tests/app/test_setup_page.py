"""AppTest: a file the dashboard cannot read shows the set-up page with a message that says
what is wrong and what to do — never a traceback — and the file is left as it was."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.app.apptest import run_page
from tests.builders import build_database

SETUP_TITLE = "Retention Radar needs a database"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "directory"


def _tiny(path: Path, *statements: str) -> Path:
    build_database(path, customers=[{"customer_id": 1, "signup_date": date(2024, 1, 5)},
                                    {"customer_id": 2, "signup_date": date(2024, 2, 1),
                                     "churn_date": date(2024, 6, 1)}])
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement)
    con.close()
    return path


def _sqlite(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("create table customers (id integer)")
    con.commit()
    con.close()
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


# each case: how the file is made, what the old code did, what the message must say
CASES = {
    # old: KeyError: 'as_of_date' traceback in the app
    "no_as_of_date": (lambda p: _tiny(p, "delete from schema_info where key = 'as_of_date'"),
                      "schema_info has no as_of_date"),
    # old: the Overview rendered its title, then IbisTypeError "Arguments churn_date:date and
    # signup_date:string are not comparable"
    "text_signup_date": (lambda p: _tiny(p, "alter table customers alter signup_date type varchar"),
                         "customers.signup_date is VARCHAR; it must be a DATE"),
    # old: "No database at …" and a button offering to generate the sample at that path
    "directory": (_directory, "is a directory, not a database file"),
    # old: "… Failed to download extension "sqlite_scanner" at URL …"
    "sqlite": (_sqlite, "is an SQLite database, not a DuckDB database"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_unreadable_file_shows_what_is_wrong(monkeypatch, tmp_path, case):
    make, expected = CASES[case]
    path = make(tmp_path / "radar.duckdb")
    before = _sha(path)
    at = run_page(monkeypatch, path)
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == SETUP_TITLE
    assert expected in at.error[0].value
    assert not at.button  # no offer to write over (or into) someone's path
    assert _sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["radar.duckdb"]
