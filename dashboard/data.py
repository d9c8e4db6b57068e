"""The one module that applies Streamlit caching to analytics calls.

- The open database is a cached *resource*, keyed by path and modification time, so a
  regenerated file is picked up without restarting the server. Each Streamlit session
  runs in its own thread and gets its own DuckDB cursor from `Database.cursor()`.
- Analytics results are cached *data* keyed by the filter, with a TTL: a page revisited
  with the same filter is instant, and a changed file ages out.
- Every cached wrapper takes `db_key()` — the file's path and modification time — as its
  first argument, so results never leak between two databases (tests run several in one
  process) and a regenerated file is recomputed.
Pages call these wrappers, never `analytics` directly, so caching policy lives here. Each
wrapper has the name and the parameters of the analytics function it caches (minus the
database); see that function for the definition and the shape of its result. A few reuse
other cached results instead of querying again — the quarter's targets take the churn and
NRR of the same window, the note-signal summary the monthly trend, and both early-warning
measures come from one cached query — so a page that shows both pays once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import streamlit as st

import pandas as pd

from analytics import at_risk, catalog, metrics, roi
from analytics import config
from analytics.config import database_path
from analytics.db import Database, DatabaseError, open_database, open_engine
from analytics.filters import RetentionFilter
from analytics.metrics.funnel import select_summary
from analytics.metrics.predicted_value import PREDICTED_QUANTILE_COLUMNS
from analytics.metrics.value import QUANTILE_COLUMNS, split_groups
from analytics.headlines import Headlines, headline_kpis
from reports.story import Story, gather_story

RESULT_TTL_SECONDS = 600


@st.cache_resource(show_spinner=False)
def _open(path: str, mtime: float) -> Database:  # mtime only keys the cache
    return open_database(path, read_only=True)


@st.cache_resource(show_spinner=False)
def _open_engine(config_file: str, mtime: float) -> Database:  # both only key the cache
    return open_engine(read_only=True)


def _spark_configured() -> bool:
    try:
        return config.engine_settings()["kind"] == "spark"
    except ValueError:
        return False


def database() -> Database:
    """The configured database, opened read-only. Raises `DatabaseError` with guidance.
    With `[engine] kind = "spark"` the Spark engine (one session, opened once per
    config file and modification time; decision 017)."""
    if _spark_configured():
        key = db_key()
        return _open_engine(*key)
    path = database_path()
    if not path.is_file():
        # let open_database phrase the message; nothing is cached for a missing file
        return open_database(path)
    return _open(str(path), path.stat().st_mtime)


def database_error() -> DatabaseError | None:
    """The reason the database cannot be used, or None when it can."""
    try:
        database()
    except DatabaseError as err:
        return err
    return None


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def schema_info(path: str) -> dict[str, str]:
    return database().schema_info()


def as_of_date() -> date:
    """The database's fixed as-of date (end of its history)."""
    return date.fromisoformat(schema_info(db_key()[0])["as_of_date"])


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def dimension_values(path: str) -> dict[str, list[str]]:
    """Distinct values of the filterable dimensions, for the sidebar's choices."""
    return catalog.dimension_values(database())


def point_in_time(flt: RetentionFilter) -> RetentionFilter:
    """`flt` with its period collapsed to its last day, for the functions whose result
    depends only on the as-of date (active customers, historical value, data quality):
    two filters differing only in their start then share one cache entry."""
    return flt if flt.start == flt.end else flt.with_period(flt.end, flt.end)


def db_key() -> tuple[str, float]:
    """(path, modification time) of the configured database: the first key of every
    cached result below. On Spark: the config file's (the Parquet files it names are
    expected to be replaced together with it)."""
    path = config.config_path() if _spark_configured() else database_path()
    return str(path), path.stat().st_mtime


def history_start() -> date:
    """First day of the database's history (`catalog.history_start`: recorded, else the
    earliest signup) — the same day survival enters earlier customers at."""
    return _history_start(db_key())


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def _history_start(key) -> date:
    return catalog.history_start(database())


def generate_sample(customers: int = 50_000, seed: int = 7):
    """Create the sample database at the configured path (only used when it is missing)."""
    from sample_data.generate import generate

    summary = generate(database_path(), customers=customers, seed=seed)
    _open.clear()
    st.cache_data.clear()
    return summary


