"""The at-risk call list, margin at risk over time, the customer-360 pieces and the export,
on a hand-built database whose every expected number is worked out below.

As of 2024-12-31. Four customers, scored on 2024-11-30 (backfill) and 2024-12-31. Every
row's historical CLV is half its future value (CLV pred = 1.5 × future), so the expected
loss p × future value differs from the old p × CLV pred:

| id | segment    | owner | signup     | churn      | p 11-30 | p 12-31 | future 12-31 | loss 12-31 |
|----|------------|-------|------------|------------|---------|---------|--------------|------------|
| 1  | consumer   | A     | 2023-01-01 |            | 0.20    | 0.30    | 1,000        | 300        |
| 2  | consumer   | B     | 2023-06-01 |            | 0.10    | 0.10    | 5,000        | 500        |
| 3  | enterprise | A     | 2022-01-01 |            | 0.40    | 0.50    | 400          | 200        |
| 4  | consumer   | A     | 2022-01-01 | 2024-12-15 | 0.80    | 0.90    | 1,000        | 900        |

Customer 4 churned before the as-of date, so the list at 2024-12-31 holds 1, 2, 3 ranked
by loss: 2 (500), 1 (300), 3 (200). Value tiers rank future value (0-based rank r of N=3):
platinum r < 0.3 -> customer 2; gold r < 0.9 -> nobody; silver r < 1.8 -> customer 1;
bronze -> customer 3.

Conversations (CONTACT_KINDS) up to the as-of date: customer 1 a complaint on 2024-12-01
(30 days before; a purchase on 12-20 and marketing on 12-30 are not conversations);
customer 2 none (marketing only); customer 3 a retention call on 2024-12-29 (2 days; a
service request on 2025-01-05 is after the as-of date).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.at_risk import (
    EXPORT_COLUMNS,
    AtRiskCriteria,
    at_risk_customers,
    customer_profile,
    customer_revenue_history,
    customer_timeline,
    driver_filter_available,
    export_frame,
    phone_e164,
    margin_at_risk,
    margin_at_risk_trend,
    score_history,
    scoring_date,
    scoring_dates,
)
from analytics.db import open_database
from analytics.filters import RetentionFilter
from analytics.schema import OPTIONAL_TABLES
from tests.builders import build_database

AS_OF = date(2024, 12, 31)
FLT = RetentionFilter(date(2024, 1, 1), AS_OF)

CUSTOMERS = [
    {"customer_id": 1, "full_name": "Dana Levi", "phone": "050-1234567", "email": "dana@example.com",
     "segment": "consumer", "account_owner": "A", "signup_date": date(2023, 1, 1), "monthly_revenue": 100.0},
    {"customer_id": 2, "full_name": "Omer Cohen", "phone": "bad number", "segment": "consumer",
     "account_owner": "B", "signup_date": date(2023, 6, 1)},
    {"customer_id": 3, "full_name": "Noa Mizrahi", "segment": "enterprise", "account_owner": "A",
     "signup_date": date(2022, 1, 1)},
    {"customer_id": 4, "full_name": "Yossi Peretz", "segment": "consumer", "account_owner": "A",
     "signup_date": date(2022, 1, 1), "churn_date": date(2024, 12, 15), "churn_reason": "price"},
]
TOUCHPOINTS = [
    {"customer_id": 1, "occurred_at": "2024-12-01 10:00:00", "kind": "complaint", "note": "charged twice again"},
    {"customer_id": 1, "occurred_at": "2024-12-20 10:00:00", "kind": "purchase", "amount": 50.0},
    {"customer_id": 1, "occurred_at": "2024-12-30 10:00:00", "kind": "marketing", "direction": "outbound"},
    {"customer_id": 2, "occurred_at": "2024-11-02 10:00:00", "kind": "marketing", "direction": "outbound"},
    {"customer_id": 3, "occurred_at": "2024-12-29 09:30:00", "kind": "retention_call", "direction": "outbound",
     "note": "Customer says the price is too expensive"},
    {"customer_id": 3, "occurred_at": "2024-12-29 09:00:00", "kind": "service_request",
     "note": "does not want to cancel"},
    {"customer_id": 3, "occurred_at": "2025-01-05 10:00:00", "kind": "service_request"},
]
REVENUE = [
    {"customer_id": 1, "month": date(2024, 11, 1), "mrr": 100.0},
    {"customer_id": 1, "month": date(2024, 12, 1), "mrr": 100.0},
    {"customer_id": 1, "month": date(2025, 1, 1), "mrr": 100.0},  # after the as-of month
]


def score(cid, day, p, future, groups=(None, None, None), texts=None, rank=1, historical=None):
    """A churn_scores row as analytics.score writes it: clv_future = `future`,
    clv_historical = `historical` (default future / 2), clv_predicted = their sum,
    expected_loss = p × future."""
    texts = texts or tuple(g and f"{g} text" for g in groups)
    historical = future / 2 if historical is None else historical
    row = {"customer_id": cid, "as_of_date": day, "churn_probability": p, "clv_historical": historical,
           "clv_future": future, "clv_predicted": historical + future, "expected_loss": p * future,
           "risk_rank": rank, "model_version": "test", "scored_at": pd.Timestamp("2025-01-01 08:00")}
    for k in range(3):
        row[f"driver_{k + 1}"] = texts[k]
        row[f"driver_group_{k + 1}"] = groups[k]
    return row


NOV, DEC = date(2024, 11, 30), date(2024, 12, 31)
SCORES = [
    score(1, NOV, 0.20, 1000), score(2, NOV, 0.10, 5000), score(3, NOV, 0.40, 400), score(4, NOV, 0.80, 1000),
    score(1, DEC, 0.30, 1000, ("contract", "complaints", None)),
    score(2, DEC, 0.10, 5000, ("tenure", None, None)),
    score(3, DEC, 0.50, 400, ("complaints", "note_price", "plan")),
    score(4, DEC, 0.90, 1000, ("contract", None, None)),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = build_database(
        tmp_path_factory.mktemp("atrisk") / "atrisk.duckdb", customers=CUSTOMERS, touchpoints=TOUCHPOINTS,
        monthly_revenue=REVENUE, schema_info={"as_of_date": "2024-12-31", "history_start": "2022-01-01"},
        extra_tables={"churn_scores": (OPTIONAL_TABLES["churn_scores"], SCORES)},
    )
    database = open_database(path)
    yield database
    database.close()


def ids(result) -> list[int]:
    return result.customers["customer_id"].tolist()


def test_list_ranked_by_expected_loss_with_tiers_and_last_contact(db):
    r = at_risk_customers(db, FLT)
    assert r.available and r.scored_on == DEC
    assert (r.population, r.matching) == (3, 3)
    assert r.matching_expected_loss == pytest.approx(1000.0)
    assert r.population_expected_loss == pytest.approx(1000.0) and r.share_of_margin_at_risk == pytest.approx(1.0)
    c = r.customers.set_index("customer_id")
    assert ids(r) == [2, 1, 3]
    assert c["risk_rank"].to_dict() == {2: 1, 1: 2, 3: 3}
    assert c["value_tier"].to_dict() == {2: "platinum", 1: "silver", 3: "bronze"}
    assert c.loc[1, "last_contact_at"] == pd.Timestamp("2024-12-01 10:00:00")
    assert c.loc[1, "days_since_contact"] == 30
    assert pd.isna(c.loc[2, "last_contact_at"]) and pd.isna(c.loc[2, "days_since_contact"])
    assert c.loc[3, "last_contact_at"] == pd.Timestamp("2024-12-29 09:30:00") and c.loc[3, "days_since_contact"] == 2
    assert c.loc[1, "full_name"] == "Dana Levi" and c.loc[1, "account_owner"] == "A"
    assert r.never_contacted == 1  # customer 2


@pytest.mark.parametrize(("criteria", "expected", "loss"), [
    (AtRiskCriteria(min_probability=0.3), [1, 3], 500.0),
    (AtRiskCriteria(value_tiers=("platinum",)), [2], 500.0),
    (AtRiskCriteria(driver_groups=("complaints",)), [1, 3], 500.0),
    (AtRiskCriteria(driver_groups=("plan",)), [3], 200.0),  # the third driver counts too
    (AtRiskCriteria(not_contacted_days=30), [2, 1], 800.0),  # 30 days ago counts, never counts
    (AtRiskCriteria(not_contacted_days=31), [2], 500.0),
    (AtRiskCriteria(owners=("A",)), [1, 3], 500.0),
    (AtRiskCriteria(min_probability=0.3, owners=("A",), not_contacted_days=7), [1], 300.0),
])
def test_criteria_narrow_the_list_without_reranking(db, criteria, expected, loss):
    r = at_risk_customers(db, FLT, criteria)
    assert ids(r) == expected
    assert r.population == 3 and r.matching == len(expected)
    assert r.matching_expected_loss == pytest.approx(loss)
    assert r.share_of_margin_at_risk == pytest.approx(loss / 1000.0)  # of the selection's 1,000
    full_rank = {2: 1, 1: 2, 3: 3}
    assert r.customers["risk_rank"].tolist() == [full_rank[i] for i in expected]


def test_no_customer_meets_the_criteria(db):
    r = at_risk_customers(db, FLT, AtRiskCriteria(min_probability=0.9))
    assert r.available and r.population == 3 and r.matching == 0 and r.customers.empty
    assert "criteria" in r.message
    assert list(r.customers.columns) == list(at_risk_customers(db, FLT).customers.columns)


def test_sidebar_filter_reranks_within_the_selection(db):
    r = at_risk_customers(db, RetentionFilter(date(2024, 1, 1), AS_OF, segments=("enterprise",)))
    assert ids(r) == [3] and r.population == 1
    assert r.customers["risk_rank"].tolist() == [1] and r.customers["value_tier"].tolist() == ["platinum"]
    empty = at_risk_customers(db, RetentionFilter(date(2024, 1, 1), AS_OF, segments=("small_business",)))
    assert empty.available and empty.population == 0 and empty.customers.empty


def test_limit_keeps_the_count(db):
    r = at_risk_customers(db, FLT, limit=1)
    assert ids(r) == [2] and r.matching == 3 and r.truncated
    # the counts are the whole list's, not the shown rows': customer 2 (never contacted) is
    # the one row shown, customers 1 and 3 were contacted
    assert r.never_contacted == 1 and r.matching_expected_loss == pytest.approx(1000.0)
    assert at_risk_customers(db, FLT, AtRiskCriteria(min_probability=0.3), limit=1).never_contacted == 0


def test_past_as_of_uses_the_scoring_on_or_before_it(db):
    # at 2024-12-15 customer 4 has churned (churn day = as-of day), the November scores apply
    r = at_risk_customers(db, RetentionFilter(date(2024, 1, 1), date(2024, 12, 15)))
    assert r.scored_on == NOV and ids(r) == [2, 1, 3]
    assert r.customers["expected_loss"].tolist() == pytest.approx([500.0, 200.0, 160.0])
    early = at_risk_customers(db, RetentionFilter(date(2024, 1, 1), date(2024, 11, 1)))
    assert not early.available and "not computed" in early.message


def test_scoring_dates_and_trend(db):
    assert scoring_dates(db) == [NOV, DEC]
    assert scoring_date(db, date(2024, 12, 30)) == NOV and scoring_date(db, date(2024, 11, 29)) is None
    trend = margin_at_risk_trend(db, FLT)
    # 30 Nov: all four active, 200 + 500 + 160 + 800; 31 Dec: customer 4 gone, 300 + 500 + 200
    assert trend["scored_on"].dt.date.tolist() == [NOV, DEC]
    assert trend["customers"].tolist() == [4, 3]
    assert trend["expected_loss"].tolist() == pytest.approx([1660.0, 1000.0])
    consumer = margin_at_risk_trend(db, RetentionFilter(date(2024, 1, 1), AS_OF, segments=("consumer",)))
    assert consumer["expected_loss"].tolist() == pytest.approx([1500.0, 800.0])
    assert margin_at_risk_trend(db, RetentionFilter(date(2024, 1, 1), date(2024, 11, 1))).empty


def test_customer_profile(db):
    p = customer_profile(db, 1, AS_OF)
    assert p.status == "active" and p.fields["full_name"] == "Dana Levi"
    assert p.tenure_months == 23  # 2023-01-01 + 24 months = 2025-01-01 is after the as-of date
    # (MRR of Nov and Dec 2024 + the purchase of 20 Dec) × margin 1.0; January 2025 is later
    assert p.clv_historical == pytest.approx(250.0)
    assert p.score["churn_probability"] == pytest.approx(0.30)
    gone = customer_profile(db, 4, AS_OF)
    assert gone.status == "churned" and gone.tenure_months == 35  # to the churn day 2024-12-15
    assert customer_profile(db, 99, AS_OF) is None
    with pytest.raises(ValueError, match="whole number"):
        customer_profile(db, "abc", AS_OF)


def test_score_history_and_timeline(db):
    h = score_history(db, 1, AS_OF)
    assert h["scored_on"].dt.date.tolist() == [NOV, DEC]
    assert h["churn_probability"].tolist() == pytest.approx([0.20, 0.30])
    assert score_history(db, 1, date(2024, 12, 1))["churn_probability"].tolist() == pytest.approx([0.20])
    t = customer_timeline(db, 3, AS_OF)
    # newest first; the 2025 request is after the as-of date
    assert t["kind"].tolist() == ["retention_call", "service_request"]
    assert t["signals"].tolist()[0] == "price"
    assert pd.isna(t["signals"].tolist()[1])  # "does not want to cancel" is a negation
    assert customer_timeline(db, 2, date(2024, 1, 1)).empty
    rev = customer_revenue_history(db, 1, AS_OF)
    assert rev["mrr"].tolist() == [100.0, 100.0]


@pytest.mark.parametrize(("raw", "e164"), [
    ("050-1234567", "+972501234567"),
    ("03-1234567", "+97231234567"),
    ("+972 50 123 4567", "+972501234567"),
    ("972501234567", "+972501234567"),
    ("bad number", None),
    ("12345", None),
    (None, None),
])
def test_phone_e164(raw, e164):
    assert phone_e164(raw) == e164


def test_export_layout(db):
    r = at_risk_customers(db, FLT)
    out = export_frame(r)
    assert list(out.columns) == list(EXPORT_COLUMNS.values())
    assert out["customer_id"].tolist() == [2, 1, 3]
    row = out.set_index("customer_id").loc[1]
    assert row["phone"] == "+972501234567" and row["phone_local"] == "050-1234567"
    assert row["owner"] == "A" and row["reason_1"] == "contract text"
    assert row["churn_probability_90d"] == pytest.approx(0.3) and row["expected_loss"] == pytest.approx(300.0)
    assert row["last_contact_date"] == "2024-12-01" and row["days_since_contact"] == 30
    assert row["scored_on"] == "2024-12-31"
    assert pd.isna(out.set_index("customer_id").loc[2, "phone"])  # invalid number left blank


def test_without_scores_or_driver_groups(tmp_path):
    plain = open_database(build_database(tmp_path / "plain.duckdb", customers=CUSTOMERS[:1]))
    try:
        r = at_risk_customers(plain, FLT)
        assert not r.available and "python -m analytics.score" in r.message
        assert not driver_filter_available(plain) and margin_at_risk_trend(plain, FLT).empty
        assert score_history(plain, 1, AS_OF).empty
    finally:
        plain.close()
    old_columns = {k: v for k, v in OPTIONAL_TABLES["churn_scores"].items()
                   if not k.startswith("driver_group") and k != "clv_future"}
    old_rows = [{k: v for k, v in row.items() if k in old_columns} for row in SCORES]
    old = open_database(build_database(tmp_path / "old.duckdb", customers=CUSTOMERS,
                                       extra_tables={"churn_scores": (old_columns, old_rows)}))
    try:
        assert not driver_filter_available(old)
        assert ids(at_risk_customers(old, FLT)) == [2, 1, 3]  # the list works, only the driver filter needs groups
        with pytest.raises(ValueError, match="driver"):
            at_risk_customers(old, FLT, AtRiskCriteria(driver_groups=("contract",)))
    finally:
        old.close()


def test_criteria_validation():
    with pytest.raises(ValueError):
        AtRiskCriteria(min_probability=1.5)
    with pytest.raises(ValueError):
        AtRiskCriteria(not_contacted_days=-1)
    with pytest.raises(ValueError, match="tier"):
        AtRiskCriteria(value_tiers=("diamond",))


# --- expected loss = p × future value, not p × predicted CLV (issue 14) ----------------------
#
# Two active customers scored on 2024-12-31:
#   1 (consumer): p 0.5, 9,000 already earned, future value 200   -> loss 0.5 × 200   = 100
#   2 (consumer): p 0.2, 100 already earned, future value 1,000    -> loss 0.2 × 1,000 = 200
# The old definition p × CLV pred gave 1: 0.5 × 9,200 = 4,600 and 2: 0.2 × 1,100 = 220,
# ranking customer 1 first and putting 4,820 "at risk", 4,550 of it margin already banked.
# The new order is 2, 1 and margin at risk is 300. An earlier scoring (2024-11-30, written
# before clv_future existed: NULL there, its stored expected_loss the old p × CLV pred)
# counts p × (CLV pred − historical): 1: 0.5 × (9,100 − 9,000) = 50, 2: 0.2 × (1,050 − 50) = 200.

def _banked_vs_future_rows(with_future_column: bool) -> list[dict]:
    rows = [score(1, DEC, 0.5, 200.0, historical=9000.0), score(2, DEC, 0.2, 1000.0, historical=100.0)]
    old = [score(1, NOV, 0.5, 100.0, historical=9000.0), score(2, NOV, 0.2, 1000.0, historical=50.0)]
    for row in old:
        row["expected_loss"] = row["churn_probability"] * row["clv_predicted"]  # the old scorer's column
        row["clv_future"] = None
    rows += old
    if not with_future_column:
        for row in rows:
            row["expected_loss"] = row["churn_probability"] * row["clv_predicted"]
            del row["clv_future"]
    return rows


@pytest.mark.parametrize("with_future_column", [True, False], ids=["clv_future", "older-file"])
def test_banked_margin_is_not_at_risk(tmp_path, with_future_column):
    columns = OPTIONAL_TABLES["churn_scores"] if with_future_column else {
        k: v for k, v in OPTIONAL_TABLES["churn_scores"].items() if k != "clv_future"}
    path = build_database(tmp_path / "banked.duckdb", customers=CUSTOMERS[:2],
                          schema_info={"as_of_date": "2024-12-31", "history_start": "2022-01-01"},
                          extra_tables={"churn_scores": (columns, _banked_vs_future_rows(with_future_column))})
    db = open_database(path)
    try:
        r = at_risk_customers(db, FLT)
        assert ids(r) == [2, 1]  # the old definition ranked 1 first (4,600 vs 220)
        c = r.customers.set_index("customer_id")
        assert c["expected_loss"].to_dict() == pytest.approx({1: 100.0, 2: 200.0})
        assert c["clv_future"].to_dict() == pytest.approx({1: 200.0, 2: 1000.0})
        assert c["value_tier"].to_dict() == {2: "platinum", 1: "silver"}  # by future value, not CLV pred
        assert r.population_expected_loss == pytest.approx(300.0)  # old: 4,820
        risk = margin_at_risk(db, FLT)
        assert risk.total_expected_loss == pytest.approx(300.0)
        assert risk.top_expected_loss == pytest.approx(200.0)  # the riskiest 10% of 2 = customer 2
        trend = margin_at_risk_trend(db, FLT)
        assert trend["expected_loss"].tolist() == pytest.approx([250.0, 300.0])  # old: 4,595 and 4,820
        history = score_history(db, 1, AS_OF)
        assert history["expected_loss"].tolist() == pytest.approx([50.0, 100.0])
    finally:
        db.close()


def test_scores_without_a_future_value_say_what_is_missing(tmp_path):
    # a file from another tool: a probability and one CLV column. Whether that CLV includes
    # the margin already earned is unknown, so no loss is guessed (the old reader used p × clv).
    path = build_database(tmp_path / "other.duckdb", customers=CUSTOMERS[:2],
                          extra_tables={"churn_scores": ({"customer_id": "BIGINT", "as_of_date": "DATE",
                                                          "churn_probability": "DOUBLE", "clv": "DOUBLE"},
                                                         [{"customer_id": 1, "as_of_date": DEC,
                                                           "churn_probability": 0.5, "clv": 9200.0}])})
    db = open_database(path)
    try:
        risk = margin_at_risk(db, FLT)
        assert not risk.available and "future value" in risk.message and "clv_future" in risk.message
        assert margin_at_risk_trend(db, FLT).empty
    finally:
        db.close()


def test_customer_360_says_when_historical_clv_is_truncated(tmp_path):
    # history starts 2023-03-01: customer 1 signed up 2023-01-01, before it (January and
    # February margin unseen), customer 2 on 2023-06-01, after it
    path = build_database(tmp_path / "late-history.duckdb", customers=CUSTOMERS[:2],
                          schema_info={"as_of_date": "2024-12-31", "history_start": "2023-03-01"})
    db = open_database(path)
    try:
        assert customer_profile(db, 1, AS_OF).clv_note() == (
            "Signed up before the history starts (2023-03-01): this counts only the margin since then.")
        assert customer_profile(db, 2, AS_OF).clv_note() == ""
    finally:
        db.close()
