"""Cubes per period, slices per filter (analytics/cubes.py): every cube's slice equals the
same query with the filter applied in SQL, on the generated sample, for filters that hit
each dimension, several values, a value nobody has, and channels; and the slicing rules on
a hand-built cube (NULL cells, empty selections)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

import analytics.at_risk  # noqa: F401  (registers its cubes)
import analytics.metrics  # noqa: F401  (registers every metric's cubes)
from analytics.cubes import CUBES, fetch, slice_cube
from analytics.filters import RetentionFilter
from analytics.metrics.revenue import _waterfall_steps
from analytics.metrics.service import DEFAULT_SLA_SECONDS

# The arguments each cube is exercised with (after db and filter). A cube missing here
# fails `test_every_cube_is_exercised`.
# Month keys (year × 12 + month) of 2025.
_JAN, _MAR, _JUN, _DEC = (2025 * 12 + m for m in (1, 3, 6, 12))
_Q2_MONTHS = (date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1))
_DAYS = (date(2024, 12, 31), date(2025, 3, 14), date(2025, 6, 30), date(2025, 12, 31))

CUBE_ARGS: dict[str, list[tuple]] = {
    "analytics.metrics.customer_base._signup_churn_counts": [("month",), ("quarter",), ("range",)],
    "analytics.metrics.funnel._proactive_flag_counts": [()],
    "analytics.metrics.funnel._saved_count": [()],
    "analytics.metrics.funnel._saved_per_window": [
        (((date(2025, 1, 1), date(2025, 3, 31)), (date(2025, 4, 1), date(2025, 6, 30)), (date(2024, 10, 1), date(2025, 12, 31))),),
    ],
    "analytics.metrics.note_signals._note_totals": [(True, True), (True, False)],
    "analytics.metrics.note_signals._monthly_note_counts": [(True, True), (True, False)],
    "analytics.metrics.note_signals._signal_outcome_cube": [(True,)],
    "analytics.metrics.note_signals._example_candidates": [(3, True), (1, True)],
    "analytics.metrics.service._fcr_counts": [(True,), (False,)],
    "analytics.metrics.funnel._funnel_count_cube": [()],
    "analytics.metrics.predicted_value._active_margin_sums": [()],
    # the scored sample's scoring dates, read from it (a function of the database)
    "analytics.metrics.predicted_value._scored_value_sums": lambda db: [
        (d,) for d in sorted(db.ibis().to_pandas(db.table("churn_scores").select("as_of_date").distinct())["as_of_date"])[-2:]],
    "analytics.metrics.service._repeat_counts": [(True,), (False,)],
    "analytics.metrics.service._satisfaction_counts": [(True,), (False,)],
    # the default SLA thresholds; and one above the histogram's exact range (e-mail 24 h)
    # with a channel without a threshold
    "analytics.metrics.service._sla_histogram": [
        (tuple((ch, float(s)) for ch, s in DEFAULT_SLA_SECONDS.items()), False),
        ((("phone", 45.0), ("email", 7200.0)), True),
        # Apr–Jun 2025 from rollup_wait_histogram, the rest of each period live
        (tuple((ch, float(s)) for ch, s in DEFAULT_SLA_SECONDS.items()), False, _Q2_MONTHS),
        (tuple((ch, float(s)) for ch, s in DEFAULT_SLA_SECONDS.items()), True, _Q2_MONTHS)],
    "analytics.metrics.service._service_history_cube": [(date(2025, 6, 30), 90, 90, 4), (date(2025, 3, 1), 30, 60, 2)],
    "analytics.metrics.customer_base._active_count": [()],
    "analytics.metrics.churn_profile._active_start_cube": [
        (("segment",),), (("tenure_band", "plan", "contract_type"),), (("loyalty_member", "region"),)],
    "analytics.metrics.churn_profile._churned_by_tenure": [()],
    "analytics.metrics.churn_profile._churned_by_reason": [()],
    "analytics.metrics.churn_profile._churned_by_month_and_reason": [()],
    "analytics.metrics.cohorts._logo_cohort_counts": [()],
    "analytics.metrics.cohorts._cohort_sizes": [()],
    "analytics.metrics.cohorts._cohort_mrr": [()],
    "analytics.metrics.revenue._mrr_cube": [(True,), (False,)],
    # the sample comes with fresh rollups: both paths
    "analytics.metrics.revenue._movement_cube": [(_JAN, _DEC, True), (_JAN, _DEC, False)],
    "analytics.metrics.revenue._book_from_rollup": [((_JAN, _MAR, _JUN),)],
    "analytics.metrics.revenue._book_live": [("month",), ("quarter",), ("range",)],
    # whole months of H1 2025, and a window from 14 Mar to 20 May (partial first and last months)
    "analytics.metrics.revenue._waterfall_cube": [
        (_waterfall_steps(date(2024, 12, 31), date(2025, 6, 30)), False),
        (_waterfall_steps(date(2024, 12, 31), date(2025, 6, 30)), True),  # summed from the rollup
        (_waterfall_steps(date(2025, 3, 13), date(2025, 5, 20)), False)],
    "analytics.metrics.value._clv_accrual_at": [(_DAYS, True), (_DAYS, False)],
    "analytics.metrics.value._clv_cac_sums": [("segment", False), ("plan", False), ("contract_type", False),
                                              ("acquisition_channel", False)],
    "analytics.at_risk._loss_by_scoring_date": [()],
    # without `by` (the cells: "all" and by segment / region / plan), and by other dimensions
    "analytics.metrics.survival._survival_counts": [
        (None, False), (None, True), ("contract_type", False), ("loyalty_member", True), ("acquisition_channel", True)],
}

# Cubes that need another database than the sample (the fixture's name).
CUBE_DB: dict[str, str] = {"analytics.at_risk._loss_by_scoring_date": "scored_db",
                           "analytics.metrics.predicted_value._scored_value_sums": "scored_db"}

FILTERS = [
    RetentionFilter(date(2025, 1, 1), date(2025, 12, 31)),
    RetentionFilter(date(2025, 1, 1), date(2025, 12, 31), segments=("consumer",)),
    RetentionFilter(date(2025, 4, 1), date(2025, 6, 30), regions=("north", "center"), plans=("basic",)),
    RetentionFilter(date(2025, 1, 1), date(2025, 3, 31), segments=("no such segment",)),
    RetentionFilter(date(2025, 1, 1), date(2025, 12, 31), channels=("phone",)),
    RetentionFilter(date(2025, 1, 1), date(2025, 12, 31), segments=("small_business",), channels=("chat", "email")),
]


def test_every_cube_is_exercised() -> None:
    assert set(CUBES) == set(CUBE_ARGS), "add the new cube's arguments to CUBE_ARGS"


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(list(df.columns)).reset_index(drop=True) if len(df.columns) else df


@pytest.mark.parametrize("name", sorted(CUBE_ARGS))
def test_slice_equals_live_query(request, name) -> None:
    db = request.getfixturevalue(CUBE_DB.get(name, "sample_db"))
    sliced = CUBES[name]
    arguments = CUBE_ARGS[name]
    for args in (arguments(db) if callable(arguments) else arguments):
        for flt in FILTERS:
            got = _sorted(sliced(db, flt, *args))
            want = _sorted(sliced.live(db, flt, *args))
            pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=f"{name}{args} {flt}")


def _flt(**kw) -> RetentionFilter:
    return RetentionFilter(date(2025, 1, 1), date(2025, 1, 31), **kw)


# A hand-built cube: 3 cells × 1 key. The customer without a segment (None) counts under
# "all" only.
CUBE = pd.DataFrame({
    "segment": ["consumer", "consumer", None, "smb"],
    "region": ["north", "south", "north", "north"],
    "plan": ["basic", "basic", "basic", "pro"],
    "channel": ["phone", "chat", "phone", "phone"],
    "month": [1, 1, 1, 2],
    "contacts": [3, 4, 5, 7],
})


def test_all_counts_every_cell_including_null_ones() -> None:
    out = slice_cube(CUBE, _flt(), ["month"], channel=True)
    assert out.to_dict("list") == {"month": [1, 2], "contacts": [3 + 4 + 5, 7]}


def test_a_named_segment_leaves_out_null_cells() -> None:
    out = slice_cube(CUBE, _flt(segments=("consumer",)), ["month"], channel=True)
    assert out.to_dict("list") == {"month": [1], "contacts": [7]}


def test_dimensions_combine_as_and_and_values_as_or() -> None:
    out = slice_cube(CUBE, _flt(segments=("consumer", "smb"), regions=("north",), channels=("phone",)),
                     ["month"], channel=True)
    assert out.to_dict("list") == {"month": [1, 2], "contacts": [3, 7]}


def test_a_cube_without_channel_ignores_the_channel_choice() -> None:
    # by_channel=False: the builder applied the channel filter in its query already
    out = slice_cube(CUBE.drop(columns="channel"), _flt(channels=("chat",)), ["month"], channel=False)
    assert out["contacts"].tolist() == [12, 7]


def test_an_empty_selection_gives_zero_totals_or_no_rows() -> None:
    assert slice_cube(CUBE, _flt(segments=("nobody",)), ["month"], channel=True).empty
    total = slice_cube(CUBE, _flt(segments=("nobody",)), [], channel=True)
    assert total["contacts"].tolist() == [0]


def test_a_channel_change_reuses_a_customer_metric_cube(sample_db) -> None:
    # customer and revenue metrics ignore the channel filter (decision 003), so their cube
    # is kept once for every channel choice: the second call must not query again
    from analytics.cubes import _kept
    from analytics.metrics.customer_base import _active_count

    def kept() -> int:
        return sum(1 for key in _kept(sample_db)._frames if key[1] == "_active_count")

    flt = RetentionFilter(date(2025, 2, 1), date(2025, 2, 28), channels=("phone",))
    before = kept()
    first = _active_count(sample_db, flt)
    after_first = kept()
    second = _active_count(sample_db, RetentionFilter(flt.start, flt.end, channels=("chat", "email")))
    assert after_first == before + 1
    assert kept() == after_first
    assert first["n"].tolist() == second["n"].tolist()
    assert first["n"].iloc[0] > 0


def test_fetch_gives_the_types_of_to_pandas(sample_db) -> None:
    """`fetch` reads through Arrow; its frame equals Ibis's `to_pandas`, types included,
    for every kind of column a cube holds, each with and without NULLs."""
    import ibis

    c = sample_db.table("customers")
    expr = c.filter(c.customer_id <= 40).select(
        "customer_id", "segment", "signup_date", "churn_date", "loyalty_member",
        nullable_count=ibis.ifelse(c.churn_date.isnull(), ibis.null("int64"), c.customer_id),
        nullable_flag=ibis.ifelse(c.churn_date.isnull(), ibis.null("boolean"), c.customer_id > 20),
        nullable_text=ibis.ifelse(c.churn_date.isnull(), ibis.null("string"), c.segment),
        month=c.signup_date.truncate("M").cast("date"),
        at=c.signup_date.cast("timestamp"),
        share=c.customer_id / 7,
        total=c.customer_id.sum().over(),
    ).order_by("customer_id")
    got, want = fetch(sample_db, expr), sample_db.ibis().to_pandas(expr)
    assert want["churn_date"].isna().any() and want["churn_date"].notna().any()
    pd.testing.assert_frame_equal(got, want)
