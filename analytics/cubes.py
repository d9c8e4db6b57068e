"""Cubes per period, slices per filter: how a filter change costs milliseconds on any engine.

A metric that a page re-runs whenever the sidebar changes is split in two:

- its **cube** — one plain Ibis query over the whole population for the period (the
  filter's dates and arguments only), grouped by the filter dimensions (`POPULATION`:
  segment, region, plan; and `channel` for contact metrics) plus the metric's own keys,
  holding only *additive* measures (counts and sums);
- its **slice** — pure pandas: keep the rows whose dimension values the filter selects,
  sum the measures over the metric's keys, then the metric's usual ratio code.

Summing is exact because every customer sits in exactly one (segment, region, plan) cell,
and every touchpoint in one channel: a count or a sum over the selected customers is the
sum of the selected cells. A measure that is not additive over a dimension (customers
*with* a contact, counted once over several channels; a quantile; a survival curve) is not
put in a cube over it: such a builder takes the channel filter in its query
(`by_channel=False`), or stays one plain query per filter — unless it can be rebuilt from
additive counts (quantiles from a bounded histogram of counts per value,
`service.service_levels`) or merged from per-cell parts (an exact top-k: `merge`).

The cube of a read-only database (the dashboard's; its file cannot change while it is
open, analytics/db.py) is kept on the `Database` per (builder, period, arguments) — a
change of segment, region, plan or channel is then a dictionary hit plus the slice; a
writable database (tests, build commands) is queried on each call. NULL dimension values
(a customer without a segment) are a cell of their own: counted under "all", never by a
filter naming values. See docs/decisions/016-cubes-per-period.md.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

import ibis
import pandas as pd

from analytics.db import Database
from analytics.filters import RetentionFilter, customers

# Customer attributes a filter restricts by, and the filter field holding its choice.
POPULATION: dict[str, str] = {"segment": "segments", "region": "regions", "plan": "plans"}
CHANNEL = ("channel", "channels")

_KEPT = "cubes"  # key in Database.read_only_facts
_CUBES_PER_DATABASE = 512

Builder = Callable[..., ibis.Table]

# Every cube, by "module.function" of its builder (tests/unit/test_cubes.py proves each
# slice equal to its live query).
CUBES: dict[str, Callable[..., pd.DataFrame]] = {}


class _Kept:
    """The most recently used cubes of one database (thread-safe)."""

    def __init__(self, size: int) -> None:
        self._frames: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple) -> pd.DataFrame | None:
        with self._lock:
            frame = self._frames.get(key)
            if frame is not None:
                self._frames.move_to_end(key)
            return frame

    def put(self, key: tuple, frame: pd.DataFrame) -> None:
        with self._lock:
            self._frames[key] = frame
            while len(self._frames) > self._size:
                self._frames.popitem(last=False)


def _kept(db: Database) -> _Kept:
    kept = db.read_only_facts.get(_KEPT)
    if kept is None:
        kept = db.read_only_facts.setdefault(_KEPT, _Kept(_CUBES_PER_DATABASE))
    return kept


def whole_population(flt: RetentionFilter, by_channel: bool = True) -> RetentionFilter:
    """`flt` without its population choices (and without its channels when the cube holds
    the channel): the filter a cube is computed, and kept, for."""
    cleared = {field: () for field in POPULATION.values()}
    if by_channel:
        cleared[CHANNEL[1]] = ()
    return replace(flt, **cleared)


def population(db: Database, flt: RetentionFilter) -> ibis.Table:
    """(customer_id + the `POPULATION` columns) of the filter's customers: what a cube over
    touchpoints or revenue rows left-joins to get each row's cell."""
    return customers(db, flt).select("customer_id", *POPULATION)


def with_cells(db: Database, flt: RetentionFilter, rows: ibis.Table) -> ibis.Table:
    """`rows` (with a ``customer_id``) with their customer's segment, region and plan.

    A left join: a row whose customer has no record keeps NULL cells, so it counts under
    "all" — exactly as the row filters count it (analytics/filters.py) — and under no
    named value."""
    p = population(db, flt).rename(cell_customer_id="customer_id")
    joined = rows.left_join(p, rows.customer_id == p.cell_customer_id)
    return joined.drop("cell_customer_id")


def selected_rows(rollup: ibis.Table, flt: RetentionFilter, channel: bool) -> ibis.Table:
    """The rows of a stored rollup (the `POPULATION` columns, and ``channel`` when
    `channel`) whose cell and channel `flt` selects: `selected_cells` in the query, for a
    cube read from a rollup by a `live` call (a kept cube's whole population has no choices)."""
    for column, field in list(POPULATION.items()) + ([CHANNEL] if channel else []):
        chosen = getattr(flt, field)
        if chosen:
            rollup = rollup.filter(rollup[column].isin(chosen))
    return rollup


def from_daily_rollup(r: ibis.Table, flt: RetentionFilter, measures: Sequence[str], present: str,
                      by_month: bool = True) -> ibis.Table:
    """A cube summed from a stored daily rollup `r` (a ``day`` column, the `POPULATION`
    and ``channel`` columns, additive measures): the `measures` summed over the filter's
    days (and, for `live` calls, its cells and channels), grouped by cell and channel (and
    ``month`` when `by_month`). The stored form of a contact cube, per day instead of per
    month, so any period is answered exactly (docs/decisions/009-metric-rollups.md).

    `present` names the rollup column counting the rows the live query groups: a rollup
    shared by several cubes has days where one cube's rows are absent, and only days where
    it is positive are summed, so the cube has exactly the live query's groups."""
    r = selected_rows(r.filter(r.day >= flt.start, r.day <= flt.end, r[present] > 0), flt, channel=True)
    keys = {"month": r.day.truncate("M").cast("date")} if by_month else {}
    return r.group_by(*POPULATION, CHANNEL[0], **keys).aggregate(**{m: r[m].sum() for m in measures})


