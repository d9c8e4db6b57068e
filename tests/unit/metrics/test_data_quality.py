"""Data-quality checks and their 1-10-100 costs, by hand and against the generator's
ground truth (`injected_defects`)."""

from __future__ import annotations

import pytest

from analytics.filters import RetentionFilter
from analytics.metrics.data_quality import REPORT_COLUMNS, data_quality_report
from tests.unit.metrics.conftest import d, dt

FLT = RetentionFilter(d("2024-01-01"), d("2024-06-30"))  # the file's as-of date is 2024-12-31
CUSTOMERS = [
    dict(customer_id=1, full_name="Dana Cohen", email="dana@x.com", phone="050-1234567", signup_date=d("2023-01-01")),
    dict(customer_id=2, full_name="dana  cohen ", email="DANA@X.COM", phone=None, signup_date=d("2023-02-01")),
    dict(customer_id=3, full_name="Avi Levi", email=None, phone="0501234567", signup_date=d("2023-01-01")),
    dict(customer_id=4, full_name="Avi Levi", email="avi at x.com", phone="052-7654321", signup_date=d("2023-01-01")),
    dict(customer_id=5, full_name="Avi  Levi", email="other@x.com", phone="052-7654321", signup_date=d("2023-03-01")),
    dict(customer_id=6, full_name="Noa", email="noa@x.com", phone="12345", signup_date=d("2023-01-01")),
    dict(customer_id=7, full_name="Noa", email="noa2@x.com", phone="12345", signup_date=d("2023-01-01")),
    dict(customer_id=8, full_name="Eli", email="eli@x.com", phone="054-1111111", signup_date=d("2024-02-01"),
         churn_date=d("2024-01-01"), churn_reason="price"),
    dict(customer_id=9, full_name="Gal", email="gal@x.com", phone="054-2222222", signup_date=d("2023-01-01"),
         churn_date=d("2024-01-10")),
    dict(customer_id=10, full_name="Uri", email="uri@x.com", phone="054-3333333", segment="vip",
         acquisition_cost=-5.0, signup_date=d("2025-01-01")),
]
TOUCHPOINTS = [
    dict(touchpoint_id=1, customer_id=9, occurred_at=dt("2024-01-10 18:00")),  # on the churn day: fine
    dict(touchpoint_id=2, customer_id=9, occurred_at=dt("2024-01-11 09:00")),  # the day after: fails
    dict(touchpoint_id=3, customer_id=8, occurred_at=dt("2024-03-01 09:00")),  # c8 fails churn_before_signup instead
    dict(touchpoint_id=4, customer_id=1, occurred_at=dt("2025-02-01 09:00")),  # after the as-of date
    dict(touchpoint_id=5, customer_id=999, occurred_at=dt("2024-02-01 09:00")),  # unknown customer
]
REVENUE = [
    dict(customer_id=1, month=d("2024-01-01"), mrr=-10.0),
    dict(customer_id=1, month=d("2025-02-01"), mrr=10.0),
    dict(customer_id=3, month=d("2024-01-01"), mrr=10.0),
]


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS], touchpoints=[dict(t) for t in TOUCHPOINTS],
                   monthly_revenue=REVENUE)


