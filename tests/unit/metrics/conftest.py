"""Tiny hand-checked databases for the metric tests.

`make_db(customers=..., touchpoints=..., monthly_revenue=...)` writes a database with
tests.builders.build_database under the test's tmp_path and opens it read-only, the way
the dashboard does; every opened database is closed at teardown.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from pathlib import Path

import pytest

from analytics.db import Database, open_database
from tests.builders import build_database

_counter = itertools.count()


def d(text: str) -> date:
    return date.fromisoformat(text)


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def open_built(directory: Path, **tables) -> Database:
    path = directory / f"t{next(_counter)}.duckdb"
    build_database(path, **tables)
    return open_database(path)


@pytest.fixture
def make_db(tmp_path: Path):
    opened: list[Database] = []

    def _make(**tables) -> Database:
        db = open_built(tmp_path, **tables)
        opened.append(db)
        return db

    yield _make
    for db in opened:
        db.close()
