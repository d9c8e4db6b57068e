"""Build each query once per filter *shape*; on a filter change, only bind the new values.

Building an Ibis expression is pure Python and slow: every node is validated, and every
`filter`, `select` and `join` re-derives its parent's columns. A dashboard page builds
10–20 queries, which costs more than DuckDB needs to run them on the 50k sample. Yet a
filter change (another segment, region, plan or channel) asks the *same* queries with
other values. So a query builder decorated with `@query` is built once per

    (builder, arguments, period start and end, number of segments, regions, plans, channels)

with placeholder values in the filter, compiled to SQL (analytics/compiled.py binds every
filter value as a `$p` parameter), and kept. The next call of that shape binds the real
values to the kept SQL and runs it — no Ibis, no compilation.

The builder must be a function ``(db, flt, *args) -> ibis.Table`` whose query depends on
the filter's values only through Ibis expressions (``isin(flt.segments)``, via
`analytics.filters`): it must not branch on, format or look up a segment name in Python.
A placeholder that would reach the SQL text, an in-memory table or a changed value is
detected, and that query is then built with the real values on every call. Arguments
must be hashable. Plans are kept only for a read-only database (the dashboard's), whose
tables and rollups cannot change while it is open; a writable one builds every call.
See docs/decisions/012-query-plans-per-filter-shape.md.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.compiled import KeptLRU, Plan
from analytics.db import Database
from analytics.filters import RetentionFilter

# A private-use character: it cannot come from the sidebar, and marks a placeholder.
_MARK = "\ue000rr-placeholder:"
_DIMENSIONS = ("segments", "regions", "plans", "channels")
_PLANS_PER_DATABASE = 4096
_PLANS = "query plans"  # key in Database.read_only_facts

Builder = Callable[..., ibis.Table]
_used = threading.local()  # .keys: the list `recording` fills, or None
_keeping = True  # off only inside `building_every_call()` (tests compare both ways)


@contextmanager
def building_every_call() -> Iterator[None]:
    """Within this block every `@query` builds its query from the real filter, as for a
    writable database (for tests that check kept plans give the same answers)."""
    global _keeping
    _keeping = False
    try:
        yield
    finally:
        _keeping = True


def filter_shape(flt: RetentionFilter) -> tuple:
    """What a query's structure depends on: the period, and how many values each list has."""
    return (flt.start, flt.end) + tuple(len(getattr(flt, d)) for d in _DIMENSIONS)


def placeholder_filter(flt: RetentionFilter) -> RetentionFilter:
    """`flt` with each segment, region, plan and channel replaced by a placeholder."""
    return replace(flt, **{d: tuple(f"{_MARK}{d}:{i}" for i in range(len(getattr(flt, d)))) for d in _DIMENSIONS})


def _bindings(flt: RetentionFilter) -> dict[str, str]:
    return {f"{_MARK}{d}:{i}": value for d in _DIMENSIONS for i, value in enumerate(getattr(flt, d))}


def _reusable(plan: Plan, placeholders: RetentionFilter) -> bool:
    """Whether every placeholder in `plan` is a whole bound value (so binding the real
    values reproduces the real query), not text in the SQL, a table or a changed value."""
    if _MARK in plan.sql:
        return False
    marks = set(_bindings(placeholders))
    for value in plan.values.values():
        if isinstance(value, str) and _MARK in value and value not in marks:
            return False
    for table in plan.tables.values():
        for column in table.columns:
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                if pc.any(pc.match_substring(column, _MARK)).as_py():
                    return False
    return True


def plan_cache(db: Database) -> KeptLRU:
    """The read-only database's plans (kept with its other read-only facts); a `None`
    entry marks a query that is not reusable."""
    cache = db.read_only_facts.get(_PLANS)
    if cache is None:
        cache = db.read_only_facts.setdefault(_PLANS, KeptLRU(_PLANS_PER_DATABASE))
    return cache


def _keep(db: Database, builder: Builder, placeholders: RetentionFilter, args: tuple) -> Plan | None:
    """Build `builder`'s plan for `placeholders` (a placeholder filter) and keep it — or
    keep `None` when a placeholder escaped, so that query is built every call."""
    plan = db.ibis().plan(builder(db, placeholders, *args))
    plan = plan if _reusable(plan, placeholders) else None
    plan_cache(db).put((builder, filter_shape(placeholders), args), plan)
    return plan


def _prepare(db: Database, builder: Builder, placeholders: RetentionFilter, args: tuple) -> None:
    if not plan_cache(db).has((builder, filter_shape(placeholders), args)):  # queued twice
        _keep(db, builder, placeholders, args)


def _filter_of_shape(shape: tuple) -> RetentionFilter:
    start, end, *counts = shape
    return placeholder_filter(RetentionFilter(start, end, **{d: ("",) * n for d, n in zip(_DIMENSIONS, counts)}))


@contextmanager
def recording() -> Iterator[list[tuple]]:
    """Collect the keys of the plans this thread uses within the block (the page run
    whose next filter change dashboard/prepare.py prepares for)."""
    used: list[tuple] = []
    _used.keys = used
    try:
        yield used
    finally:
        _used.keys = None


def plans_to_prepare(db: Database, used: list[tuple], max_values: int = 3) -> list[Callable[[], None]]:
    """What the next filter change will most likely need and is not kept yet: for each
    plan in `used` (keys from `recording`), the same query with one more value selected
    in one list — segments first, then regions, plans, channels; up to `max_values` per
    list. Each item builds and keeps one plan when called (dashboard/prepare.py runs them
    while the server is idle). Empty for a writable database."""
    if not db.read_only:
        return []
    cache = plan_cache(db)
    used = list(dict.fromkeys(used))
    jobs = []
    for i, dimension in enumerate(_DIMENSIONS):
        for builder, shape, args in used:
            if shape[2 + i] >= max_values:
                continue
            grown = shape[:2 + i] + (shape[2 + i] + 1,) + shape[3 + i:]
            if not cache.has((builder, grown, args)):
                jobs.append(functools.partial(_prepare, db, builder, _filter_of_shape(grown), args))
    return jobs


def query(builder: Builder) -> Callable[..., pd.DataFrame]:
    """Decorator: `builder(db, flt, *args) -> ibis.Table` becomes
    `(db, flt, *args) -> pandas.DataFrame`, its query built once per filter shape."""

    @functools.wraps(builder)
    def run(db: Database, flt: RetentionFilter, *args) -> pd.DataFrame:
        backend = db.ibis()
        if not (db.read_only and _keeping):
            return backend.run_plan(backend.plan(builder(db, flt, *args)))
        cache = plan_cache(db)
        key = (builder, filter_shape(flt), args)
        if getattr(_used, "keys", None) is not None:
            _used.keys.append(key)
        found, plan = cache.get(key)
        if not found:
            plan = _keep(db, builder, placeholder_filter(flt), args)
        if plan is None:
            return backend.run_plan(backend.plan(builder(db, flt, *args)))
        return backend.run_plan(plan.with_values(_bindings(flt)))

    return run
