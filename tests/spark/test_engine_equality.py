"""The same analytics on DuckDB and on Spark give the same answers (issue 15).

Each public metric function (analytics.metrics), the at-risk list and margin at risk
(analytics.at_risk), the headline KPIs and the rollup sources run on the DuckDB file and
on its Parquet export read by Spark (tests/spark/conftest.py); the results must be equal
up to row order, with floats equal to 1e-9 relative. Metrics run on their live queries
on both engines (`rollups.disabled()`), so Spark executes every query, not a stored
rollup. Integer widths may differ (Spark returns int32 for some date arithmetic and
counts of a window where DuckDB returns int64): both are whole numbers of the same value,
so "integer" is compared as one kind; likewise strings (object or string dtype)."""

from __future__ import annotations

import dataclasses
import inspect
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics import at_risk, headlines, metrics, rollups
from analytics.filters import RetentionFilter

AS_OF = date(2026, 9, 30)
YEAR = RetentionFilter(start=date(2025, 10, 1), end=AS_OF)
QUARTER = RetentionFilter(start=date(2026, 7, 1), end=AS_OF)
SLICED = RetentionFilter(start=date(2025, 10, 1), end=AS_OF, segments=("consumer",), regions=("north", "center"))
CHANNELS = RetentionFilter(start=date(2025, 10, 1), end=AS_OF, channels=("phone", "chat"))

# Every public metric function that reads the database, with its arguments.
METRIC_CASES: dict[str, list] = {
    "active_customers": [(YEAR,), (SLICED,)],
    "churn_by_dimension": [(YEAR, "plan"), (SLICED, "contract_type")],
    "churn_by_dimensions": [(YEAR, ("segment", "region"))],
    "churn_by_period": [(YEAR, "month"), (SLICED, "range")],
    "churn_by_service_histories": [(YEAR,)],
    "churn_by_service_history": [(YEAR, "contacts"), (CHANNELS, "unresolved")],
    "churn_reasons": [(YEAR,)],
    "churn_reasons_by_month": [(YEAR,)],
    "churn_summary": [(YEAR,), (SLICED,)],
    "clv_cac_ratio": [(YEAR, "segment"), (YEAR, "acquisition_channel")],
    "average_clv_at": [(YEAR, [date(2026, 3, 31), AS_OF])],
    "clv_pareto": [(YEAR,)],
    "clv_pareto_curve": [(YEAR,), (SLICED,)],
    "clv_quantiles": [(YEAR,)],
    "clv_quantiles_by": [(YEAR, "segment"), (YEAR, None)],
    "history_truncation": [(YEAR,)],
    "cohort_retention": [(YEAR, "logo"), (YEAR, "revenue")],
    "customer_clv": [(SLICED,)],
    "data_quality_report": [(YEAR,), (SLICED,)],
    "duplicate_policy_note": [()],
    "first_contact_resolution": [(YEAR, True), (CHANNELS, False)],
    "kaplan_meier": [(YEAR, None, "days"), (YEAR, "segment", "months", True)],
    "latest_scoring_date": [(AS_OF,)],
    "median_lifetime": [(YEAR,), (YEAR, "plan")],
    "mrr_by_month": [(YEAR,), (SLICED,)],
    "mrr_movements": [(YEAR,)],
    "mrr_waterfall": [(YEAR, date(2024, 1, 1)), (SLICED, date(2024, 1, 1))],
    "note_signal_examples": [(YEAR,)],
    "note_signal_summary": [(YEAR,)],
    "note_signal_trend": [(YEAR,)],
    "predicted_clv_quantiles": [(YEAR,)],
    "saved_customer_value": [(YEAR,)],
    "predicted_clv_quantiles_by": [(YEAR, "segment")],
    "proactive_funnel": [(YEAR,)],
    "proactive_retention_comparison": [(YEAR,)],
    "quarter_actuals": [(YEAR, "2026Q3")],
    "repeat_contact_rate": [(YEAR, True), (CHANNELS, False)],
    "retention_funnel": [(YEAR, 4.0)],
    "retention_funnel_counts": [(YEAR,), (CHANNELS,)],
    "retention_funnel_summaries": [(YEAR,)],
    "retention_funnel_summary": [(YEAR,), (YEAR, "agent")],
    "revenue_retention": [(YEAR, "month"), (YEAR, "quarter")],
    "satisfaction_trend": [(YEAR,)],
    "saved_customers": [(YEAR,)],
    "saved_customers_by_period": [(YEAR, [(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 4, 1), AS_OF)])],
    "service_levels": [(YEAR, None, True)],
    "survival_durations": [(YEAR,), (YEAR, "segment", True)],
    "survival_logrank": [(YEAR, "segment")],
    "targets_vs_actuals": [(YEAR, "2026Q3")],
    "tenure_at_churn": [(YEAR,)],
    "value_tiers": [(YEAR,)],
}
# Public functions of analytics.metrics that take no database: pandas over results the
# functions above return (or the targets file), so there is nothing engine-specific.
NO_DATABASE = {"actuals_from", "funnel_steps", "kaplan_meier_from_durations", "load_targets",
               "logrank_from_durations", "median_lifetime_from_durations", "quarter_window"}

