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


# --- churn dates: a single snapshot records who has left, not when ---------------------------

def _churn_flags(tmp_path, name: str, churn_dates: list[date | None]) -> tuple[dict, object]:
    from analytics.catalog import data_present, single_churn_date
    path = build_database(tmp_path / f"{name}.duckdb", customers=[
        {"customer_id": i, "signup_date": date(2023, 1, 1), "churn_date": d} for i, d in enumerate(churn_dates, 1)],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2023-01-01"})
    db = open_database(path)
    try:
        return data_present(db), single_churn_date(db, date(2024, 12, 31))
    finally:
        db.close()


def test_churn_dates_flag_is_false_when_every_churner_shares_one_date(tmp_path) -> None:
    # three churners, all on the as-of date (what the importer gives a Yes/No churn flag)
    present, one = _churn_flags(tmp_path, "snapshot", [date(2024, 12, 31)] * 3 + [None, None])
    assert present["churn_dates"] is False and one == (3, date(2024, 12, 31))


def test_churn_dates_flag_is_true_with_two_churn_dates(tmp_path) -> None:
    present, one = _churn_flags(tmp_path, "dated", [date(2024, 12, 31), date(2024, 12, 31), date(2024, 3, 2), None])
    assert present["churn_dates"] is True and one is None


def test_churn_dates_flag_is_true_when_nobody_churned(tmp_path) -> None:
    # the choice: no churner, nothing to say — no period churn figure would be wrong (all 0
    # churned), and "your data records who has left" would be false
    present, one = _churn_flags(tmp_path, "nobody", [None, None, None])
    assert present["churn_dates"] is True and one is None


def test_churn_dates_flag_ignores_churn_after_the_as_of_date(tmp_path) -> None:
    # two churners by 31 Dec (both 3 Mar) and one after it: by the as-of date one date only, as the scorer sees it
    present, one = _churn_flags(tmp_path, "late", [date(2024, 3, 3), date(2024, 3, 3), date(2025, 2, 1), None])
    assert present["churn_dates"] is False and one == (2, date(2024, 3, 3))


def test_one_churner_is_not_taken_for_a_snapshot(tmp_path) -> None:
    # one leaver is one date whether or not the export records dates: its figures stay
    present, one = _churn_flags(tmp_path, "one", [date(2024, 6, 10), None])
    assert present["churn_dates"] is True and one is None
