"""The template-compiling backend (analytics/compiled.py): filter values and dates become
bound parameters, one compiled SQL serves every value of a shape, and results equal the
stock Ibis backend's."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from analytics import compiled
from analytics.db import open_database
from analytics.duplicates import superseded_customer_ids
from analytics.filters import RetentionFilter, customers, touchpoints
from analytics.metrics import customer_base
from tests.builders import build_database

AS_OF = date(2024, 6, 30)


@pytest.fixture()
def db(tmp_path):
    path = build_database(
        tmp_path / "c.duckdb",
        customers=[
            {"customer_id": 1, "segment": "enterprise", "region": "north", "plan": "premium",
             "signup_date": date(2023, 5, 2), "account_owner": "O'Brien"},
            {"customer_id": 2, "segment": "consumer", "region": "north", "plan": "basic",
             "signup_date": date(2022, 1, 9), "churn_date": date(2024, 3, 1), "account_owner": "ret-1"},
            {"customer_id": 3, "segment": "consumer", "region": "south", "plan": "basic",
             "signup_date": date(2024, 2, 1), "account_owner": "ret-1"},
        ],
        touchpoints=[
            {"customer_id": 1, "occurred_at": "2024-01-01 10:00:00", "channel": "whatsapp"},
            {"customer_id": 2, "occurred_at": "2024-01-02 10:00:00", "channel": "chat"},
            {"customer_id": 3, "occurred_at": "2024-06-30 23:59:00", "channel": "chat"},
            {"customer_id": 3, "occurred_at": "2024-07-01 00:00:00", "channel": "chat"},
        ],
    )
    database = open_database(path)
    yield database
    database.close()


def _flt(**kw) -> RetentionFilter:
    return RetentionFilter(start=date(2024, 1, 1), end=AS_OF, **kw)


def test_filter_values_and_dates_are_bound_not_written_into_the_sql(db) -> None:
    expr = touchpoints(db, _flt(segments=("consumer",), channels=("chat",))).count().as_table()
    template, values, _ = compiled.parameterise(expr.op())
    assert sorted(map(str, values.values())) == ["2024-01-01", "2024-06-30", "chat", "consumer"]
    sql = compiled.TEMPLATES.sql(template, None)
    for value in ("consumer", "chat", "2024"):
        assert value not in sql
    assert "$p" in sql


def test_one_compilation_serves_every_value_of_a_shape(db) -> None:
    superseded_customer_ids(db)  # a fact of the read-only file, asked once (its own query)
    compiled.TEMPLATES.clear()
    counts = {seg: db.ibis().to_pandas(customers(db, _flt(segments=(seg,))).count().as_table()).iloc[0, 0]
              for seg in ("consumer", "enterprise", "nobody")}
    assert counts == {"consumer": 2, "enterprise": 1, "nobody": 0}
    assert (compiled.TEMPLATES.misses, compiled.TEMPLATES.hits) == (1, 2)
    # a different shape (two segments) compiles once more
    two = db.ibis().to_pandas(customers(db, _flt(segments=("consumer", "enterprise"))).count().as_table())
    assert two.iloc[0, 0] == 3 and compiled.TEMPLATES.misses == 2


def test_period_end_is_inclusive_through_the_bound_date(db) -> None:
    # 23:59 on the as-of day is in, midnight after is out: the date + 1 day bound survives binding
    tps = db.ibis().to_pandas(touchpoints(db, _flt(segments=("consumer",))))
    assert sorted(tps["occurred_at"].astype(str)) == ["2024-01-02 10:00:00", "2024-06-30 23:59:00"]


def test_quotes_in_values_are_data_not_sql(db) -> None:
    t = db.table("customers")
    out = db.ibis().to_pandas(t.filter(t.account_owner == "O'Brien").select("customer_id"))
    assert out["customer_id"].tolist() == [1]


def test_text_the_sql_needs_as_text_stays_a_literal(db) -> None:
    t = db.table("customers")
    expr = t.filter(t.account_owner.re_search("^ret-")).count().as_table()
    template, values, _ = compiled.parameterise(expr.op())
    assert values == {}  # the regex pattern is part of the query, not a value
    assert db.ibis().to_pandas(expr).iloc[0, 0] == 2


def test_results_equal_the_stock_ibis_backend(db) -> None:
    stock = ibis.duckdb.from_connection(db.connection.cursor())
    flt = _flt(segments=("consumer",), regions=("north", "south"))
    for expr in (customers(db, flt), touchpoints(db, flt, in_period=False)):
        ours = db.ibis().to_pandas(expr)
        theirs = stock.to_pandas(expr)
        pd.testing.assert_frame_equal(ours, theirs)
    # a metric end to end: hand count — consumer customers 2 and 3; 2 churned 2024-03-01
    summary = customer_base.churn_summary(db, _flt(segments=("consumer",)))
    assert summary.loc[0, ["active_start", "new", "churned"]].tolist() == [1, 1, 1]


def test_in_memory_tables_are_data_not_shape(db) -> None:
    """A list of dates handed in as a memtable (as the sparkline queries do) is registered
    under a fixed name: another list of the same columns reuses the compiled query."""
    compiled.TEMPLATES.clear()
    t = db.table("customers")

    def signed_up_by(days):
        dates = ibis.memtable({"as_of": days}, schema={"as_of": "date"})
        j = dates.left_join(t, t.signup_date <= dates.as_of)
        return db.ibis().to_pandas(j.group_by("as_of").aggregate(n=j.customer_id.count()).order_by("as_of"))

    first = signed_up_by([date(2022, 1, 9), date(2023, 12, 31)])
    second = signed_up_by([date(2021, 1, 1), date(2024, 2, 1), date(2024, 6, 30)])
    # hand count: signups 2022-01-09 (2), 2023-05-02 (1), 2024-02-01 (3)
    assert first["n"].tolist() == [1, 2]
    assert second["n"].tolist() == [0, 3, 3]
    assert (compiled.TEMPLATES.misses, compiled.TEMPLATES.hits) == (1, 1)


def test_self_joins_built_twice_are_one_shape(db) -> None:
    """Ibis numbers every `.view()` and join from a global counter; the template numbers
    them by position, so the same query built again compiles nothing."""
    superseded_customer_ids(db)  # a fact of the read-only file, asked once (its own query)
    compiled.TEMPLATES.clear()

    def same_region_pairs(segment):
        a = customers(db, _flt(segments=(segment,)))
        b = db.table("customers").view()
        j = a.join(b, [a.region == b.region, a.customer_id < b.customer_id])
        return db.ibis().to_pandas(j.select(first=a.customer_id, second=b.customer_id).order_by(["first", "second"]))

    # enterprise 1 (north) pairs with 2, the other northerner with a higher id; consumer 2
    # (north) has only customer 1 there (lower id), consumer 3 is alone in the south
    assert same_region_pairs("enterprise").values.tolist() == [[1, 2]]
    assert same_region_pairs("consumer").values.tolist() == []
    assert (compiled.TEMPLATES.misses, compiled.TEMPLATES.hits) == (1, 1)
