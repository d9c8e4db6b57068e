"""Unit-test fixtures: the action store on each backend it supports (decision 021).

`store_url` is parametrised: a SQLite file in tmp_path (the embedded default) and a fresh
database in a throw-away PostgreSQL cluster (tests/postgres.py; one cluster per session).
A test that takes `store_url` (or a `store` fixture built on it) runs on both."""

from __future__ import annotations

import pytest

from tests.postgres import start_cluster


@pytest.fixture(scope="session")
def postgres_cluster():
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """The URL of an empty action store, on SQLite and then on Postgres."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'actions.sqlite'}"
    return request.getfixturevalue("postgres_cluster").new_database()