def fetch(db: Database, expr: ibis.Table) -> pd.DataFrame:
    """The rows of `expr` as pandas, with the column types `Backend.to_pandas` gives (dates
    as datetime64[s], timestamps in the engine's unit, strings and NULL-holding booleans
    as objects, integers holding NULL as floats), read through the public `to_pyarrow`. Why not
    `to_pandas`: Ibis's DuckDB backend turns every value of a column that holds a NULL
    into a Python object one by one (`to_pylist`), and a cube's cell columns hold NULL for
    contacts of customers without a record — 0.17 s of the 0.27 s it took to read the
    176k-row wait histogram at 1M customers; Arrow converts the same columns at once."""
    frame = db.ibis().to_pyarrow(expr).to_pandas()
    for name, dtype in expr.schema().items():
        if dtype.is_date():  # Arrow gives datetime.date objects, Ibis datetime64[s]
            frame[name] = pd.to_datetime(frame[name]).astype("datetime64[s]")
    return frame


def selected_cells(frame: pd.DataFrame, flt: RetentionFilter, channel: bool) -> pd.DataFrame:
    """The rows of a cube whose cell (and channel, when `channel`) the filter selects."""
    keep = pd.Series(True, index=frame.index)
    for column, field in list(POPULATION.items()) + ([CHANNEL] if channel else []):
        chosen = getattr(flt, field)
        if chosen:
            keep &= frame[column].isin(chosen)
    return frame.loc[keep]


def slice_cube(frame: pd.DataFrame, flt: RetentionFilter, keys: Sequence[str],
               channel: bool) -> pd.DataFrame:
    """The filter's rows of a cube, summed over the metric's `keys` (every other
    non-dimension column is a measure). Keys come back as columns, in sorted order; an
    empty selection gives an empty frame with the key and measure columns."""
    dims = list(POPULATION) + ([CHANNEL[0]] if channel else [])
    measures = [c for c in frame.columns if c not in dims and c not in keys]
    picked = selected_cells(frame, flt, channel)
    if not keys:
        return picked[measures].sum().to_frame().T.astype(frame[measures].dtypes.to_dict())
    summed = picked.groupby(list(keys), dropna=False, sort=True)[measures].sum()
    return summed.reset_index()


def cube(keys: Sequence[str] | Callable[..., Sequence[str]] = (), by_channel: bool = False,
         channel_filter: bool = True, merge: Callable[..., pd.DataFrame] | None = None,
         ) -> Callable[[Builder], Callable[..., pd.DataFrame]]:
    """Decorator for a cube builder ``(db, flt, *args) -> ibis.Table``.

    The builder groups by ``POPULATION`` (plus ``channel`` when `by_channel`) and `keys`
    (a sequence, or a function of the builder's `args` when the keys are an argument —
    a key may itself be a `POPULATION` column, e.g. "who churns, by segment"),
    aggregating additive measures only; it reads the population through
    `analytics.filters` / `with_cells` as usual, so it also answers a restricted filter
    directly (`live`). The decorated function ``(db, flt, *args) -> DataFrame`` returns the
    filter's slice: one row per key combination (one row without keys), measures summed.
    Arguments must be hashable. ``channel_filter=False`` marks a metric the channel filter
    does not apply to (customer and revenue metrics, docs/decisions/003): its cube is kept
    without the channel choice, so changing channels costs nothing.

    `merge` ``(rows, *args) -> DataFrame`` replaces the sum for a cube whose rows are not
    additive but *mergeable*: it gets the cube's rows of the selected cells (all columns)
    and combines them — e.g. an exact top-k, where each cell holds its own top k and the
    selection's top k is the top k of their union (`keys` is then unused)."""

    def wrap(builder: Builder) -> Callable[..., pd.DataFrame]:
        def keys_of(args: tuple) -> Sequence[str]:
            return keys(*args) if callable(keys) else keys

        def slice_of(frame: pd.DataFrame, flt: RetentionFilter, args: tuple) -> pd.DataFrame:
            if merge is not None:
                return merge(selected_cells(frame, flt, by_channel), *args)
            return slice_cube(frame, flt, keys_of(args), by_channel)

        @functools.wraps(builder)
        def sliced(db: Database, flt: RetentionFilter, *args) -> pd.DataFrame:
            whole = whole_population(flt, by_channel or not channel_filter)
            frame = None
            key = (builder.__module__, builder.__qualname__, whole, args)
            if db.read_only:
                frame = _kept(db).get(key)
            if frame is None:
                frame = fetch(db, builder(db, whole, *args))
                if db.read_only:
                    _kept(db).put(key, frame)
            return slice_of(frame, flt, args)

        def live(db: Database, flt: RetentionFilter, *args) -> pd.DataFrame:
            """The same slice with the filter applied in the query instead (for tests)."""
            frame = fetch(db, builder(db, flt, *args))
            return slice_of(frame, flt, args)

        sliced.live = live
        sliced.builder = builder
        CUBES[f"{builder.__module__}.{builder.__qualname__}"] = sliced
        return sliced

    return wrap
