"""MRR, MRR movements, NRR / GRR / gross revenue churn and ARPU, checked by hand."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.filters import RetentionFilter
from analytics.metrics.customer_base import churn_by_period
from analytics.metrics.revenue import (
    MOVEMENT_COLUMNS,
    MRR_COLUMNS,
    RETENTION_COLUMNS,
    mrr_by_month,
    mrr_movements,
    revenue_retention,
)
from analytics import rollups
from analytics.db import open_database
from tests.builders import build_database
from tests.unit.metrics.conftest import d, open_built

CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2023-11-01")),
    dict(customer_id=2, signup_date=d("2023-11-01"), churn_date=d("2024-02-10")),
    dict(customer_id=3, signup_date=d("2024-01-10"), segment="enterprise"),
    dict(customer_id=4, signup_date=d("2023-06-01"), segment="enterprise"),
]
# MRR by month (Dec 2023 .. Mar 2024):
#   c1: 100, 120, 80, 80      expansion in Jan, contraction in Feb
#   c2:  50,  50, 50, -       churns in Feb (no March row)
#   c3:   -,  30,  0, 40      new in Jan, zero in Feb, back in Mar (reactivation)
#   c4: 200, 200, 200, 250    expansion in Mar
MRR = {
    1: [100, 120, 80, 80],
    2: [50, 50, 50, None],
    3: [None, 30, 0, 40],
    4: [200, 200, 200, 250],
}
MONTHS = [d("2023-12-01"), d("2024-01-01"), d("2024-02-01"), d("2024-03-01")]
Q1 = RetentionFilter(d("2024-01-01"), d("2024-03-31"))


def _revenue_rows():
    return [
        dict(customer_id=c, month=m, mrr=v)
        for c, values in MRR.items()
        for m, v in zip(MONTHS, values)
        if v is not None
    ]


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS], monthly_revenue=_revenue_rows())


@pytest.fixture(params=["live", "rollup"])
def db_either_path_of(request, tmp_path):
    """`make(customers=..., monthly_revenue=...)` opens the data without rollups (live
    queries) and, in the second run, with fresh rollups."""
    opened = []

    def make(**tables):
        path = tmp_path / f"revenue-{request.param}-{len(opened)}.duckdb"
        build_database(path, **tables)
        if request.param == "rollup":
            assert rollups.main(["--db", str(path)]) == rollups.EXIT_OK
        db = open_database(path)
        assert (rollups.fresh_rollup(db, rollups.MRR_MOVEMENTS) is not None) == (request.param == "rollup")
        opened.append(db)
        return db

    yield make
    for db in opened:
        db.close()


@pytest.fixture
def db_either_path(db_either_path_of):
    """The module's data, without rollups and with fresh rollups."""
    return db_either_path_of(customers=[dict(c) for c in CUSTOMERS], monthly_revenue=_revenue_rows())


def test_mrr_and_arpu(db):
    df = mrr_by_month(db, Q1)
    assert list(df.columns) == list(MRR_COLUMNS)
    # Jan 120+50+30+200 = 400 over 4 payers; Feb 80+50+0+200 = 330 over 3 (c3 pays 0);
    # Mar 80+40+250 = 370 over 3.
    assert df["mrr"].tolist() == [400, 330, 370]
    assert df["paying_customers"].tolist() == [4, 3, 3]
    assert df["arpu"].tolist() == pytest.approx([100, 110, 370 / 3])


def test_mrr_movements(db):
    df = mrr_movements(db, Q1).set_index("month")
    jan, feb, mar = (df.loc[f"2024-0{m}-01"] for m in (1, 2, 3))
    # Jan: start = Dec 100+50+200 = 350; c1 +20 expansion; c3 new 30 (signed up in Jan).
    assert (jan.start_mrr, jan.new_mrr, jan.expansion_mrr, jan.end_mrr) == (350, 30, 20, 400)
    assert (jan.contraction_mrr, jan.churned_mrr, jan.reactivation_mrr) == (0, 0, 0)
    # Feb: c1 120 -> 80 contraction 40; c3 30 -> 0 churned 30; end 330.
    assert (feb.contraction_mrr, feb.churned_mrr, feb.end_mrr, feb.net_new_mrr) == (40, 30, 330, -70)
    # Mar: c2 50 -> none churned 50; c3 0 -> 40 reactivation (signed up in Jan); c4 +50.
    assert (mar.churned_mrr, mar.reactivation_mrr, mar.expansion_mrr, mar.new_mrr) == (50, 40, 50, 0)
    assert mar.end_mrr == 370


