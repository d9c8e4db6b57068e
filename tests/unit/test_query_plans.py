"""Query plans kept per filter shape (analytics/plans.py): a query is built once per shape
with placeholders, later values are bound to the kept plan, answers equal a fresh build,
and a builder that lets a placeholder escape into the SQL text is built every call."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from analytics import plans
from analytics.db import open_database
from analytics.filters import RetentionFilter, customers, touchpoints
from tests.builders import build_database

AS_OF = date(2024, 6, 30)


def _customer(cid: int, segment: str, region: str) -> dict:
    return {"customer_id": cid, "segment": segment, "region": region, "plan": "basic",
            "signup_date": date(2023, 1, cid)}


@pytest.fixture()
def path(tmp_path):
    return build_database(
        tmp_path / "p.duckdb",
        customers=[_customer(1, "enterprise", "north"), _customer(2, "consumer", "north"),
                   _customer(3, "consumer", "south"), _customer(4, "small_business", "south"),
                   # a quote in a value is data, not SQL
                   _customer(5, "it's", "south")],
        touchpoints=[{"customer_id": c, "occurred_at": f"2024-0{c}-01 10:00:00", "channel": ch}
                     for c, ch in ((1, "phone"), (2, "chat"), (3, "chat"), (4, "phone"), (5, "email"))],
    )


@pytest.fixture()
def db(path):
    database = open_database(path)  # read-only, as the dashboard opens it
    yield database
    database.close()


def _flt(**kw) -> RetentionFilter:
    return RetentionFilter(start=date(2024, 1, 1), end=AS_OF, **kw)


@plans.query
def _per_segment(db, flt: RetentionFilter) -> ibis.Table:
    t = touchpoints(db, flt)  # the selected customers' touchpoints in the selected channels
    c = db.table("customers").view()
    j = t.join(c, t.customer_id == c.customer_id)
    return j.group_by("segment").aggregate(n=j.count()).order_by("segment")


def _segments(df: pd.DataFrame) -> dict[str, int]:
    return dict(zip(df["segment"], df["n"]))


def test_one_build_per_shape_and_the_real_values_bound_on_each_call(db) -> None:
    cache = plans.plan_cache(db)
    assert _segments(_per_segment(db, _flt(segments=("consumer",)))) == {"consumer": 2}
    assert (cache.misses, cache.hits) == (1, 0)
    # another value of the same shape: the kept plan, the new value's answer
    assert _segments(_per_segment(db, _flt(segments=("enterprise",)))) == {"enterprise": 1}
    assert _segments(_per_segment(db, _flt(segments=("it's",)))) == {"it's": 1}
    assert (cache.misses, cache.hits) == (1, 2)
    # two segments, a region, a channel: each a shape of its own, each right
    assert _segments(_per_segment(db, _flt(segments=("consumer", "small_business")))) == {
        "consumer": 2, "small_business": 1}
    assert _segments(_per_segment(db, _flt(regions=("south",), channels=("chat", "phone")))) == {
        "consumer": 1, "small_business": 1}
    assert _segments(_per_segment(db, _flt(regions=("north",), channels=("phone", "email")))) == {"enterprise": 1}
    assert (cache.misses, cache.hits) == (3, 3)
    assert _per_segment(db, _flt(segments=("nobody",))).empty


def test_the_period_is_part_of_the_shape(db) -> None:
    first = _per_segment(db, _flt())
    later = _per_segment(db, RetentionFilter(start=date(2024, 3, 1), end=AS_OF))
    assert _segments(first) == {"consumer": 2, "enterprise": 1, "it's": 1, "small_business": 1}
    assert _segments(later) == {"consumer": 1, "it's": 1, "small_business": 1}
    assert plans.plan_cache(db).misses == 2


def test_kept_plans_answer_as_a_fresh_build(db) -> None:
    filters = [_flt(), _flt(segments=("consumer",)), _flt(segments=("enterprise",)),
               _flt(segments=("consumer", "it's")), _flt(regions=("south",), channels=("chat",)),
               _flt(segments=("nobody",))]
    kept = [_per_segment(db, f) for f in filters]
    with plans.building_every_call():
        fresh = [_per_segment(db, f) for f in filters]
    for a, b in zip(kept, fresh):
        pd.testing.assert_frame_equal(a, b)
    # enterprise and nobody reused consumer's plan
    assert (plans.plan_cache(db).misses, plans.plan_cache(db).hits) == (4, 2)


@plans.query
def _labelled_in_sql(db, flt: RetentionFilter) -> ibis.Table:
    # the segment value is used as text the SQL needs (upper-cased), not as a compared
    # value: a placeholder would end up in the SQL, so this query cannot be kept
    c = customers(db, flt)
    label = ibis.literal(flt.segments[0] if flt.segments else "all").upper()
    return c.aggregate(n=c.count()).mutate(label=label)


@plans.query
def _formatted_in_python(db, flt: RetentionFilter) -> ibis.Table:
    c = customers(db, flt)
    name = "-".join(flt.segments)  # a value changed in Python: its placeholder is altered
    return c.aggregate(n=c.count()).mutate(label=ibis.literal(name).cast("string"))


@pytest.mark.parametrize("builder", [_labelled_in_sql, _formatted_in_python])
def test_a_builder_that_lets_a_placeholder_escape_is_built_every_call(db, builder) -> None:
    one = builder(db, _flt(segments=("consumer",)))
    two = builder(db, _flt(segments=("enterprise",)))
    assert one["n"].tolist() == [2] and two["n"].tolist() == [1]
    assert str(one["label"].iloc[0]) in ("CONSUMER", "consumer")
    assert str(two["label"].iloc[0]) in ("ENTERPRISE", "enterprise")
    cache = plans.plan_cache(db)
    assert [cache.get(key)[1] for key in cache.keys()] == [None]  # known not reusable, never used


def test_a_writable_database_builds_every_call(path) -> None:
    db = open_database(path, read_only=False)
    try:
        assert _segments(_per_segment(db, _flt(segments=("consumer",)))) == {"consumer": 2}
        assert _segments(_per_segment(db, _flt(segments=("enterprise",)))) == {"enterprise": 1}
        assert plans.filter_shape(_flt()) and plans._PLANS not in db.read_only_facts
    finally:
        db.close()


def test_arguments_must_be_hashable(db) -> None:
    @plans.query
    def by_list(db, flt, columns):
        return customers(db, flt).select(*columns)

    with pytest.raises(TypeError):
        by_list(db, _flt(), ["segment"])
