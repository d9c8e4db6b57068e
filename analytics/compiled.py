"""Compile each query shape once: filter values and dates become bound parameters.

Turning an Ibis expression into SQL costs 5–20 ms of pure Python (rewrites + sqlglot), more
than DuckDB needs to run most dashboard queries on the 50k sample. A filter change in the
sidebar re-runs every query of a page with new *values* but the same *shape*, so this
backend compiles a template once per shape and binds the values on each run:

1. In the expression, every string, date or timestamp literal that is compared with a
   column (`isin`, `=`, `<`, `between`, …), cast, or moved by an interval is swapped for a
   `BoundValue` slot (`$p0`, `$p1`, … in the SQL).
2. The template (the expression with slots) keys a process-wide cache of compiled SQL.
3. DuckDB runs the SQL with the literal values as parameters — values never enter the SQL
   text, and DuckDB binds them before planning, so filter push-down is unchanged.

Everything else (numbers, labels, regex patterns, format strings) stays a literal in the
template, so a query whose thresholds change simply compiles again. Results are the same
as Ibis's own `execute`; the whole test suite runs through this path.
See docs/decisions/011-compiled-query-templates.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import ibis.expr.datatypes as dt
import ibis.expr.datashape as ds
import ibis.expr.operations as ops
import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.duckdb import Backend as IbisDuckDBBackend
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler
from ibis.common.graph import Graph

# Parents under which a literal is a *value* (safe to bind) rather than part of the query's
# text (a regex, a format string, a label the SQL needs as a constant).
_VALUE_PARENTS = (
    ops.InValues, ops.Equals, ops.NotEquals, ops.Less, ops.LessEqual, ops.Greater,
    ops.GreaterEqual, ops.Between, ops.Cast, ops.DateAdd, ops.DateSub, ops.TimestampAdd,
    ops.TimestampSub, ops.DateDiff, ops.TimestampDiff, ops.DateDelta, ops.TimestampDelta,
)
_TEMPLATE_CACHE_SIZE = 2048


class BoundValue(ops.Value):
    """A scalar whose value is bound at execution as the parameter `$<slot>`."""

    slot: str
    dtype: dt.DataType

    shape = ds.scalar


class _ParameterisedCompiler(DuckDBCompiler):
    def visit_BoundValue(self, op, *, slot, dtype):
        # the cast pins the parameter's type, as the literal's own type would have
        return self.cast(sge.Placeholder(this=slot), dtype)


_COMPILER = _ParameterisedCompiler()


def _bindable(literal: ops.Literal) -> bool:
    dtype = literal.dtype
    return literal.value is not None and (dtype.is_string() or dtype.is_date() or dtype.is_timestamp())


def parameterise(op: ops.Node) -> tuple[ops.Node, dict[str, object]]:
    """(template, values): `op` with its bindable literals replaced by `BoundValue` slots,
    and the value of each slot. Equal literals share one slot; slots are numbered in the
    graph's traversal order, so equal shapes give equal templates."""
    graph = Graph.from_bfs(op)
    bindable: dict[ops.Literal, bool] = {}
    for node, children in graph.items():
        for child in children:
            if isinstance(child, ops.Literal) and _bindable(child):
                # bindable only if every parent takes it as a value
                ok = isinstance(node, _VALUE_PARENTS)
                bindable[child] = bindable.get(child, True) and ok
    slots: dict[ops.Node, BoundValue] = {}
    values: dict[str, object] = {}
    for literal, ok in bindable.items():
        if ok:
            slot = f"p{len(slots)}"
            slots[literal] = BoundValue(slot=slot, dtype=literal.dtype)
            values[slot] = literal.value
    if not slots:
        return op, values
    return op.replace(slots), values


class _TemplateCache:
    """Compiled SQL per template, least recently used evicted; shared by every thread."""

    def __init__(self, size: int) -> None:
        self._sql: OrderedDict[tuple, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def sql(self, template: ops.Node, limit) -> str:
        key = (template, limit)
        with self._lock:
            sql = self._sql.get(key)
            if sql is not None:
                self._sql.move_to_end(key)
                self.hits += 1
                return sql
        query = _COMPILER.to_sqlglot(template.to_expr(), limit=limit)
        sql = query.sql(dialect="duckdb", copy=False, unsupported_level=sg.ErrorLevel.RAISE)
        with self._lock:
            self.misses += 1
            self._sql[key] = sql
            if len(self._sql) > self._size:
                self._sql.popitem(last=False)
        return sql

    def clear(self) -> None:
        with self._lock:
            self._sql.clear()
            self.hits = self.misses = 0


TEMPLATES = _TemplateCache(_TEMPLATE_CACHE_SIZE)


class Backend(IbisDuckDBBackend):
    """Ibis's DuckDB backend, compiling through the template cache above."""

    def _to_duckdb_relation(self, expr, *, params=None, limit=None, **kwargs):
        if params or kwargs:  # Ibis scalar parameters: the stock path
            return super()._to_duckdb_relation(expr, params=params, limit=limit, **kwargs)
        self._run_pre_execute_hooks(expr)  # registers in-memory tables
        table_expr = expr.as_table()
        if table_expr.schema().geospatial:
            return super()._to_duckdb_relation(expr, limit=limit)
        template, values = parameterise(table_expr.op())
        sql = TEMPLATES.sql(template, limit)
        return self.con.sql(sql, params=values or None)
