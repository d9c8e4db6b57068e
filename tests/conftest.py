"""Shared fixtures: one small generated sample database per test session."""

from __future__ import annotations

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