def test_every_check_by_hand(db):
    df = data_quality_report(db, FLT, examples=5, unit_cost=2.5)
    assert list(df.columns) == list(REPORT_COLUMNS)
    got = {r.check: (r.failing, r.examples) for r in df.itertuples()}
    assert got == {
        "missing_email": (1, [3]),
        "missing_phone": (1, [2]),
        "missing_name": (0, []),
        "missing_attributes": (0, []),
        "churn_without_reason": (1, [9]),
        "invalid_email": (1, [4]),  # "DANA@X.COM" is valid, "avi at x.com" is not
        "invalid_phone": (3, [3, 6, 7]),  # no dash; placeholder "12345" twice
        "inconsistent_category": (0, []),  # segment "vip" is a value of the data, spelt one way
        "invalid_amount": (1, [10]),  # acquisition_cost -5
        # c2 = c1 by name ("dana  cohen " normalised) + e-mail (case-insensitive);
        # c5 = c4 by name + valid phone. c6/c7 share only a placeholder phone: not duplicates.
        "duplicate_customer": (2, [2, 5]),
        "duplicate_customer_id": (0, []),
        "churn_before_signup": (1, [8]),
        "future_customer_dates": (1, [10]),  # signup 2025-01-01 > as-of 2024-12-31
        "touchpoint_after_churn": (1, [2]),
        "future_touchpoints": (1, [4]),
        "orphan_touchpoints": (1, [5]),
        "negative_revenue": (1, [1]),
        "future_revenue": (1, [1]),
    }
    phone = df.set_index("check").loc["invalid_phone"]
    # 3 records: 1-10-100 × 2.5 per unit -> 7.5 / 75 / 750; rate 3 of 10 customers.
    assert (phone.prevention_cost, phone.correction_cost, phone.failure_cost) == (7.5, 75.0, 750.0)
    assert phone.rate == pytest.approx(0.3)
    assert df.set_index("check").loc["orphan_touchpoints", "checked"] == 5


def test_examples_are_capped_and_as_of_overrides(db):
    df = data_quality_report(db, FLT, examples=1, as_of=d("2025-06-30")).set_index("check")
    assert df.loc["invalid_phone", "examples"] == [3]
    # With a later as-of date nothing is in the future any more.
    assert df.loc[["future_customer_dates", "future_touchpoints", "future_revenue"], "failing"].tolist() == [0, 0, 0]


def test_population_filter_applies(db):
    consumer = RetentionFilter(FLT.start, FLT.end, segments=("consumer",))
    df = data_quality_report(db, consumer).set_index("check")
    # c10 ("vip") and the unknown customer's touchpoint are outside the selection.
    assert df.loc["missing_email", "checked"] == 9
    assert df.loc[["inconsistent_category", "orphan_touchpoints"], "failing"].tolist() == [0, 0]


def test_empty_selection(db):
    df = data_quality_report(db, RetentionFilter(FLT.start, FLT.end, segments=("none",)))
    assert list(df.columns) == list(REPORT_COLUMNS)
    assert (df["failing"] == 0).all() and df["rate"].isna().all()
    with pytest.raises(ValueError):
        data_quality_report(db, FLT, examples=-1)


def test_recovers_the_generators_planted_defects(sample_db):
    """On the generated sample every planted defect is found. Counts may exceed the
    plant by the duplicates the generator copied from defective originals. A planted
    duplicate whose original has neither an e-mail nor a valid phone shares only a name
    with it, which the rule does not treat as a duplicate (common names would pair up
    strangers)."""
    flt = RetentionFilter(d("2024-01-01"), d(sample_db.schema_info()["as_of_date"]))
    report = data_quality_report(sample_db, flt).set_index("check")
    planted = dict(
        sample_db.cursor().execute("select defect, count(*) from injected_defects group by 1").fetchall()
    )
    copies = planted.get("duplicate_customer", 0)
    detectable = sample_db.cursor().execute(
        """select count(*) from injected_defects i
           join customers o on o.customer_id = cast(i.detail as bigint)
           where i.defect = 'duplicate_customer'
             and (o.email is not null or regexp_matches(o.phone, '^05\\d-\\d{7}$'))"""
    ).fetchone()[0]
    assert copies - detectable <= 0.02 * copies
    assert report.loc["duplicate_customer", "failing"] == detectable
    for check in ("missing_email", "invalid_email", "missing_phone", "invalid_phone", "churn_before_signup",
                  "touchpoint_after_churn"):
        assert planted[check] <= report.loc[check, "failing"] <= planted[check] + copies + 20, check


