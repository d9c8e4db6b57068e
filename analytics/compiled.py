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

In-memory tables (`ibis.memtable`: a list of periods, of as-of dates) are values too: Ibis
names each one after its data, so a new list would be a new shape. The template refers to
them as `rr_table_<n>`, and their rows are registered under that name on this thread's
cursor just before the query runs.

Everything else (numbers, labels, regex patterns, format strings) stays a literal in the
template, so a query whose thresholds change simply compiles again. Results are the same
as Ibis's own `execute`; the whole test suite runs through this path.
See docs/decisions/011-compiled-query-templates.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.types as pat

import ibis.expr.datatypes as dt
import ibis.expr.datashape as ds
import ibis.expr.operations as ops
import sqlglot as sg
import sqlglot.expressions as sge
from ibis.backends.duckdb import Backend as IbisDuckDBBackend
from ibis.backends.duckdb.converter import DuckDBPandasData
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler
from ibis.common.graph import Graph
from ibis.expr.schema import Schema
from ibis.formats.pandas import PandasData

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


def parameterise(op: ops.Node) -> tuple[ops.Node, dict[str, object], dict[str, ops.InMemoryTable]]:
    """(template, values, tables): `op` with its bindable literals replaced by `BoundValue`
    slots and its in-memory tables by tables named `rr_table_<n>`; the value of each slot;
    the in-memory table behind each name. Equal literals share one slot; slots, tables and
    self/join references are numbered in the graph's traversal order, so equal shapes give
    equal templates (Ibis numbers each `.view()` and join from a process-wide counter)."""
    graph = Graph.from_bfs(op)
    bindable: dict[ops.Literal, bool] = {}
    leaves: dict[ops.Node, ops.Node] = {}
    references: dict[ops.Reference, int] = {}
    tables: dict[str, ops.InMemoryTable] = {}
    for node, children in graph.items():
        if isinstance(node, ops.InMemoryTable):
            name = f"rr_table_{len(tables)}"
            tables[name] = node
            leaves[node] = ops.UnboundTable(name=name, schema=node.schema)
        elif isinstance(node, ops.Reference):
            references[node] = len(references)
        for child in children:
            if isinstance(child, ops.Literal) and _bindable(child):
                # bindable only if every parent takes it as a value
                ok = isinstance(node, _VALUE_PARENTS)
                bindable[child] = bindable.get(child, True) and ok
    values: dict[str, object] = {}
    for literal, ok in bindable.items():
        if ok:
            slot = f"p{len(values)}"
            leaves[literal] = BoundValue(slot=slot, dtype=literal.dtype)
            values[slot] = literal.value
    if not leaves and not references:
        return op, values, tables

    def rewrite(node, changed_args):
        if node in leaves:
            return leaves[node]
        if isinstance(node, ops.Reference):
            args = dict(changed_args or zip(node.__argnames__, node.__args__))
            args["identifier"] = references[node]
            return type(node)(**args)
        return node.__recreate__(changed_args) if changed_args else node

    return op.replace(rewrite), values, tables


class KeptLRU:
    """A thread-safe mapping that keeps its `size` most recently used entries, counting
    hits and misses (compiled SQL here, query plans in analytics/plans.py)."""

    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[tuple, object] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> tuple[bool, object]:
        """(found, value); a found entry becomes the most recently used."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return True, self._entries[key]
            self.misses += 1
            return False, None

    def has(self, key: tuple) -> bool:
        with self._lock:
            return key in self._entries

    def keys(self) -> list[tuple]:
        with self._lock:
            return list(self._entries)

    def put(self, key: tuple, value: object) -> None:
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


class _TemplateCache(KeptLRU):
    """Compiled SQL per template; shared by every thread."""

    def sql(self, template: ops.Node, limit) -> str:
        key = (template, limit)
        found, sql = self.get(key)
        if not found:
            query = _COMPILER.to_sqlglot(template.to_expr(), limit=limit)
            sql = query.sql(dialect="duckdb", copy=False, unsupported_level=sg.ErrorLevel.RAISE)
            self.put(key, sql)
        return sql


TEMPLATES = _TemplateCache(_TEMPLATE_CACHE_SIZE)


@dataclass(frozen=True)
class Plan:
    """A table query ready to run: its compiled SQL, the value of each `$p` slot, the
    rows of each `rr_table_<n>` it reads, and the result's Ibis schema. Plain data, so it
    can be kept and run again with other values (`with_values`; analytics/plans.py)."""

    sql: str
    values: Mapping[str, object]
    tables: Mapping[str, pa.Table]
    schema: Schema

    def with_values(self, replacements: Mapping[object, object]) -> "Plan":
        """This plan with each slot value found in `replacements` swapped for its image."""
        values = {slot: replacements.get(v, v) if isinstance(v, str) else v for slot, v in self.values.items()}
        return Plan(self.sql, values, self.tables, self.schema)


def _frame(table: pa.Table) -> pd.DataFrame:
    # exactly Ibis's DuckDB `execute`: nested, dictionary and null-holding columns go
    # through Python objects, the rest through pyarrow's pandas conversion
    return pd.DataFrame({
        name: (col.to_pylist()
               if pat.is_nested(col.type) or pat.is_dictionary(col.type) or col.null_count
               else col.to_pandas())
        for name, col in zip(table.column_names, table.columns)
    })


class Backend(IbisDuckDBBackend):
    """Ibis's DuckDB backend, compiling through the template cache above."""

    def plan(self, expr, limit=None) -> Plan:
        """`expr` (a table expression) compiled through the template cache."""
        table_expr = expr.as_table()
        self._register_udfs(table_expr)
        template, values, tables = parameterise(table_expr.op())
        return Plan(
            sql=TEMPLATES.sql(template, limit),
            values=values,
            tables={name: table.data.to_pyarrow(table.schema) for name, table in tables.items()},
            schema=table_expr.schema(),
        )

    def _relation(self, plan: Plan):
        for name, table in plan.tables.items():
            # this thread's own cursor, used by one query at a time: the name is free
            self.con.register(name, table)
        return self.con.sql(plan.sql, params=dict(plan.values) or None)

    def run_plan(self, plan: Plan) -> pd.DataFrame:
        """The plan's rows as pandas, converted as `execute` converts a table expression."""
        result = self._relation(plan).to_arrow_table()
        df = DuckDBPandasData.convert_table(_frame(result), plan.schema)
        return PandasData.convert_table(df, plan.schema)

    def _to_duckdb_relation(self, expr, *, params=None, limit=None, **kwargs):
        if params or kwargs:  # Ibis scalar parameters: the stock path
            return super()._to_duckdb_relation(expr, params=params, limit=limit, **kwargs)
        if expr.as_table().schema().geospatial:
            return super()._to_duckdb_relation(expr, limit=limit)
        return self._relation(self.plan(expr, limit))
