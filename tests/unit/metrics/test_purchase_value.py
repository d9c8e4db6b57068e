"""Purchase-log value (analytics/metrics/purchase_value.py) on the generated purchase-only
database (sample_data/purchase_log.py) plus a few hand-placed customers, and the
degenerate files where no fit is possible."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pytest

from analytics.catalog import data_present
from analytics.db import open_database
from analytics.filters import RetentionFilter
from analytics.metrics.purchase_value import (
    MIN_REPEAT_BUYERS,
    is_active,
    purchase_summary,
    purchase_value,
    purchase_value_fit,
    purchases_in_period,
)
from sample_data.purchase_log import write_purchase_log_database
from tests.builders import build_database

AS_OF = date(2024, 12, 31)
FLT = RetentionFilter(date(2024, 10, 1), AS_OF)
# two customers with the same history except its end: 7 purchases of 30.00, first 70 weeks
# before the as-of date, the last after STALE_WEEKS (A) or FRESH_WEEKS (B) weeks
STALE, FRESH = 9003, 9004
STALE_WEEKS, FRESH_WEEKS = 30, 48


def _extra_purchases() -> tuple[list[tuple], list[tuple]]:
    first = AS_OF - timedelta(weeks=70)
    people = [(9001, "Yesterday once", "store"), (9002, "Yesterday again", "store"),
              (STALE, "Stale buyer", "store"), (FRESH, "Fresh buyer", "store")]
    buys = [(9001, AS_OF - timedelta(days=1), 25.0)]
    buys += [(9002, AS_OF - timedelta(weeks=w), 40.0) for w in (60, 45, 30, 15)] + [
        (9002, AS_OF - timedelta(days=1), 40.0)]
    for cid, last in ((STALE, STALE_WEEKS), (FRESH, FRESH_WEEKS)):
        buys += [(cid, first + timedelta(weeks=round(last * i / 6)), 30.0) for i in range(7)]
    return people, buys


@pytest.fixture(scope="module")
def purchase_db(tmp_path_factory):
    path = write_purchase_log_database(tmp_path_factory.mktemp("purchases") / "purchases.duckdb",
                                       customers=600, seed=11, as_of=AS_OF)
    people, buys = _extra_purchases()
    con = duckdb.connect(str(path))
    try:
        con.executemany("insert into customers (customer_id, full_name, segment, signup_date, margin_rate, region, "
                        "plan) values (?, ?, ?, ?, 0.3, 'all', 'none')",
                        [(cid, name, seg, AS_OF - timedelta(weeks=70)) for cid, name, seg in people])
        start = con.execute("select max(touchpoint_id) from touchpoints").fetchone()[0]
        con.executemany("insert into touchpoints (touchpoint_id, customer_id, occurred_at, amount, kind, channel) "
                        "values (?, ?, ?, ?, 'purchase', 'web')",
                        [(start + i + 1, cid, datetime.combine(day, datetime.min.time()), amount)
                         for i, (cid, day, amount) in enumerate(buys)])
    finally:
        con.close()
    db = open_database(path)
    yield db
    db.close()


def _row(value, cid):
    return value.customers.set_index("customer_id").loc[cid]


def test_the_generated_file_is_a_purchase_log(purchase_db) -> None:
    present = data_present(purchase_db)
    assert present["purchases"] and not present["revenue"]


def test_probabilities_and_values_are_in_range(purchase_db) -> None:
    value = purchase_value(purchase_db, FLT)
    assert value.available, value.message
    df = value.customers
    assert len(df) == 604  # every customer bought at least once (the signup purchase)
    assert df["p_alive"].between(0, 1).all()
    assert (df["predicted_clv"] >= 0).all() and (df["expected_loss"] >= 0).all()
    assert (df["expected_loss"] <= df["value_if_alive"] + 1e-9).all()
    assert df["predicted_clv"].is_monotonic_decreasing


def test_a_first_purchase_yesterday_is_alive_with_probability_one(purchase_db) -> None:
    row = _row(purchase_value(purchase_db, FLT), 9001)
    assert row["frequency"] == 0 and row["days_since_purchase"] == 1
    assert row["p_alive"] == 1.0 and row["expected_loss"] == 0.0 and row["active"]


def test_a_repeat_buyer_who_bought_yesterday_follows_the_p_alive_formula(purchase_db) -> None:
    # BG/NBD P(alive) = 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)), with x = 4,
    # T = 60 weeks, t_x = T - 1/7: close to, but below, 1/(1 + a/(b+3)) — not 1, since the
    # customer may have dropped out right after yesterday's purchase
    value = purchase_value(purchase_db, FLT)
    k = value.params
    row = _row(value, 9002)
    assert (row["frequency"], row["age_weeks"], row["recency_weeks"]) == (4, 60, pytest.approx(60 - 1 / 7))
    odds = k["a"] / (k["b"] + 3) * ((k["alpha"] + 60) / (k["alpha"] + 60 - 1 / 7)) ** (k["r"] + 4)
    assert row["p_alive"] == pytest.approx(1 / (1 + odds), rel=1e-12)
    assert 0.5 < row["p_alive"] < 1 and row["active"]


def test_expected_loss_weighs_the_value_if_alive_not_the_predicted_clv(purchase_db) -> None:
    value = purchase_value(purchase_db, FLT)
    stale, fresh = _row(value, STALE), _row(value, FRESH)
    # same x, T and spend: the same value if alive (BG/NBD eq. 10's numerator ignores t_x)
    assert stale["value_if_alive"] == pytest.approx(fresh["value_if_alive"], rel=1e-9)
    assert stale["p_alive"] < 0.2 < 0.4 < fresh["p_alive"] < 0.8
    assert stale["expected_loss"] == pytest.approx((1 - stale["p_alive"]) * stale["value_if_alive"])
    # the customer more likely gone has more to lose ...
    assert stale["expected_loss"] > fresh["expected_loss"]
    # ... which (1 - P(alive)) x predicted CLV would rank the other way round
    assert (1 - stale["p_alive"]) * stale["predicted_clv"] < (1 - fresh["p_alive"]) * fresh["predicted_clv"]


def test_the_fit_is_kept_and_a_filter_slices_it(purchase_db) -> None:
    fit = purchase_value_fit(purchase_db, AS_OF)
    assert purchase_value_fit(purchase_db, AS_OF) is fit  # read-only file: fitted once
    store = purchase_value(purchase_db, RetentionFilter(AS_OF, AS_OF, segments=("store",)))
    assert store.params == fit.params
    assert set(store.customers["segment"]) == {"store"}
    assert len(store.customers) == int((fit.customers["segment"] == "store").sum())


def test_summary_counts_active_by_the_rule(purchase_db) -> None:
    value = purchase_value(purchase_db, FLT)
    s = purchase_summary(value)
    df = value.customers
    expected = ((df["days_since_purchase"] <= 90) | ((df["frequency"] > 0) & (df["p_alive"] >= 0.5))).sum()
    assert s.active == expected and 0 < s.active < s.buyers == 604
    assert s.average_predicted_clv == pytest.approx(df["predicted_clv"].mean())


def test_active_rule_by_hand() -> None:
    # one-time buyer 200 days ago: P(alive) = 1 but no evidence -> inactive; 30 days ago -> active;
    # repeat buyer 200 days ago with P(alive) 0.6 -> active, 0.4 -> inactive
    got = is_active([0, 0, 3, 3], [1.0, 1.0, 0.6, 0.4], [200, 30, 200, 200])
    assert got.tolist() == [False, True, True, False]


def _tiny(tmp_path, buyers: int, repeaters: int):
    customers = [{"customer_id": i, "signup_date": date(2024, 1, 1), "monthly_revenue": None}
                 for i in range(1, buyers + 1)]
    buys = [{"customer_id": i, "kind": "purchase", "amount": 10.0, "occurred_at": datetime(2024, 2, 1)}
            for i in range(1, buyers + 1)]
    buys += [{"customer_id": i, "kind": "purchase", "amount": 12.0, "occurred_at": datetime(2024, 6, 1)}
             for i in range(1, repeaters + 1)]
    return build_database(tmp_path / "tiny.duckdb", customers, buys)


def test_too_few_repeat_buyers_is_a_one_line_reason(tmp_path) -> None:
    db = open_database(_tiny(tmp_path, 30, 3))
    try:
        value = purchase_value(db, FLT)
        assert not value.available and value.customers.empty
        assert value.message == (f"Only 3 customer(s) bought more than once by 31 Dec 2024; predicting "
                                 f"purchase-log value needs at least {MIN_REPEAT_BUYERS} repeat buyers.")
        assert not purchase_summary(value).available
    finally:
        db.close()


def test_no_purchases_is_a_one_line_reason(tmp_path) -> None:
    db = open_database(build_database(tmp_path / "none.duckdb", [{"customer_id": 1, "signup_date": date(2024, 1, 1)}]))
    try:
        value = purchase_value(db, FLT)
        assert not value.available and "No purchases up to 31 Dec 2024" in value.message
    finally:
        db.close()


def test_purchases_in_period_by_hand(tmp_path) -> None:
    # 30 first purchases on 1 Feb (10.00), 3 repeats on 1 Jun (12.00): Jun..Dec holds 3 purchases, 36.00
    db = open_database(_tiny(tmp_path, 30, 3))
    try:
        got = purchases_in_period(db, RetentionFilter(date(2024, 6, 1), AS_OF)).iloc[0]
        assert (got["purchases"], got["purchase_revenue"], got["buyers"]) == (3, 36.0, 3)
        empty = purchases_in_period(db, RetentionFilter(date(2024, 7, 1), AS_OF)).iloc[0]
        assert (empty["purchases"], empty["purchase_revenue"]) == (0, 0.0)
    finally:
        db.close()


def test_purchase_at_risk_ranks_by_expected_loss(purchase_db) -> None:
    from analytics.at_risk import purchase_at_risk

    full = purchase_at_risk(purchase_db, FLT)
    assert full.available and full.population == 604
    ranks = full.customers.set_index("customer_id")["risk_rank"]
    assert ranks[STALE] < ranks[FRESH]  # more likely gone, same value if alive: higher on the list
    assert full.customers["expected_loss"].is_monotonic_decreasing
    assert full.total_expected_loss == pytest.approx(full.customers["expected_loss"].sum())
    assert full.at_risk == int((full.customers["expected_loss"] > 0).sum())
    assert ranks[9001] > full.at_risk  # a one-time buyer has no expected loss under BG/NBD
    top = purchase_at_risk(purchase_db, FLT, limit=5)
    assert top.customers["customer_id"].tolist() == full.customers["customer_id"].head(5).tolist()
    assert top.population == 604


def test_only_the_latest_few_fits_are_kept(purchase_db) -> None:
    from analytics.metrics import purchase_value as module

    for days in range(module._FITS_KEPT + 1):
        purchase_value_fit(purchase_db, AS_OF - timedelta(days=30 * days))
    kept = purchase_db.read_only_facts[module._FIT_KEY]
    assert len(kept) == module._FITS_KEPT
    assert (AS_OF - timedelta(days=30 * module._FITS_KEPT), 12) in kept


def test_an_imported_purchase_log_counts_like_purchase_touchpoints(tmp_path) -> None:
    # The importer writes a purchase log to its own table (`purchases`); one purchase
    # touchpoint as well. Q4 2024: c1 12.00 on 2 Oct + 8.00 on 20 Dec (table), c2 5.00 on
    # 3 Nov (touchpoint) → 3 purchases, 25.00, 2 buyers; the September one is outside.
    from analytics import catalog
    from analytics.db import open_database
    from analytics.filters import RetentionFilter
    from analytics.metrics.purchase_value import purchases_in_period
    from tests.builders import build_database

    path = build_database(
        tmp_path / "log.duckdb",
        [{"customer_id": 1, "signup_date": date(2024, 1, 1)}, {"customer_id": 2, "signup_date": date(2024, 1, 1)}],
        touchpoints=[{"customer_id": 2, "occurred_at": "2024-11-03 09:00:00", "kind": "purchase", "amount": 5.0}],
        extra_tables={"purchases": ({"customer_id": "BIGINT", "purchase_date": "DATE", "amount": "DOUBLE"}, [
            {"customer_id": 1, "purchase_date": date(2024, 10, 2), "amount": 12.0},
            {"customer_id": 1, "purchase_date": date(2024, 12, 20), "amount": 8.0},
            {"customer_id": 1, "purchase_date": date(2024, 9, 30), "amount": 99.0}])})
    db = open_database(path)
    try:
        assert catalog.data_present(db)["purchases"]
        row = purchases_in_period(db, RetentionFilter(date(2024, 10, 1), date(2024, 12, 31))).iloc[0]
        assert (row.purchases, row.purchase_revenue, row.buyers) == (3, 25.0, 2)
    finally:
        db.close()
