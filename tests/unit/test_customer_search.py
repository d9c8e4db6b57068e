"""Search any customer (analytics/customer_search.py) on a tiny hand-made customers table:
exact id (not "contains"), name and e-mail case-insensitively, phone by its digits."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.customer_search import customer_briefs, phone_digit_forms, search_customers
from analytics.db import open_database
from analytics.schema import OPTIONAL_TABLES
from tests.builders import build_database

PEOPLE = [
    {"customer_id": 1, "full_name": "Dana Levi", "phone": "053-337-5963", "email": "Dana.Levi@Example.com"},
    {"customer_id": 2, "full_name": "Daniel Cohen", "phone": "050 123 4567", "email": "dcohen@mail.co.il"},
    {"customer_id": 12, "full_name": "Noa Bar", "phone": "052-1111111", "email": "noa@bar.net"},
    {"customer_id": 112, "full_name": "Ron Tal", "phone": "054-999-0000", "email": "ron@tal.com"},
    {"customer_id": 21, "full_name": "Levi Shalom", "phone": None, "email": None},
    {"customer_id": 30, "full_name": "Gil 100%", "phone": "phone unknown", "email": "gil@x.org"},
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "people.duckdb"
    scores = [{"customer_id": 1, "as_of_date": date(2024, 12, 31), "churn_probability": 0.5, "clv_predicted": 300.0,
               "clv_historical": 100.0, "clv_future": 200.0, "expected_loss": 100.0, "risk_rank": 1, "driver_1": "x"},
              {"customer_id": 1, "as_of_date": date(2025, 1, 31), "churn_probability": 0.9, "clv_predicted": 300.0,
               "clv_historical": 100.0, "clv_future": 200.0, "expected_loss": 180.0, "risk_rank": 1, "driver_1": "x"}]
    build_database(path, customers=[{**p, "signup_date": date(2024, 1, 1)} for p in PEOPLE],
                   extra_tables={"churn_scores": (OPTIONAL_TABLES["churn_scores"], scores)})
    database = open_database(path)
    yield database
    database.close()


def ids(db, text, limit=20):
    return search_customers(db, text, limit)["customer_id"].tolist()


def test_exact_id_not_contains(db):
    assert ids(db, "12") == [12]  # not 112, whose id merely contains 12
    assert ids(db, "#112") == [112]
    assert ids(db, " 21 ") == [21]


def test_partial_name_and_email_any_case(db):
    assert ids(db, "levi") == [1, 21]  # by name: Dana Levi, Levi Shalom
    assert ids(db, "DANI") == [2]
    assert ids(db, "example.COM") == [1]
    assert ids(db, "@tal") == [112]


def test_phone_by_digits(db):
    for text in ("053-337-5963", "0533375963", "053 337 5963", "+972 53-337-5963", "337-59"):
        assert ids(db, text) == [1], text
    assert ids(db, "123 4567") == [2]
    assert phone_digit_forms("053") == []  # too few digits to search phones
    assert phone_digit_forms("+972533375963") == ["972533375963", "0533375963"]


def test_text_is_not_a_pattern_and_limits_hold(db):
    assert ids(db, "100%") == [30]
    assert ids(db, "%") == [30]  # the literal character, not "anything"
    assert ids(db, "_") == []
    assert ids(db, "") == [] and ids(db, "   ") == []
    assert len(ids(db, "a", limit=2)) == 2
    assert list(search_customers(db, "nobody at all").columns) == [
        "customer_id", "full_name", "phone", "email", "account_owner", "segment"]
    with pytest.raises(ValueError, match="limit must be at least 1"):
        search_customers(db, "dana", 0)


def test_briefs_carry_the_latest_expected_loss(db):
    briefs = customer_briefs(db, [21, 1, 999], date(2025, 1, 31)).set_index("customer_id")
    assert briefs.index.tolist() == [1, 21]  # 999 is unknown
    assert briefs.loc[1, "expected_loss"] == pytest.approx(0.9 * 200.0)  # the latest scoring by the as-of date
    assert customer_briefs(db, [1], date(2025, 1, 15)).loc[0, "expected_loss"] == pytest.approx(0.5 * 200.0)
    assert briefs["expected_loss"].isna().tolist() == [False, True]
