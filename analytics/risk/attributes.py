"""Custom customer attributes as candidate features of the churn-risk model (issue 13).

An export's extra customer columns (payment method, add-on services, anything) are kept in
the optional table `customer_attributes(customer_id, attribute, value)` (text values, one
row per customer and attribute). Each attribute becomes one categorical feature
`attr_<name>` and its own driver group:

- **text** attribute: its `TOP_CATEGORIES` most frequent values (ties by value), every other
  value → "other"; no row for a customer → missing;
- **numeric-looking** attribute (at least `NUMERIC_SHARE` of its non-empty values parse as
  numbers): cut into at most `NUMERIC_BINS` quantile bins, labelled by their ranges
  ("12 to 30"); a value that does not parse → missing.

Categories are fixed at fit time from the training customers (`AttributeSpec`), so later
snapshots and the scored population see the same columns. Attributes are undated — like
contract and plan, earlier snapshots see today's values (a card limitation).
An attribute with a single category (or none) carries no signal and is skipped.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from analytics.db import Database
from analytics.risk.drivers import DriverGroup

TABLE = "customer_attributes"
TOP_CATEGORIES = 8
OTHER = "other"
NUMERIC_SHARE = 0.95
NUMERIC_BINS = 4
MAX_ATTRIBUTES = 20  # the most common attributes (by customers with a value), to bound the fit


@dataclass(frozen=True)
class AttributeSpec:
    """How one attribute becomes a feature: its column, kind and fixed categories (text) or
    bin edges (numeric, `edges` ascending, categories = the bins' labels)."""

    attribute: str
    column: str
    kind: str  # "text" | "numeric"
    categories: tuple[str, ...]
    edges: tuple[float, ...] = ()

    def group(self) -> DriverGroup:
        name, column = self.attribute, self.column
        return DriverGroup(column, (column,), lambda row: f"{name}: {row[column]}", categorical=True)

    def to_json(self) -> dict:
        return asdict(self)


def _column(attribute: str, taken: set[str]) -> str:
    base = "attr_" + (re.sub(r"[^0-9a-z]+", "_", attribute.lower()).strip("_") or "x")
    column, i = base, 2
    while column in taken:
        column, i = f"{base}_{i}", i + 1
    taken.add(column)
    return column


def _number(text: str) -> str:
    return f"{text:g}" if isinstance(text, float) else str(text)


def read_attributes(db: Database, customer_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """The table's rows (customer_id, attribute, value), empty values dropped; empty frame
    when the table does not exist."""
    if not db.has_table(TABLE):
        return pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "attribute": pd.Series(dtype="object"),
                             "value": pd.Series(dtype="object")})
    t = db.table(TABLE)
    t = t.filter(t.value.notnull() & (t.value.strip() != "")).select("customer_id", "attribute", "value")
    rows = db.ibis().to_pandas(t)
    rows["value"] = rows["value"].astype(str).str.strip()
    if customer_ids is not None:
        rows = rows[rows["customer_id"].isin(np.asarray(customer_ids))]
    # one value per customer and attribute (the first by value, deterministic)
    return rows.sort_values(["customer_id", "attribute", "value"]).drop_duplicates(["customer_id", "attribute"])


def fit_attribute_specs(rows: pd.DataFrame, customers: Sequence[int] | None = None) -> list[AttributeSpec]:
    """Specs from the training customers' rows (module docstring)."""
    if customers is not None:
        rows = rows[rows["customer_id"].isin(np.asarray(customers))]
    counts = rows.groupby("attribute")["customer_id"].nunique().sort_values(ascending=False, kind="stable")
    taken: set[str] = set()
    specs = []
    for attribute in list(counts.index)[:MAX_ATTRIBUTES]:
        values = rows.loc[rows["attribute"] == attribute, "value"]
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().mean() >= NUMERIC_SHARE and numbers.nunique() > NUMERIC_BINS:
            edges = np.unique(np.quantile(numbers.dropna(), np.linspace(0, 1, NUMERIC_BINS + 1)))
            if len(edges) < 3:
                continue
            labels = tuple(f"{_number(float(a))} to {_number(float(b))}" for a, b in zip(edges[:-1], edges[1:]))
            specs.append(AttributeSpec(attribute, _column(attribute, taken), "numeric", labels,
                                       tuple(float(e) for e in edges)))
            continue
        freq = values.value_counts()
        freq = freq.sort_index().sort_values(ascending=False, kind="stable")  # ties by value
        top = tuple(freq.index[:TOP_CATEGORIES])
        categories = top + ((OTHER,) if len(freq) > TOP_CATEGORIES else ())
        if len(categories) < 2:
            continue
        specs.append(AttributeSpec(attribute, _column(attribute, taken), "text", categories))
    return specs


def attribute_columns(rows: pd.DataFrame, specs: Sequence[AttributeSpec], customer_ids: pd.Series) -> pd.DataFrame:
    """One categorical column per spec for `customer_ids` (in their order)."""
    out = pd.DataFrame(index=customer_ids.index)
    for spec in specs:
        values = rows.loc[rows["attribute"] == spec.attribute].set_index("customer_id")["value"]
        raw = customer_ids.map(values)
        if spec.kind == "numeric":
            numbers = pd.to_numeric(raw, errors="coerce").clip(spec.edges[0], spec.edges[-1])
            codes = np.searchsorted(np.asarray(spec.edges[1:-1]), numbers.to_numpy(), side="left")
            labels = np.where(numbers.notna(), np.asarray(spec.categories, dtype=object)[np.minimum(
                codes, len(spec.categories) - 1)], None)
            out[spec.column] = pd.Categorical(labels, categories=list(spec.categories))
        else:
            mapped = raw.where(raw.isna() | raw.isin(spec.categories), OTHER)
            out[spec.column] = pd.Categorical(mapped, categories=list(spec.categories))
    return out


def with_attributes(frame: pd.DataFrame, rows: pd.DataFrame, specs: Sequence[AttributeSpec]) -> pd.DataFrame:
    """`frame` (with `customer_id`) plus the attribute columns of `specs`."""
    if not specs:
        return frame
    extra = attribute_columns(rows, specs, frame["customer_id"])
    return pd.concat([frame, extra], axis=1)
