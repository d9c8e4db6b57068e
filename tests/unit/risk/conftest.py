"""Fixtures for the churn-risk tests.

`risk_run`: one full scoring run (train, backtest, score; nothing written) on the session
sample (`tests/conftest.py::sample_db_path`, 10,000 customers), shared by the module
tests that need a trained model — training is the slow part (~15 s), so it happens once.
`tiny_db`: builds a hand-checked database under tmp_path (tests.builders) and opens it
read-only; every opened database is closed at teardown.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from analytics.db import Database, open_database
from analytics.score import ScoringRun, database_as_of, score_customers
from tests.builders import build_database

_counter = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _one_openmp_thread():
    """The booster's OpenMP threads spin-wait; on a busy shared CI box two of them are
    several times slower than one, so the risk tests train single-threaded."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="session")
def risk_run(sample_db_path: Path) -> ScoringRun:
    db = open_database(sample_db_path, read_only=True)
    try:
        return score_customers(db, database_as_of(db))
    finally:
        db.close()


@pytest.fixture
def tiny_db(tmp_path: Path):
    opened: list[Database] = []

    def _make(**tables) -> Database:
        path = tmp_path / f"tiny{next(_counter)}.duckdb"
        build_database(path, **tables)
        db = open_database(path)
        opened.append(db)
        return db

    yield _make
    for db in opened:
        db.close()