# ----------------------------------------------------------------------------- inconsistent_category
# Category values come from the data: "Satellite" is a plan of this file, not an error. A value
# fails when it is blank, has surrounding whitespace, or is a rarer spelling of a value once case
# and spaces are folded (the usual spelling: most records among the unpadded ones, ties by sort
# order). Before issue 13 the check flagged every value outside the sample business's lists.
SPELLINGS = [
    dict(customer_id=1, plan="basic"),
    dict(customer_id=2, plan="basic"),
    dict(customer_id=3, plan="Basic"),  # rarer spelling of "basic" (2 records): fails
    dict(customer_id=4, plan=" basic"),  # surrounding whitespace: fails
    dict(customer_id=5, plan="Satellite"),  # the file's own plan, one spelling: passes
    dict(customer_id=6, plan=""),  # blank: fails
]


def _spelling_db(make_db, rows):
    return make_db(customers=[dict(r, signup_date=d("2023-01-01"), email=f"c{r['customer_id']}@x.com",
                                   phone="050-1234567", full_name=f"Customer {r['customer_id']}")
                              for r in rows])


def test_inconsistent_category_by_hand(make_db):
    db = _spelling_db(make_db, SPELLINGS)
    row = data_quality_report(db, FLT, examples=10).set_index("check").loc["inconsistent_category"]
    assert (row.checked, row.failing, row.examples) == (6, 3, [3, 4, 6])
    assert row.rate == pytest.approx(3 / 6) and row.dimension == "validity"


def test_inconsistent_category_ties_padding_and_every_column(make_db):
    rows = [
        # region: "North" and "north" one record each -> tie, "North" sorts first and is usual
        dict(customer_id=1, region="North"), dict(customer_id=2, region="north"),
        # segment: " premium " is the most frequent spelling but padded, so the clean
        # "SMB premium" is usual; "smb  premium" (double space) folds to it and is rarer
        dict(customer_id=3, segment=" SMB premium "), dict(customer_id=4, segment=" SMB premium "),
        dict(customer_id=5, segment="SMB premium"), dict(customer_id=6, segment="smb  premium"),
        # churn_reason: NULL never fails (missing, not inconsistent); "Price" is the rarer spelling
        dict(customer_id=7, churn_reason="price"), dict(customer_id=8, churn_reason="price"),
        dict(customer_id=9, churn_reason="Price"), dict(customer_id=10, churn_reason=None),
        # acquisition_channel / contract_type: whitespace-only is blank
        dict(customer_id=11, acquisition_channel="   "), dict(customer_id=12, contract_type="Annual\t"),
    ]
    db = _spelling_db(make_db, rows)
    row = data_quality_report(db, FLT, examples=20).set_index("check").loc["inconsistent_category"]
    assert row.examples == [2, 3, 4, 6, 9, 11, 12] and row.failing == 7


def test_inconsistent_category_is_judged_over_the_whole_file(make_db):
    # selecting only the "Basic" record: it is still the rarer spelling of the file's "basic"
    db = _spelling_db(make_db, SPELLINGS)
    only = RetentionFilter(FLT.start, FLT.end, plans=("Basic",))
    row = data_quality_report(db, only).set_index("check").loc["inconsistent_category"]
    assert (row.checked, row.failing, row.examples) == (1, 1, [3])


def test_inconsistent_category_from_the_rollup_equals_live(tmp_path):
    from analytics import rollups
    from analytics.db import open_database
    from tests.builders import build_database

    path = tmp_path / "spellings.duckdb"
    build_database(path, customers=[dict(r, signup_date=d("2023-01-01")) for r in SPELLINGS])
    assert rollups.main(["--db", str(path)]) == rollups.EXIT_OK
    db = open_database(path)
    try:
        assert rollups.fresh_rollups(db, *rollups.ROLLUPS) is not None
        for flt in (FLT, RetentionFilter(FLT.start, FLT.end, plans=("Basic", "Satellite"))):
            from_rollup = data_quality_report(db, flt).set_index("check").loc["inconsistent_category"]
            with rollups.disabled():
                live = data_quality_report(db, flt).set_index("check").loc["inconsistent_category"]
            assert (from_rollup.failing, from_rollup.examples) == (live.failing, live.examples)
        assert from_rollup.examples == [3]  # "Basic" fails, "Satellite" passes
    finally:
        db.close()