def test_revenue_retention_by_month(db_either_path):
    df = revenue_retention(db_either_path, Q1, "month")
    assert list(df.columns) == list(RETENTION_COLUMNS)
    # The book of month m = customers active at its 1st who paid in m-1; churned by its
    # end -> end MRR 0.
    # Jan: active at Jan 1 and paying in Dec: c1 100, c2 50, c4 200 = 350 (c3 signs up
    #      Jan 10) -> Jan 120 + 50 + 200 = 370.
    # Feb: c1 120, c2 50, c3 30, c4 200 = 400 -> c1 80, c2 0 (churned Feb 10, although
    #      billed 50 in Feb), c3 0, c4 200 = 280; contraction 40 (c1), churned 50 + 30:
    #      gross revenue churn 120/400.
    # Mar: c2 left in Feb, c3 paid 0 in Feb: book c1 80, c4 200 = 280 -> 80 + 250 = 330;
    #      expansion 50 (c4), nothing lost.
    # The old definition (book = paying in m-1, end = MRR in m) gave Feb 330/400 (c2's
    # churn-month bill looked retained) and Mar start 330 with c2 in the book and churned
    # a month late: start_mrr [350, 400, 330], churn [0, 70/400, 50/330].
    assert df["start_mrr"].tolist() == [350, 400, 280]
    assert df["start_customers"].tolist() == [3, 4, 2]
    assert df["nrr"].tolist() == pytest.approx([370 / 350, 280 / 400, 330 / 280])
    assert df["gross_revenue_churn"].tolist() == pytest.approx([0.0, 120 / 400, 0.0])
    assert df["grr"].tolist() == pytest.approx([1.0, 280 / 400, 1.0])
    assert df["churned_mrr"].tolist() == [0, 80, 0]
    assert df["expansion_mrr"].tolist() == [20, 0, 50]


def test_revenue_retention_over_the_quarter_compares_start_and_end(db):
    df = revenue_retention(db, Q1, "range")
    # Book = Dec payers c1 100, c2 50, c4 200 = 350; their March MRR 80, 0, 250 = 330.
    # contraction c1 20, churned c2 50 -> gross revenue churn 70/350 = 0.2, GRR 0.8,
    # expansion c4 50, NRR 330/350. c3 (new in January) is outside the book.
    row = df.iloc[0]
    assert (row.start_mrr, row.retained_end_mrr, row.contraction_mrr, row.churned_mrr, row.expansion_mrr) == (
        350, 330, 20, 50, 50,
    )
    assert row.gross_revenue_churn == pytest.approx(0.2)
    assert row.grr == pytest.approx(0.8)
    assert row.nrr == pytest.approx(330 / 350)
    q = revenue_retention(db, Q1, "quarter")
    assert q["nrr"].tolist() == pytest.approx([330 / 350]) and q["period"].tolist() == ["2024Q1"]


def test_segment_filter(db):
    flt = RetentionFilter(Q1.start, Q1.end, segments=("enterprise",))
    # Enterprise = c3, c4. Jan MRR 30 + 200; Jan movements: start 200 (c4), new 30 (c3).
    assert mrr_by_month(db, flt)["mrr"].tolist() == [230, 200, 290]
    jan = mrr_movements(db, flt).iloc[0]
    assert (jan.start_mrr, jan.new_mrr, jan.end_mrr) == (200, 30, 230)
    # Quarter: book c4 200 -> 250: NRR 1.25, GRR 1 (capped at the start MRR).
    row = revenue_retention(db, flt, "range").iloc[0]
    assert (row.nrr, row.grr) == (pytest.approx(1.25), pytest.approx(1.0))