# --- optional tables --------------------------------------------------------------------

def has_table(name: str) -> bool:
    """Whether the database holds the (optional) table `name`, e.g. ``churn_scores``."""
    return _has_table(db_key(), name)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def _has_table(key, name: str) -> bool:
    return database().has_table(name)


# --- customer base and logo churn (analytics.metrics.customer_base) ------------------------

def active_customers(flt: RetentionFilter) -> int:
    return _active_customers(db_key(), point_in_time(flt))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Counting active customers…")
def _active_customers(key, flt: RetentionFilter) -> int:
    return metrics.active_customers(database(), flt)


def churn_by_period(flt: RetentionFilter, freq: str = "month") -> pd.DataFrame:
    return _churn_by_period(db_key(), flt, freq)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing churn by period…")
def _churn_by_period(key, flt: RetentionFilter, freq: str) -> pd.DataFrame:
    return metrics.churn_by_period(database(), flt, freq)


def churn_summary(flt: RetentionFilter) -> pd.DataFrame:
    return _churn_summary(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing churn…")
def _churn_summary(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.churn_summary(database(), flt)


# --- revenue (analytics.metrics.revenue) ---------------------------------------------------

def mrr_by_month(flt: RetentionFilter) -> pd.DataFrame:
    return _mrr_by_month(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing MRR…")
def _mrr_by_month(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.mrr_by_month(database(), flt)


def revenue_retention(flt: RetentionFilter, freq: str = "month") -> pd.DataFrame:
    return _revenue_retention(db_key(), flt, freq)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing revenue retention…")
def _revenue_retention(key, flt: RetentionFilter, freq: str) -> pd.DataFrame:
    return metrics.revenue_retention(database(), flt, freq)


# --- cohorts, survival, churn profile ------------------------------------------------------

def cohort_retention(flt: RetentionFilter, basis: str = "logo") -> pd.DataFrame:
    return _cohort_retention(db_key(), flt, basis)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Building the cohort triangle…")
def _cohort_retention(key, flt: RetentionFilter, basis: str) -> pd.DataFrame:
    return metrics.cohort_retention(database(), flt, basis)


# The survival curves, medians and log-rank test all start from the same durations query:
# fetch it once per (filter, dimension) and derive the three from it.
def survival_durations(flt: RetentionFilter, by: str | None = None) -> pd.DataFrame:
    return _survival_durations(db_key(), point_in_time(flt), by)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Reading customer lifetimes…")
def _survival_durations(key, flt: RetentionFilter, by: str | None) -> pd.DataFrame:
    return metrics.survival_durations(database(), flt, by)


def kaplan_meier(flt: RetentionFilter, by: str | None = None, unit: str = "months") -> pd.DataFrame:
    return _kaplan_meier(db_key(), point_in_time(flt), by, unit)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Fitting survival curves…")
def _kaplan_meier(key, flt: RetentionFilter, by: str | None, unit: str) -> pd.DataFrame:
    return metrics.kaplan_meier_from_durations(survival_durations(flt, by), unit)


def median_lifetime(flt: RetentionFilter, by: str | None = None, unit: str = "months") -> pd.DataFrame:
    return _median_lifetime(db_key(), point_in_time(flt), by, unit)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing median lifetimes…")
def _median_lifetime(key, flt: RetentionFilter, by: str | None, unit: str) -> pd.DataFrame:
    return metrics.median_lifetime_from_durations(survival_durations(flt, by), unit)


def survival_logrank(flt: RetentionFilter, by: str) -> metrics.LogrankResult:
    return _survival_logrank(db_key(), point_in_time(flt), by)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Running the log-rank test…")
def _survival_logrank(key, flt: RetentionFilter, by: str) -> metrics.LogrankResult:
    return metrics.logrank_from_durations(survival_durations(flt, by), by)


def churn_by_dimension(flt: RetentionFilter, by: str) -> pd.DataFrame:
    return _churn_by_dimension(db_key(), flt, by)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing churn by group…")
def _churn_by_dimension(key, flt: RetentionFilter, by: str) -> pd.DataFrame:
    return metrics.churn_by_dimension(database(), flt, by)


def churn_by_dimensions(flt: RetentionFilter, by: tuple[str, ...]) -> pd.DataFrame:
    return _churn_by_dimensions(db_key(), flt, tuple(by))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing churn by group…")
def _churn_by_dimensions(key, flt: RetentionFilter, by: tuple[str, ...]) -> pd.DataFrame:
    return metrics.churn_by_dimensions(database(), flt, by)


def tenure_at_churn(flt: RetentionFilter) -> pd.DataFrame:
    return _tenure_at_churn(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing tenure at churn…")
def _tenure_at_churn(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.tenure_at_churn(database(), flt)


def churn_reasons(flt: RetentionFilter) -> pd.DataFrame:
    return _churn_reasons(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Counting churn reasons…")
def _churn_reasons(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.churn_reasons(database(), flt)


def churn_reasons_by_month(flt: RetentionFilter) -> pd.DataFrame:
    return _churn_reasons_by_month(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Counting churn reasons by month…")
def _churn_reasons_by_month(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.churn_reasons_by_month(database(), flt)


# --- funnels (analytics.metrics.funnel) ----------------------------------------------------

def retention_funnel(flt: RetentionFilter, sla_hours: float = 24.0) -> pd.DataFrame:
    return metrics.funnel_steps(retention_funnel_summary(flt, None, sla_hours))


def retention_funnel_summary(
    flt: RetentionFilter, by: str | None = None, sla_hours: float = 24.0
) -> pd.DataFrame:
    """One dimension of the funnel summaries; all four come from one cached query."""
    return select_summary(_retention_funnel_summaries(db_key(), flt, float(sla_hours)), by)


def retention_funnel_overall(flt: RetentionFilter, sla_hours: float = 24.0) -> pd.DataFrame:
    """Only the overall row, from its own (smaller) query: for pages that need no split."""
    return _retention_funnel_overall(db_key(), flt, float(sla_hours))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Building the retention funnel…")
def _retention_funnel_overall(key, flt: RetentionFilter, sla_hours: float) -> pd.DataFrame:
    return metrics.retention_funnel_summary(database(), flt, None, sla_hours)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Building the retention funnel…")
def _retention_funnel_summaries(key, flt: RetentionFilter, sla_hours: float) -> pd.DataFrame:
    return metrics.retention_funnel_summaries(database(), flt, sla_hours)


def proactive_funnel(flt: RetentionFilter) -> pd.DataFrame:
    return _proactive_funnel(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Building the proactive funnel…")
def _proactive_funnel(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.proactive_funnel(database(), flt)


def proactive_retention_comparison(flt: RetentionFilter) -> pd.DataFrame:
    return _proactive_retention_comparison(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Comparing reached and not reached…")
def _proactive_retention_comparison(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.proactive_retention_comparison(database(), flt)


def saved_customers(flt: RetentionFilter) -> int:
    return _saved_customers(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Counting saved customers…")
def _saved_customers(key, flt: RetentionFilter) -> int:
    return metrics.saved_customers(database(), flt)


def saved_customers_by_period(flt: RetentionFilter, periods: tuple[tuple[date, date], ...]) -> pd.DataFrame:
    return _saved_customers_by_period(db_key(), point_in_time(flt), tuple(periods))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Counting saved customers…")
def _saved_customers_by_period(key, flt: RetentionFilter, periods: tuple[tuple[date, date], ...]) -> pd.DataFrame:
    return metrics.saved_customers_by_period(database(), flt, periods)


# --- customer value (analytics.metrics.value) ----------------------------------------------

def customer_clv(flt: RetentionFilter) -> pd.DataFrame:
    return _customer_clv(db_key(), point_in_time(flt))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing customer value…")
def _customer_clv(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.customer_clv(database(), flt)


def clv_quantiles(flt: RetentionFilter, quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
    return _clv_quantiles(db_key(), point_in_time(flt), tuple(quantiles))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing the CLV distribution…")
def _clv_quantiles(key, flt: RetentionFilter, quantiles: tuple[float, ...]) -> pd.DataFrame:
    return metrics.clv_quantiles(database(), flt, quantiles)


def clv_quantiles_by(flt: RetentionFilter, by: str, groups: list[str],
                     quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict[str, pd.DataFrame]:
    """`clv_quantiles` for each of `groups` (values of `by`), from one cached query; a group
    without customers gets an empty frame, as its own call would."""
    long = _clv_quantiles_by(db_key(), point_in_time(flt), by, tuple(quantiles))
    return split_groups(long, groups, QUANTILE_COLUMNS)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing the CLV distribution…")
def _clv_quantiles_by(key, flt: RetentionFilter, by: str, quantiles: tuple[float, ...]) -> pd.DataFrame:
    return metrics.clv_quantiles_by(database(), flt, by, quantiles)


def clv_pareto(flt: RetentionFilter, top_share: float = 0.2) -> metrics.ParetoShare:
    return _clv_pareto(db_key(), point_in_time(flt), float(top_share))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing value concentration…")
def _clv_pareto(key, flt: RetentionFilter, top_share: float) -> metrics.ParetoShare:
    return metrics.clv_pareto(database(), flt, top_share)


def history_truncation(flt: RetentionFilter) -> metrics.HistoryTruncation:
    return _history_truncation(db_key(), point_in_time(flt))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def _history_truncation(key, flt: RetentionFilter) -> metrics.HistoryTruncation:
    return metrics.history_truncation(database(), flt)


def saved_customer_value(flt: RetentionFilter) -> metrics.SavedCustomerValue:
    # the whole filter: without scores the value uses the period's churn rate
    return _saved_customer_value(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing the value of a saved customer…")
def _saved_customer_value(key, flt: RetentionFilter) -> metrics.SavedCustomerValue:
    return metrics.saved_customer_value(database(), flt)


def average_clv_at(flt: RetentionFilter, as_of_dates: tuple[date, ...]) -> pd.DataFrame:
    return _average_clv_at(db_key(), point_in_time(flt), tuple(as_of_dates))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing customer value over time…")
def _average_clv_at(key, flt: RetentionFilter, as_of_dates: tuple[date, ...]) -> pd.DataFrame:
    return metrics.average_clv_at(database(), flt, as_of_dates)


def value_tiers(flt: RetentionFilter) -> pd.DataFrame:
    return _value_tiers(db_key(), point_in_time(flt))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing value tiers…")
def _value_tiers(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.value_tiers(database(), flt)


def clv_cac_ratio(flt: RetentionFilter, by: str = "segment") -> pd.DataFrame:
    return _clv_cac_ratio(db_key(), point_in_time(flt), by)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Comparing CLV with acquisition cost…")
def _clv_cac_ratio(key, flt: RetentionFilter, by: str) -> pd.DataFrame:
    return metrics.clv_cac_ratio(database(), flt, by)


# --- service experience (analytics.metrics.service) ----------------------------------------

def first_contact_resolution(flt: RetentionFilter, by_channel: bool = True) -> pd.DataFrame:
    return _first_contact_resolution(db_key(), flt, by_channel)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing first-contact resolution…")
def _first_contact_resolution(key, flt: RetentionFilter, by_channel: bool) -> pd.DataFrame:
    return metrics.first_contact_resolution(database(), flt, by_channel)


def repeat_contact_rate(flt: RetentionFilter, by_channel: bool = True) -> pd.DataFrame:
    return _repeat_contact_rate(db_key(), flt, by_channel)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Counting repeat contacts…")
def _repeat_contact_rate(key, flt: RetentionFilter, by_channel: bool) -> pd.DataFrame:
    return metrics.repeat_contact_rate(database(), flt, by_channel)


def service_levels(flt: RetentionFilter, by_month: bool = False) -> pd.DataFrame:
    return _service_levels(db_key(), flt, by_month)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing service levels…")
def _service_levels(key, flt: RetentionFilter, by_month: bool) -> pd.DataFrame:
    return metrics.service_levels(database(), flt, by_month=by_month)


def satisfaction_trend(flt: RetentionFilter) -> pd.DataFrame:
    return _satisfaction_trend(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing CSAT and NPS…")
def _satisfaction_trend(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.satisfaction_trend(database(), flt)


def churn_by_service_history(flt: RetentionFilter, measure: str = "contacts") -> pd.DataFrame:
    # both measures come from one query (the page shows both): cached once, picked here
    if measure not in metrics.service.EARLY_WARNING_MEASURES:
        raise ValueError(f"measure must be one of {metrics.service.EARLY_WARNING_MEASURES}, got {measure!r}")
    both = _churn_by_service_histories(db_key(), flt)
    return both[both["measure"] == measure].reset_index(drop=True)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Relating churn to service history…")
def _churn_by_service_histories(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.churn_by_service_histories(database(), flt)


# --- data quality and targets --------------------------------------------------------------

def data_quality_report(flt: RetentionFilter, unit_cost: float = 1.0) -> pd.DataFrame:
    return _data_quality_report(db_key(), point_in_time(flt), float(unit_cost))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Running the data-quality checks…")
def _data_quality_report(key, flt: RetentionFilter, unit_cost: float) -> pd.DataFrame:
    return metrics.data_quality_report(database(), flt, unit_cost=unit_cost)


def duplicate_policy_text() -> str:
    """The duplicate-customer policy sentence (whole file; `data_quality.duplicate_policy_note`)."""
    return _duplicate_policy_text(db_key())


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def _duplicate_policy_text(key) -> str:
    return metrics.duplicate_policy_note(database()).text


def targets_vs_actuals(flt: RetentionFilter, quarter: str) -> pd.DataFrame:
    return _targets_vs_actuals(db_key(), flt, quarter)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Comparing the quarter with its targets…")
def _targets_vs_actuals(key, flt: RetentionFilter, quarter: str) -> pd.DataFrame:
    # The actuals come through the cached wrappers: in quarter-to-date mode the Overview has
    # just computed churn and revenue retention over this very window for its KPI cards.
    window = metrics.quarter_window(flt, quarter.strip().upper())
    actuals = None if window is None else metrics.actuals_from(
        churn_summary(window), revenue_retention(window, "range"), saved_customers(window))
    return metrics.targets_vs_actuals(database(), flt, quarter, actuals=actuals)


# --- churn risk and the call list (analytics.at_risk) --------------------------------------

def margin_at_risk(flt: RetentionFilter) -> at_risk.RiskSummary:
    return _margin_at_risk(db_key(), point_in_time(flt))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Summing margin at risk…")
def _margin_at_risk(key, flt: RetentionFilter) -> at_risk.RiskSummary:
    return at_risk.margin_at_risk(database(), flt)


def margin_at_risk_trend(flt: RetentionFilter) -> pd.DataFrame:
    return _margin_at_risk_trend(db_key(), point_in_time(flt))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Summing margin at risk by scoring date…")
def _margin_at_risk_trend(key, flt: RetentionFilter) -> pd.DataFrame:
    return at_risk.margin_at_risk_trend(database(), flt)


def driver_filter_available() -> bool:
    return _driver_filter_available(db_key())


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def _driver_filter_available(key) -> bool:
    return at_risk.driver_filter_available(database())


def at_risk_customers(flt: RetentionFilter, criteria: at_risk.AtRiskCriteria,
                      limit: int | None = None) -> at_risk.AtRiskList:
    return _at_risk_customers(db_key(), point_in_time(flt), criteria, limit)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Ranking the customers at risk…", max_entries=64)
def _at_risk_customers(key, flt: RetentionFilter, criteria: at_risk.AtRiskCriteria,
                       limit: int | None) -> at_risk.AtRiskList:
    return at_risk.at_risk_customers(database(), flt, criteria, limit)


def customer_profile(customer_id: int, as_of: date) -> at_risk.CustomerProfile | None:
    return _customer_profile(db_key(), int(customer_id), as_of)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Loading the customer…", max_entries=256)
def _customer_profile(key, customer_id: int, as_of: date) -> at_risk.CustomerProfile | None:
    return at_risk.customer_profile(database(), customer_id, as_of)


def score_history(customer_id: int, as_of: date) -> pd.DataFrame:
    return _score_history(db_key(), int(customer_id), as_of)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False, max_entries=256)
def _score_history(key, customer_id: int, as_of: date) -> pd.DataFrame:
    return at_risk.score_history(database(), customer_id, as_of)


def customer_timeline(customer_id: int, as_of: date) -> pd.DataFrame:
    return _customer_timeline(db_key(), int(customer_id), as_of)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False, max_entries=256)
def _customer_timeline(key, customer_id: int, as_of: date) -> pd.DataFrame:
    return at_risk.customer_timeline(database(), customer_id, as_of)


def customer_revenue_history(customer_id: int, as_of: date) -> pd.DataFrame:
    return _customer_revenue_history(db_key(), int(customer_id), as_of)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False, max_entries=256)
def _customer_revenue_history(key, customer_id: int, as_of: date) -> pd.DataFrame:
    return at_risk.customer_revenue_history(database(), customer_id, as_of)


# --- retention economics (analytics.roi) ---------------------------------------------------
# Pure arithmetic on a handful of numbers: nothing worth caching, passed through so pages
# keep one way in to the analytics.

def programme_roi(**kwargs) -> roi.ProgrammeROI:
    return roi.programme_roi(**kwargs)


def monthly_churn_rate(period_churn_rate: float, period_days: float) -> float:
    return roi.monthly_churn_rate(period_churn_rate, period_days)


def churn_reduction_whatif(monthly_revenue: float, monthly_churn: float, reduction_points: float,
                           horizons=roi.DEFAULT_HORIZONS) -> roi.ChurnReductionWhatIf:
    return roi.churn_reduction_whatif(monthly_revenue, monthly_churn, reduction_points, horizons)


def replace_or_keep(**kwargs) -> roi.ReplaceOrKeep:
    return roi.replace_or_keep(**kwargs)


# --- the leadership story (reports.story) --------------------------------------------------

def headlines(flt: RetentionFilter, mode: str) -> Headlines:
    """`analytics.headlines.headline_kpis`: the Overview's KPIs, trends, targets and movers
    with their takeaways — the same object the leadership story is built on."""
    return _headlines(db_key(), flt, mode)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=False)
def _headlines(key, flt: RetentionFilter, mode: str) -> Headlines:
    return headline_kpis(database(), flt, mode)


def leadership_story(flt: RetentionFilter) -> Story:
    return _leadership_story(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Gathering the leadership story…")
def _leadership_story(key, flt: RetentionFilter) -> Story:
    return gather_story(database(), flt)


# --- model card, note signals, predicted value (Model page, Service & signals, Customer value)

if TYPE_CHECKING:
    from analytics.risk.model_card import ModelCard


def model_card() -> ModelCard | None:
    """The card of the latest scoring run (`analytics.risk.model_card.load_model_card`);
    None when nothing was scored yet."""
    return _model_card(db_key())


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Reading the model card…")
def _model_card(key) -> ModelCard | None:
    # imported here: the card module pulls in scikit-learn (~2 s), which no other page needs
    from analytics.risk.model_card import load_model_card

    return load_model_card(database())


def note_signal_summary(flt: RetentionFilter) -> pd.DataFrame:
    return _note_signal_summary(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Reading the agents' notes…")
def _note_signal_summary(key, flt: RetentionFilter) -> pd.DataFrame:
    # the note counts are the sums of the (cached) monthly trend the page shows next
    return metrics.note_signal_summary(database(), flt, trend=note_signal_trend(flt))


def note_signal_trend(flt: RetentionFilter) -> pd.DataFrame:
    return _note_signal_trend(db_key(), flt)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Counting note signals by month…")
def _note_signal_trend(key, flt: RetentionFilter) -> pd.DataFrame:
    return metrics.note_signal_trend(database(), flt)


def note_signal_examples(flt: RetentionFilter, per_signal: int = 3) -> pd.DataFrame:
    return _note_signal_examples(db_key(), flt, int(per_signal))


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Picking example notes…")
def _note_signal_examples(key, flt: RetentionFilter, per_signal: int) -> pd.DataFrame:
    return metrics.note_signal_examples(database(), flt, per_signal)


def predicted_clv_quantiles_by(flt: RetentionFilter, by: str, groups: list[str],
                               quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict[str, pd.DataFrame]:
    """`predicted_clv_quantiles` for each of `groups` (values of `by`), from one cached query."""
    long = _predicted_clv_quantiles_by(db_key(), point_in_time(flt), by, tuple(quantiles))
    return split_groups(long, groups, PREDICTED_QUANTILE_COLUMNS)


@st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner="Computing the predicted CLV distribution…")
def _predicted_clv_quantiles_by(key, flt: RetentionFilter, by: str, quantiles: tuple[float, ...]) -> pd.DataFrame:
    return metrics.predicted_clv_quantiles_by(database(), flt, by, quantiles)


