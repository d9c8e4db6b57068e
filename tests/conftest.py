"""Shared fixtures: one small generated sample database per test session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.db import Database, open_database
from sample_data.generate import generate



@pytest.fixture(scope="session")
def sample_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10,000-customer sample (seed 11), generated once per session (~2 s)."""
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    generate(path, customers=10_000, seed=11)
    return path


@pytest.fixture(scope="session")
def sample_db(sample_db_path: Path) -> Iterator[Database]:
    """The session sample opened read-only, as the dashboard opens it."""
    db = open_database(sample_db_path, read_only=True)
    yield db
    db.close()


@pytest.fixture(scope="session")
def scored_db_path(sample_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session sample with churn scores written by the real scoring command
    (`python -m analytics.score`: the as-of date plus five backfilled month-ends, and the
    model card) — what `make run` gives the dashboard. ~20 s, once per session."""
    from threadpoolctl import threadpool_limits

    from analytics.score import main as score_main

    path = tmp_path_factory.mktemp("scored") / "scored.duckdb"
    shutil.copy(sample_db_path, path)
    with threadpool_limits(limits=1, user_api="openmp"):  # see tests/unit/risk/conftest.py
        assert score_main(["--db", str(path), "--quiet"]) == 0
    return path


@pytest.fixture(scope="session")
def scored_db(scored_db_path: Path) -> Iterator[Database]:
    """The scored sample opened read-only."""
    db = open_database(scored_db_path, read_only=True)
    yield db
    db.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright, one for the whole session (its sync
    API allows one instance per process; browser tests in tests/e2e and tests/spark share
    it). Never downloads a browser."""
    import shutil

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed; `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