AT_RISK_CASES: dict[str, list] = {
    "margin_at_risk": [(YEAR,), (SLICED, 0.2)],
    # the sample's purchase touchpoints (add-ons) make a purchase log to fit
    "purchase_at_risk": [(YEAR, 50)],
    "scoring_dates": [()],
    "scoring_date": [(AS_OF,)],
    "margin_at_risk_trend": [(YEAR,)],
    "driver_filter_available": [()],
    "at_risk_customers": [(YEAR,), (SLICED, at_risk.AtRiskCriteria(min_probability=0.5, driver_groups=("plan",),
                                                                    not_contacted_days=30), 50)],
    "customer_profile": [(17, AS_OF)],
    "score_history": [(17, AS_OF)],
    "customer_timeline": [(400, AS_OF)],
    "customer_revenue_history": [(17, AS_OF)],
}


# --- comparison ---------------------------------------------------------------------------

def _kind(dtype) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"  # int32 on Spark where DuckDB says int64 (see module docstring)
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "object"


def _sort_key(frame: pd.DataFrame) -> pd.DataFrame:
    key = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_float_dtype(values):
            key[col] = values.round(6)
        else:
            key[col] = values.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else repr(v)
                                  if not isinstance(v, str) else v)
    return key


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    if frame.empty or not len(frame.columns):
        return frame
    order = _sort_key(frame).sort_values(list(frame.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def assert_same(duck, spark, where: str = "result") -> None:
    """`duck` and `spark` equal up to row order, floats to 1e-9 relative."""
    if isinstance(duck, pd.DataFrame):
        assert isinstance(spark, pd.DataFrame), f"{where}: {type(spark)}"
        assert list(duck.columns) == list(spark.columns), f"{where}: columns differ"
        assert len(duck) == len(spark), f"{where}: {len(duck)} rows on DuckDB, {len(spark)} on Spark"
        kinds = {c: (_kind(duck[c].dtype), _kind(spark[c].dtype)) for c in duck.columns}
        different = {c: k for c, k in kinds.items() if k[0] != k[1] and not (
            # an all-NULL column has no type of its own on either engine
            duck[c].isna().all() and spark[c].isna().all())}
        assert not different, f"{where}: column kinds differ {different}"
        a, b = _sorted(duck), _sorted(spark)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9, atol=1e-12,
                                      obj=where)
    elif isinstance(duck, pd.Series):
        assert_same(duck.to_frame(), spark.to_frame(), where)
    elif dataclasses.is_dataclass(duck):
        assert type(duck) is type(spark), where
        for f in dataclasses.fields(duck):
            assert_same(getattr(duck, f.name), getattr(spark, f.name), f"{where}.{f.name}")
    elif isinstance(duck, dict):
        assert set(duck) == set(spark), where
        for key in duck:
            assert_same(duck[key], spark[key], f"{where}[{key!r}]")
    elif isinstance(duck, (list, tuple)):
        assert len(duck) == len(spark), where
        for i, (x, y) in enumerate(zip(duck, spark)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(duck, (float, np.floating)) and not isinstance(duck, bool):
        if math.isnan(duck):
            assert math.isnan(spark), where
        else:
            assert math.isclose(duck, spark, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {duck} != {spark}"
    else:
        assert duck == spark, f"{where}: {duck!r} on DuckDB, {spark!r} on Spark"


# Known engine difference since the sample simulates the retention team's work (decision
# 022): on Spark a repeat buyer reaches the purchase model with no spend and a non-zero
# recency, which the BG/NBD refuses; DuckDB's purchase log has no such buyer. The cause
# (the engines' purchase logs differ) is open; strict, so a fix shows as a pass to remove.
KNOWN_DIFFERENCES = {"purchase_at_risk-0": pytest.mark.xfail(
    strict=True, raises=ValueError, reason="Spark's purchase log gives a repeat buyer no spend (open)")}


def _cases(table: dict[str, list]) -> list:
    return [pytest.param(name, args, id=f"{name}-{i}", marks=KNOWN_DIFFERENCES.get(f"{name}-{i}", ()))
            for name, arglist in table.items() for i, args in enumerate(arglist)]


# --- the tests ----------------------------------------------------------------------------

def test_every_public_metric_function_is_compared() -> None:
    """A metric added to analytics.metrics without a case here fails this test."""
    public = {n for n in metrics.__all__ if inspect.isfunction(getattr(metrics, n))}
    assert public - set(METRIC_CASES) - NO_DATABASE == set()
    assert set(METRIC_CASES) | NO_DATABASE <= public
    for name in NO_DATABASE:
        assert "db" not in inspect.signature(getattr(metrics, name)).parameters, name


def test_every_public_at_risk_query_is_compared() -> None:
    public = {n for n, f in vars(at_risk).items() if inspect.isfunction(f) and f.__module__ == at_risk.__name__
              and not n.startswith("_") and "db" in inspect.signature(f).parameters}
    assert public == set(AT_RISK_CASES)


@pytest.mark.parametrize(("name", "args"), _cases(METRIC_CASES))
def test_metric_equal_on_both_engines(duck, sparkdb, name, args) -> None:
    fn = getattr(metrics, name)
    with rollups.disabled():
        expected = fn(duck, *args)
        got = fn(sparkdb, *args)
    assert_same(expected, got, name)


@pytest.mark.parametrize(("name", "args"), _cases(AT_RISK_CASES))
def test_at_risk_equal_on_both_engines(duck, sparkdb, name, args) -> None:
    fn = getattr(at_risk, name)
    assert_same(fn(duck, *args), fn(sparkdb, *args), name)


def test_at_risk_list_is_not_empty(duck) -> None:
    """The at-risk comparison means something: the fixture's scores give a list."""
    found = at_risk.at_risk_customers(duck, YEAR)
    assert found.available and found.population > 500


@pytest.mark.parametrize("mode", ["Quarter to date"])  # ~80 s per mode on Spark local
def test_headline_kpis_equal_on_both_engines(duck, sparkdb, mode) -> None:
    with rollups.disabled():
        assert_same(headlines.headline_kpis(duck, YEAR, mode), headlines.headline_kpis(sparkdb, YEAR, mode),
                    "headline_kpis")


def test_rollup_sources_equal_on_both_engines(duck, sparkdb) -> None:
    """What `build_rollups` stores: each rollup's content, computed by each engine."""
    duck_sources, spark_sources = rollups._sources(duck, AS_OF), rollups._sources(sparkdb, AS_OF)
    for name in rollups.ROLLUPS:
        assert_same(duck.ibis().to_pandas(duck_sources[name]), sparkdb.ibis().to_pandas(spark_sources[name]), name)


def test_rollups_built_on_duckdb_are_fresh_on_spark(duck, sparkdb) -> None:
    """The fingerprint is engine-neutral: rollups exported with the data are trusted on
    Spark, and answer as on DuckDB."""
    assert rollups.fresh_rollups(duck, *rollups.ROLLUPS) is not None
    assert rollups.fresh_rollups(sparkdb, *rollups.ROLLUPS) is not None
    assert_same(metrics.mrr_movements(duck, YEAR), metrics.mrr_movements(sparkdb, YEAR), "mrr_movements (rollup)")
    assert_same(metrics.value_tiers(duck, YEAR), metrics.value_tiers(sparkdb, YEAR), "value_tiers (rollup)")
    # whole months from rollup_wait_histogram, a clipped first and last month live: a union
    mid = YEAR.with_period(YEAR.start.replace(day=15), YEAR.end - timedelta(days=10))
    assert_same(metrics.service_levels(duck, mid), metrics.service_levels(sparkdb, mid), "service_levels (rollup)")


def test_rollups_built_on_spark_equal_those_built_on_duckdb(duck, sample_files, spark, tmp_path) -> None:
    """`build_rollups` on Spark (its own session, writing to a temporary output folder):
    every rollup holds the rows DuckDB's build stored, and the fingerprint trusts them."""
    import tomllib

    from analytics.db import open_spark

    with sample_files[1].open("rb") as fh:
        tables = tomllib.load(fh)["engine"]["tables"]
    built = open_spark(tables, session=spark.newSession(), read_only=False, output=tmp_path / "out")
    build = rollups.build_rollups(built)
    assert build.skipped is None and set(build.rows) == set(rollups.ROLLUPS)
    for name in rollups.ROLLUPS:
        assert (tmp_path / "out" / f"{name}.parquet").is_dir(), name
        assert_same(duck.ibis().to_pandas(duck.table(name)), built.ibis().to_pandas(built.table(name)),
                    f"{name} (built on Spark)")
    assert rollups.fresh_rollups(built, *rollups.ROLLUPS) is not None


def test_schema_info_and_tables_read_the_same(duck, sparkdb) -> None:
    assert sparkdb.schema_info() == duck.schema_info()
    assert set(duck.table_names()) <= set(sparkdb.table_names())
    assert sparkdb.has_table("churn_scores") and not sparkdb.has_table("no_such_table")


@pytest.mark.parametrize("as_of", [date(2026, 3, 31), AS_OF])
def test_scoring_features_equal_on_both_engines(duck, sparkdb, as_of) -> None:
    """Scoring's engine part — each customer's features and 90-day label at a snapshot
    (analytics.risk.features) — equal on both engines: the model is then trained on a
    sample in pandas, the same code on the same frame, so scores follow (decision 017)."""
    from analytics.risk.features import absent_sources, snapshot_features

    assert absent_sources(duck, as_of) == absent_sources(sparkdb, as_of)
    ids = list(range(1, 1_501, 3))  # a third of the sample, as the scorer samples ids
    assert_same(snapshot_features(duck, as_of, ids), snapshot_features(sparkdb, as_of, ids), f"features {as_of}")
