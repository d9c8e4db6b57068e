"""Overview headline figures on a hand-built database whose answers are worked out below.

As of 2024-06-30 (the filter's end). Windows: 30 days start 2024-05-31, 90 days start
2024-04-01; "active on d" means signup_date <= d and (churn_date is null or churn_date > d).

  id  segment         signup      churn       MRR rows                  on 04-01  05-31  06-30
  1   consumer        2023-01-01  -           May 100, Jun 100          active    active active
  2   consumer        2023-06-01  2024-06-15  Jun 50                    active    active -
  3   small_business  2023-03-01  2024-04-15  Apr 70                    active    -      -
  4   small_business  2024-06-10  -           Jun 80                    -         -      active
  5   enterprise      2022-01-01  2024-01-10  -                         -         -      -
  6   consumer        2023-02-01  2024-05-31  May 60                    active    -      -
  7   enterprise      2023-09-01  2024-06-30  Jun 300                   active    active -
  8   enterprise      2023-09-01  -           May 450, Jun 500          active    active active

Customer 6 churns on the 30-day window's first day (not active then, so outside the 30-day
denominator, inside the 90-day one); customer 7 churns on the as-of day itself (churned,
not active); customer 4 signs up inside both windows (active, in neither denominator).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from analytics.db import open_database
from analytics.filters import RetentionFilter
from analytics.overview import BaseSnapshot, base_snapshot
from tests.builders import build_database

AS_OF = date(2024, 6, 30)

CUSTOMERS = [
    (1, "consumer", date(2023, 1, 1), None),
    (2, "consumer", date(2023, 6, 1), date(2024, 6, 15)),
    (3, "small_business", date(2023, 3, 1), date(2024, 4, 15)),
    (4, "small_business", date(2024, 6, 10), None),
    (5, "enterprise", date(2022, 1, 1), date(2024, 1, 10)),
    (6, "consumer", date(2023, 2, 1), date(2024, 5, 31)),
    (7, "enterprise", date(2023, 9, 1), date(2024, 6, 30)),
    (8, "enterprise", date(2023, 9, 1), None),
]
REVENUE = [
    (1, date(2024, 5, 1), 100.0), (1, date(2024, 6, 1), 100.0),
    (2, date(2024, 6, 1), 50.0),
    (3, date(2024, 4, 1), 70.0),
    (4, date(2024, 6, 1), 80.0),
    (6, date(2024, 5, 1), 60.0),
    (7, date(2024, 6, 1), 300.0),
    (8, date(2024, 5, 1), 450.0), (8, date(2024, 6, 1), 500.0),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory):
    path = build_database(
        Path(tmp_path_factory.mktemp("overview")) / "tiny.duckdb",
        customers=[
            {"customer_id": cid, "segment": seg, "signup_date": signup, "churn_date": churn,
             "churn_reason": "price" if churn else None}
            for cid, seg, signup, churn in CUSTOMERS
        ],
        monthly_revenue=[{"customer_id": cid, "month": m, "mrr": mrr} for cid, m, mrr in REVENUE],
    )
    database = open_database(path)
    yield database
    database.close()


def _filter(**kw) -> RetentionFilter:
    return RetentionFilter(start=date(2024, 1, 1), end=AS_OF, **kw)


def test_whole_base(db) -> None:
    snap = base_snapshot(db, _filter())
    assert snap == BaseSnapshot(
        as_of=AS_OF,
        active_customers=3,   # 1, 4, 8
        churn_rate_30d=2 / 4,  # active on 05-31: 1, 2, 7, 8; churned by 06-30: 2, 7
        churn_rate_90d=4 / 6,  # active on 04-01: 1, 2, 3, 6, 7, 8; churned: 2, 3, 6, 7
        churned_30d=2,
        churned_90d=4,
        mrr=680.0,            # June rows of the active: 100 (1) + 80 (4) + 500 (8)
    )


def test_explicit_as_of_overrides_the_filter_end(db) -> None:
    snap = base_snapshot(db, _filter(), as_of=date(2024, 5, 31))
    assert snap.as_of == date(2024, 5, 31)
    assert snap.active_customers == 4            # 1, 2, 7, 8
    assert (snap.churned_30d, snap.churn_rate_30d) == (1, 1 / 5)  # on 05-01: 1, 2, 6, 7, 8; churned 6
    assert (snap.churned_90d, snap.churn_rate_90d) == (2, 2 / 6)  # on 03-02: 1, 2, 3, 6, 7, 8; churned 3, 6
    assert snap.mrr == 550.0                     # May rows of 1, 2, 7, 8: 100 + 450


@pytest.mark.parametrize(
    "segment, active, churned30, rate30, churned90, rate90, mrr",
    [
        # 1, 2, 6: active 1; on 05-31 1, 2 -> 2 churned; on 04-01 1, 2, 6 -> 2, 6 churned
        ("consumer", 1, 1, 1 / 2, 2, 2 / 3, 100.0),
        # 3, 4: active 4; nobody active on 05-31 -> no 30-day rate; on 04-01 only 3, churned
        ("small_business", 1, 0, None, 1, 1.0, 80.0),
        # 5, 7, 8: active 8; on 05-31 and 04-01: 7, 8 -> 7 churned
        ("enterprise", 1, 1, 1 / 2, 1, 1 / 2, 500.0),
    ],
)
def test_segment_filter(db, segment, active, churned30, rate30, churned90, rate90, mrr) -> None:
    snap = base_snapshot(db, _filter(segments=(segment,)))
    assert snap.active_customers == active
    assert (snap.churned_30d, snap.churn_rate_30d) == (churned30, rate30)
    assert (snap.churned_90d, snap.churn_rate_90d) == (churned90, rate90)
    assert snap.mrr == mrr


def test_two_segments_add_up(db) -> None:
    snap = base_snapshot(db, _filter(segments=("consumer", "enterprise")))
    assert snap.active_customers == 2                             # 1, 8
    assert (snap.churned_30d, snap.churn_rate_30d) == (2, 2 / 4)  # 1, 2, 7, 8 -> 2, 7
    assert (snap.churned_90d, snap.churn_rate_90d) == (3, 3 / 5)  # 1, 2, 6, 7, 8 -> 2, 6, 7
    assert snap.mrr == 600.0


def test_filter_matching_nothing_gives_zeros_and_no_rates(db) -> None:
    snap = base_snapshot(db, _filter(regions=("north",)))  # every customer is in "center"
    assert snap == BaseSnapshot(as_of=AS_OF, active_customers=0, churn_rate_30d=None,
                                churn_rate_90d=None, churned_30d=0, churned_90d=0, mrr=0.0)


def test_channel_filter_does_not_change_customer_figures(db) -> None:
    assert base_snapshot(db, _filter(channels=("chat",))) == base_snapshot(db, _filter())


def test_filter_rejects_start_after_end() -> None:
    with pytest.raises(ValueError, match="after its end"):
        RetentionFilter(start=date(2024, 7, 1), end=date(2024, 6, 30))
    same_day = RetentionFilter(start=AS_OF, end=AS_OF)
    assert same_day.as_of == AS_OF


def test_filter_is_hashable_with_list_input() -> None:
    a = RetentionFilter(start=date(2024, 1, 1), end=AS_OF, segments=["consumer"])
    b = RetentionFilter(start=date(2024, 1, 1), end=AS_OF, segments=("consumer",))
    assert a == b and hash(a) == hash(b)
