"""RetentionFilter validation and the catalog of filterable values."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.catalog import dimension_values, earliest_signup
from analytics.db import open_database
from analytics.filters import RetentionFilter
from tests.builders import build_database

AS_OF = date(2024, 6, 30)


def test_filter_rejects_start_after_end() -> None:
    with pytest.raises(ValueError, match="after its end"):
        RetentionFilter(start=date(2024, 7, 1), end=date(2024, 6, 30))
    same_day = RetentionFilter(start=AS_OF, end=AS_OF)
    assert same_day.as_of == AS_OF


def test_filter_is_hashable_with_list_input() -> None:
    a = RetentionFilter(start=date(2024, 1, 1), end=AS_OF, segments=["consumer"])
    b = RetentionFilter(start=date(2024, 1, 1), end=AS_OF, segments=("consumer",))
    assert a == b and hash(a) == hash(b)


def test_catalog_lists_values_and_first_signup(tmp_path) -> None:
    path = build_database(
        tmp_path / "c.duckdb",
        customers=[
            {"customer_id": 1, "segment": "enterprise", "region": "north", "plan": "premium", "signup_date": date(2023, 5, 2),
             "account_owner": "ret-2"},
            {"customer_id": 2, "segment": "consumer", "region": "north", "plan": "basic", "signup_date": date(2022, 1, 9),
             "account_owner": "ret-1"},
        ],
        touchpoints=[
            {"customer_id": 1, "occurred_at": "2024-01-01 10:00:00", "channel": "whatsapp"},
            {"customer_id": 2, "occurred_at": "2024-01-02 10:00:00", "channel": "chat"},
        ],
    )
    db = open_database(path)
    assert dimension_values(db) == {
        "segments": ["consumer", "enterprise"],
        "regions": ["north"],
        "plans": ["basic", "premium"],
        "account_owners": ["ret-1", "ret-2"],
        "channels": ["chat", "whatsapp"],
        "attributes": {},  # no customer_attributes table
    }
    assert earliest_signup(db) == date(2022, 1, 9)
