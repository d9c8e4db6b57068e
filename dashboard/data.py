"""The one module that applies Streamlit caching to analytics calls.

- The open database is a cached *resource*, keyed by path and modification time, so a
  regenerated file is picked up without restarting the server. Each Streamlit session
  runs in its own thread and gets its own DuckDB cursor from `Database.cursor()`.
- Analytics results are cached *data* keyed by the filter, with a TTL: a page revisited
  with the same filter is instant, and a changed file ages out.
Pages call these wrappers, never `analytics` directly, so caching policy lives here.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from analytics import overview
from analytics.config import database_path
from analytics.db import Database, DatabaseError, open_database
from analytics.filters import RetentionFilter

RESULT_TTL_SECONDS = 600


@st.cache_resource(show_spinner=False)
def _open(path: str, mtime: float) -> Database:  # mtime only keys the cache
    return open_database(path, read_only=True)


def database() -> Database:
    """The configured database, opened read-only. Raises `DatabaseError` with guidance."""
    path = database_path()
    if not path.is_file():
        # let open_database phrase the message; nothing is cached for a missing file
        return open_database(path)
    return _open(str(path), path.stat().st_mtime)


def database_error() -> DatabaseError | None:
    """The reason the database cannot be used, or None when it can."""
    try:
        database()
    except DatabaseError as err:
        return err
    return None


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def schema_info(path: str) -> dict[str, str]:
    return database().schema_info()


def as_of_date() -> date:
    """The database's fixed as-of date (end of its history)."""
    return date.fromisoformat(schema_info(str(database_path()))["as_of_date"])


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def dimension_values(path: str) -> dict[str, list[str]]:
    """Distinct values of the filterable dimensions, for the sidebar's choices."""
    return overview.dimension_values(database())


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing the customer base…")
def base_snapshot(flt: RetentionFilter, as_of: date | None = None) -> overview.BaseSnapshot:
    return overview.base_snapshot(database(), flt, as_of)


def history_start() -> date:
    """First day of the database's history (earliest signup when not recorded)."""
    info = schema_info(str(database_path()))
    if "history_start" in info:
        return date.fromisoformat(info["history_start"])
    return _earliest_signup(str(database_path()))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def _earliest_signup(path: str) -> date:
    return overview.earliest_signup(database())


def generate_sample(customers: int = 50_000, seed: int = 7):
    """Create the sample database at the configured path (only used when it is missing)."""
    from sample_data.generate import generate

    summary = generate(database_path(), customers=customers, seed=seed)
    _open.clear()
    st.cache_data.clear()
    return summary