def test_partial_range_reads_the_months_holding_its_days(db_either_path):
    flt = RetentionFilter(d("2024-01-15"), d("2024-02-10"))
    assert mrr_by_month(db_either_path, flt)["month"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02"]
    row = revenue_retention(db_either_path, flt, "range").iloc[0]
    # Book = active at Jan 15 (c3 signed up Jan 10, so all four) at the MRR of the month
    # holding Jan 14, January: 120 + 50 + 30 + 200 = 400. End = February's MRR, 0 for c2
    # who churned on Feb 10 (the last day): 80 + 0 + 0 + 200 = 280.
    # Old (whole months Jan..Feb): book = Dec payers 350 -> Feb 80 + 50 + 200 = 330.
    assert (row.start_customers, row.start_mrr, row.retained_end_mrr, row.churned_mrr) == (4, 400, 280, 80)
    by_month = revenue_retention(db_either_path, flt, "month")
    # The months are clipped to the filter as logo churn's are: Jan 15-31 starts and ends
    # in January (MRR cannot move inside a month: nothing lost, NRR 1); Feb 1-10 is the
    # February book (400) losing c2 (churned Feb 10) and c3 (0 in Feb), c1 contracting 40.
    # Old: Jan 350 -> 370 and Feb 400 -> 330, both marked whole (not partial).
    assert by_month["partial"].tolist() == [True, True]
    assert by_month["start_mrr"].tolist() == [400, 400]
    assert by_month["retained_end_mrr"].tolist() == [400, 280]
    assert by_month["gross_revenue_churn"].tolist() == pytest.approx([0.0, 120 / 400])


# --- the book follows the customers (issue 14): traps the old definition fell into -------
#
# The old definition: book = customers with MRR > 0 in the month before the first month,
# end = their MRR in the last month, churn_date ignored. Each fixture below has a steady
# customer B (200 a month) next to the trap.

STEADY = dict(customer_id=100, signup_date=d("2023-06-01"))


def _steady_rows(months):
    return [dict(customer_id=100, month=m, mrr=200.0) for m in months]


QUARTER_MONTHS = [d("2023-12-01"), d("2024-01-01"), d("2024-02-01"), d("2024-03-01")]


def test_a_churn_on_the_second_of_the_first_month_is_lost_in_that_month(db_either_path_of):
    # (a) A: active at Jan 1, churns on Jan 2, billed 100 for December *and* January.
    db = db_either_path_of(
        customers=[dict(customer_id=1, signup_date=d("2023-06-01"), churn_date=d("2024-01-02")), STEADY],
        monthly_revenue=[dict(customer_id=1, month=m, mrr=100.0) for m in QUARTER_MONTHS[:2]]
        + _steady_rows(QUARTER_MONTHS),
    )
    jan, feb = revenue_retention(db, Q1, "month").iloc[:2].itertuples()
    # New: book A 100 + B 200 = 300; A churned on Jan 2 <= Jan 31 -> end 0 + 200.
    #   churned 100, gross revenue churn 100/300 = 1/3, NRR = GRR = 200/300. February's
    #   book is B alone (A is not active on Feb 1).
    # Old: A's January bill looked retained: end 100 + 200 = 300, NRR 1.0, churn 0 — next
    #   to a logo churn of 1/2 for January — and A was lost a month late, in February
    #   (book 2 customers, 300, churn 1/3).
    assert (feb.start_customers, feb.start_mrr, feb.gross_revenue_churn) == (1, 200, 0.0)
    assert (jan.start_customers, jan.start_mrr, jan.retained_end_mrr, jan.churned_mrr) == (2, 300, 200, 100)
    assert jan.gross_revenue_churn == pytest.approx(1 / 3)
    assert (jan.nrr, jan.grr) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    # ... and the month lines up with logo churn's: the same customer leaves in January.
    logo = churn_by_period(db, Q1, "month").iloc[0]
    assert (logo.active_start, logo.churned_from_start) == (2, 1)
    # Over the quarter both definitions agree (A has no March row): NRR 200/300.
    assert revenue_retention(db, Q1, "range").iloc[0].nrr == pytest.approx(2 / 3)


def test_b_a_bill_in_the_churn_month_at_the_period_end_is_churned_mrr(make_db):
    # (b) C: churns on Mar 20 2024 and is billed 100 every month, March included.
    db = make_db(
        customers=[dict(customer_id=1, signup_date=d("2023-06-01"), churn_date=d("2024-03-20")), STEADY],
        monthly_revenue=[dict(customer_id=1, month=m, mrr=100.0) for m in QUARTER_MONTHS]
        + _steady_rows(QUARTER_MONTHS),
    )
    row = revenue_retention(db, Q1, "quarter").iloc[0]
    # New: book C 100 + B 200 = 300 (Dec MRR); C churned on Mar 20 <= Mar 31 -> end 0.
    #   churned 100, gross revenue churn 1/3, NRR = GRR = 2/3.
    # Old: C's March bill made C look retained: NRR 300/300 = 1.0, churn 0.
    assert (row.start_mrr, row.retained_end_mrr, row.churned_mrr) == (300, 200, 100)
    assert (row.gross_revenue_churn, row.nrr, row.grr) == (
        pytest.approx(1 / 3), pytest.approx(2 / 3), pytest.approx(2 / 3),
    )


def test_c_a_customer_gone_before_the_period_is_not_in_its_book(make_db):
    # (c) D: churns on Dec 15 2023, billed 100 in December (its churn month), no later rows.
    db = make_db(
        customers=[dict(customer_id=1, signup_date=d("2023-06-01"), churn_date=d("2023-12-15")), STEADY],
        monthly_revenue=[dict(customer_id=1, month=QUARTER_MONTHS[0], mrr=100.0)]
        + _steady_rows(QUARTER_MONTHS),
    )
    row = revenue_retention(db, Q1, "quarter").iloc[0]
    # New: D is not active on Jan 1, so the book is B alone: 200 -> 200, NRR 1, churn 0,
    #   1 customer — as logo churn's active_start.
    # Old: D paid in December, so D was in the book and "churned" in Q1: start 300,
    #   churned 100, gross revenue churn 1/3, NRR 2/3, 2 customers.
    assert (row.start_customers, row.start_mrr, row.churned_mrr) == (1, 200, 0)
    assert (row.gross_revenue_churn, row.nrr) == (0.0, 1.0)
    assert churn_by_period(db, Q1, "quarter").iloc[0].active_start == 1


def test_d_expansion_and_contraction_count_only_for_those_still_there(make_db):
    # (d) E 100 -> 150 (expansion 50), F 200 -> 120 (contraction 80), and H 100 -> 300 in
    #     March, the month H churns (Mar 15): H's "expansion" is a churn.
    rows = {1: (100, 100, 150, 150), 2: (200, 200, 120, 120), 3: (100, 100, 100, 300)}
    db = make_db(
        customers=[
            dict(customer_id=1, signup_date=d("2023-06-01")),
            dict(customer_id=2, signup_date=d("2023-12-31")),  # active at Jan 1, billed in Dec
            dict(customer_id=3, signup_date=d("2023-06-01"), churn_date=d("2024-03-15")),
        ],
        monthly_revenue=[
            dict(customer_id=c, month=m, mrr=float(v))
            for c, values in rows.items()
            for m, v in zip(QUARTER_MONTHS, values)
        ],
    )
    row = revenue_retention(db, Q1, "range").iloc[0]
    # New: start 100 + 200 + 100 = 400; end 150 + 120 + 0 = 270.
    #   expansion 50, contraction 80, churned 100: gross revenue churn 180/400 = 0.45,
    #   NRR 270/400 = 0.675, GRR (100 + 120 + 0)/400 = 0.55.
    # Old: end 150 + 120 + 300 = 570, expansion 250, churned 0: churn 0.2, NRR 1.425, GRR 0.8.
    assert (row.start_mrr, row.retained_end_mrr) == (400, 270)
    assert (row.expansion_mrr, row.contraction_mrr, row.churned_mrr) == (50, 80, 100)
    assert (row.gross_revenue_churn, row.nrr, row.grr) == (
        pytest.approx(0.45), pytest.approx(0.675), pytest.approx(0.55),
    )


def test_e_an_active_customer_without_revenue_at_the_start_is_outside_the_book(make_db):
    # (e) I: active all quarter, no December row, pays 80 from February. J: active at
    #     Jan 1 with no revenue row at all, churns Feb 1.
    db = make_db(
        customers=[
            dict(customer_id=1, signup_date=d("2023-06-01")),
            dict(customer_id=2, signup_date=d("2023-06-01"), churn_date=d("2024-02-01")),
            STEADY,
        ],
        monthly_revenue=[dict(customer_id=1, month=m, mrr=80.0) for m in QUARTER_MONTHS[2:]]
        + _steady_rows(QUARTER_MONTHS),
    )
    row = revenue_retention(db, Q1, "range").iloc[0]
    # I and J are active at Jan 1 (logo churn counts 3, J churned) but had no MRR to keep:
    # they add 0 to the start MRR and are not counted in start_customers; I's 80 later is
    # new/reactivated MRR, not expansion. Book = B: 200 -> 200, NRR 1.0, churn 0.
    # The old definition gives the same (neither paid in December). A plausible wrong one —
    # the book = every active customer, start 0 for I and J — would give NRR (200 + 80)/200
    # = 1.4 and start_customers 3.
    assert (row.start_customers, row.start_mrr, row.retained_end_mrr, row.expansion_mrr) == (1, 200, 200, 0)
    assert (row.nrr, row.grr, row.gross_revenue_churn) == (1.0, 1.0, 0.0)
    logo = churn_by_period(db, Q1, "range").iloc[0]
    assert (logo.active_start, logo.churned_from_start) == (3, 1)


def test_empty_selection(db):
    flt = RetentionFilter(Q1.start, Q1.end, plans=("no-such-plan",))
    for fn, cols in ((mrr_by_month, MRR_COLUMNS), (mrr_movements, MOVEMENT_COLUMNS)):
        df = fn(db, flt)
        assert df.empty and list(df.columns) == list(cols)
    for freq in ("month", "quarter", "range"):
        df = revenue_retention(db, flt, freq)
        assert df.empty and list(df.columns) == list(RETENTION_COLUMNS)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    series=st.lists(
        st.lists(st.one_of(st.none(), st.integers(0, 300)), min_size=6, max_size=6),
        min_size=1,
        max_size=8,
    ),
    freq=st.sampled_from(["month", "quarter", "range"]),
)
def test_movements_add_up_and_rates_are_bounded(tmp_path_factory, series, freq):
    months = [date(2024, m, 1) for m in range(1, 7)]
    custs = [dict(customer_id=i, signup_date=date(2023, 12, 15)) for i in range(1, len(series) + 1)]
    rows = [
        dict(customer_id=i, month=m, mrr=float(v))
        for i, values in enumerate(series, start=1)
        for m, v in zip(months, values)
        if v is not None
    ]
    db = open_built(tmp_path_factory.mktemp("rev"), customers=custs, monthly_revenue=rows)
    flt = RetentionFilter(date(2024, 2, 1), date(2024, 6, 30))
    try:
        mov = mrr_movements(db, flt)
        ret = revenue_retention(db, flt, freq)
    finally:
        db.close()
    for r in mov.itertuples():
        assert r.start_mrr + r.new_mrr + r.reactivation_mrr + r.expansion_mrr - r.contraction_mrr - r.churned_mrr == pytest.approx(r.end_mrr)
        assert min(r.new_mrr, r.reactivation_mrr, r.expansion_mrr, r.contraction_mrr, r.churned_mrr) >= 0
    for r in ret.itertuples():
        if r.start_mrr > 0:
            assert 0.0 <= r.grr <= 1.0 + 1e-12
            assert r.nrr >= r.grr - 1e-12
            assert r.gross_revenue_churn == pytest.approx(1.0 - r.grr)
            assert r.nrr == pytest.approx(r.grr + r.expansion_mrr / r.start_mrr)
