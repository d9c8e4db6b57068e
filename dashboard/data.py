"""The one module that applies Streamlit caching to analytics calls.

- The open database is kept per path and reopened when the file's modification time
  changes: an import that swaps the file, or a regenerated sample, shows on the next page
  view without a restart. DuckDB hands a new connection to a path the *same* open
  database instance while any connection to it is open, so the old one is closed first
  (`database`). Each Streamlit session runs in its own thread and gets its own cursor.
- Analytics results are cached *data* with a TTL, keyed by `db_key()` — the file's path
  and modification time — and the call's arguments, so results never leak between two
  databases (tests run several in one process) and a replaced file is recomputed.
- Metrics that a filter change re-runs are cubes kept on the open database
  (analytics/cubes.py): a new segment is a slice of a kept cube, whatever this module caches.

Pages call these wrappers, never `analytics` directly, so caching policy lives here. Each
wrapper is made by `_cached` from the analytics function of the same name (see it for the
definition and the shape of the result) and takes its parameters minus the database.
Point-in-time functions — whose result depends only on the as-of date — get the filter's
period collapsed to its last day (`point_in_time`), so two filters differing only in their
start share one entry. A few wrappers reuse other cached results instead of querying again.
"""

from __future__ import annotations

import functools
import threading
from datetime import date
from typing import TYPE_CHECKING, Callable

import streamlit as st

import pandas as pd

from analytics import at_risk, catalog, metrics, roi
from analytics import config
from analytics.config import database_path
from analytics.db import Database, DatabaseError, open_database, open_engine, spark_output_folder
from analytics.filters import RetentionFilter
from analytics.headlines import headline_kpis
from analytics import kpi_customers
from analytics.metrics.funnel import select_summary
from analytics.metrics.predicted_value import PREDICTED_QUANTILE_COLUMNS
from analytics.metrics.value import QUANTILE_COLUMNS, split_groups
from reports.story import gather_story

RESULT_TTL_SECONDS = 600

_OPEN: dict[str, tuple[float, Database]] = {}  # path -> (modification time, open database)
_OPEN_LOCK = threading.Lock()


def _spark_configured() -> bool:
    try:
        return config.engine_settings()["kind"] == "spark"
    except ValueError:
        return False


def database() -> Database:
    """The configured database, opened read-only; reopened when the file was replaced.
    With `[engine] kind = "spark"` the Spark engine (one session, reopened when the config
    file changes; decision 017). Raises `DatabaseError` with guidance."""
    if _spark_configured():
        key, mtime = db_key()
        with _OPEN_LOCK:
            held = _OPEN.get(key)
            if held is None or held[0] != mtime:
                _OPEN[key] = (mtime, open_engine(read_only=True))
            return _OPEN[key][1]
    path = database_path()
    if not path.is_file():
        # let open_database phrase the message; nothing is kept for a missing file
        return open_database(path)
    mtime = path.stat().st_mtime
    with _OPEN_LOCK:
        held = _OPEN.get(str(path))
        if held is not None and held[0] == mtime:
            return held[1]
        if held is not None:
            # the file changed: close the old instance, or DuckDB would hand it out again
            del _OPEN[str(path)]
            held[1].close()
        db = open_database(path, read_only=True)
        _OPEN[str(path)] = (mtime, db)
        return db


def forget_database() -> None:
    """Close every database this process opened (before a command rewrites the file)."""
    with _OPEN_LOCK:
        for _, db in _OPEN.values():
            db.close()
        _OPEN.clear()


def database_error() -> DatabaseError | None:
    """The reason the database cannot be used, or None when it can."""
    try:
        database()
    except DatabaseError as err:
        return err
    return None


def db_key() -> tuple[str, float]:
    """(path, modification time) of the configured database: the first key of every
    cached result below. On Spark: the config file's (the Parquet files it names are
    expected to be replaced together with it), or the output folder's when later — a
    scoring run on Spark renames its rewritten tables into that folder (decision 017), so
    the dashboard reopens the engine and reads the new scores, not the removed files."""
    if not _spark_configured():
        path = database_path()
        return str(path), path.stat().st_mtime
    path = config.config_path()
    engine = config.engine_settings()
    output = spark_output_folder(engine["tables"], engine["output"])
    written = output.stat().st_mtime if output is not None and output.is_dir() else 0.0
    return str(path), max(path.stat().st_mtime, written)


def point_in_time(flt: RetentionFilter) -> RetentionFilter:
    """`flt` with its period collapsed to its last day, for the functions whose result
    depends only on the as-of date (active customers, historical value, data quality):
    two filters differing only in their start then share one cache entry."""
    return flt if flt.start == flt.end else flt.with_period(flt.end, flt.end)


def _cached(fn: Callable, spinner: str | bool = False, as_of_only: bool = False,
            max_entries: int | None = None) -> Callable:
    """The page-facing wrapper of `fn(db, *args)`: `(*args)` cached per database file.

    `as_of_only`: the first argument is a filter whose start does not matter
    (`point_in_time`)."""

    def run(key, *args, **kwargs):  # key: db_key(), only to key the cache
        return fn(database(), *args, **kwargs)

    # Streamlit keys a cached function by its qualified name and source; every `run` has
    # the same source, so each gets the name of the function it runs.
    run.__qualname__ = run.__name__ = f"{fn.__module__}.{fn.__qualname__}"
    cached_run = st.cache_data(ttl=RESULT_TTL_SECONDS, show_spinner=spinner, max_entries=max_entries)(run)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if as_of_only:
            args = (point_in_time(args[0]), *args[1:])
        return cached_run(db_key(), *args, **kwargs)

    call.clear = cached_run.clear
    return call


def generate_sample(customers: int = 50_000, seed: int = 7):
    """Create the sample database at the configured path (only used when it is missing)."""
    from sample_data.generate import generate

    forget_database()
    summary = generate(database_path(), customers=customers, seed=seed)
    st.cache_data.clear()
    return summary


# --- the file: facts, dimensions, history ---------------------------------------------------

def _schema_info(db: Database) -> dict[str, str]:
    return db.schema_info()


schema_info = _cached(_schema_info)
dimension_values = _cached(catalog.dimension_values)
history_start = _cached(catalog.history_start)
# which optional parts of the data model the file holds (analytics.catalog.NEEDS)
data_present = _cached(catalog.data_present)


def _has_table(db: Database, name: str) -> bool:
    # through the instance: each engine answers it its own way (DuckDB asks its catalog)
    return db.has_table(name)


has_table = _cached(_has_table)


def as_of_date() -> date:
    """The database's fixed as-of date (end of its history)."""
    return date.fromisoformat(schema_info()["as_of_date"])


# --- customer base, logo churn, revenue, cohorts, churn profile ------------------------------

active_customers = _cached(metrics.active_customers, "Counting active customers…", as_of_only=True)
churn_by_period = _cached(metrics.churn_by_period, "Computing churn by period…")
churn_summary = _cached(metrics.churn_summary, "Computing churn…")
mrr_by_month = _cached(metrics.mrr_by_month, "Computing MRR…")
revenue_retention = _cached(metrics.revenue_retention, "Computing revenue retention…")
cohort_retention = _cached(metrics.cohort_retention, "Building the cohort triangle…")
churn_by_dimension = _cached(metrics.churn_by_dimension, "Computing churn by group…")
churn_by_dimensions = _cached(metrics.churn_by_dimensions, "Computing churn by group…")
tenure_at_churn = _cached(metrics.tenure_at_churn, "Computing tenure at churn…")
churn_reasons = _cached(metrics.churn_reasons, "Counting churn reasons…")
churn_reasons_by_month = _cached(metrics.churn_reasons_by_month, "Counting churn reasons by month…")

# --- survival: curves, medians and the log-rank test all from one durations query ----------

survival_durations = _cached(metrics.survival_durations, "Reading customer lifetimes…", as_of_only=True)


def kaplan_meier(flt: RetentionFilter, by: str | None = None, unit: str = "months") -> pd.DataFrame:
    return metrics.kaplan_meier_from_durations(survival_durations(flt, by), unit)


def median_lifetime(flt: RetentionFilter, by: str | None = None, unit: str = "months") -> pd.DataFrame:
    return metrics.median_lifetime_from_durations(survival_durations(flt, by), unit)


def survival_logrank(flt: RetentionFilter, by: str) -> metrics.LogrankResult:
    return metrics.logrank_from_durations(survival_durations(flt, by), by)


# --- funnels (analytics.metrics.funnel) ----------------------------------------------------

_retention_funnel_summaries = _cached(metrics.retention_funnel_summaries, "Building the retention funnel…")


def _funnel_overall(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """Only the overall funnel's stage counts (a cube: a filter change is a slice), for
    pages needing no split and no response times."""
    return metrics.retention_funnel_counts(db, flt)


retention_funnel_overall = _cached(_funnel_overall, "Building the retention funnel…")


def retention_funnel_summary(flt: RetentionFilter, by: str | None = None, sla_hours: float = 24.0) -> pd.DataFrame:
    """One dimension of the funnel summaries; all four come from one cached query."""
    return select_summary(_retention_funnel_summaries(flt, float(sla_hours)), by)


def retention_funnel(flt: RetentionFilter, sla_hours: float = 24.0) -> pd.DataFrame:
    return metrics.funnel_steps(retention_funnel_summary(flt, None, sla_hours))


proactive_funnel = _cached(metrics.proactive_funnel, "Building the proactive funnel…")
proactive_retention_comparison = _cached(metrics.proactive_retention_comparison,
                                         "Comparing reached and not reached…")
saved_customers = _cached(metrics.saved_customers, "Counting saved customers…")
saved_customers_by_period = _cached(metrics.saved_customers_by_period, "Counting saved customers…",
                                    as_of_only=True)

# --- customer value (analytics.metrics.value) ----------------------------------------------

customer_clv = _cached(metrics.customer_clv, "Computing customer value…", as_of_only=True)
clv_quantiles = _cached(metrics.clv_quantiles, "Computing the CLV distribution…", as_of_only=True)
_clv_quantiles_by = _cached(metrics.clv_quantiles_by, "Computing the CLV distribution…", as_of_only=True)
clv_pareto = _cached(metrics.clv_pareto, "Computing value concentration…", as_of_only=True)
clv_pareto_curve = _cached(metrics.clv_pareto_curve, "Computing value concentration…", as_of_only=True)
history_truncation = _cached(metrics.history_truncation, as_of_only=True)
# the whole filter: without scores the value uses the period's churn rate
saved_customer_value = _cached(metrics.saved_customer_value, "Computing the value of a saved customer…")
average_clv_at = _cached(metrics.average_clv_at, "Computing customer value over time…", as_of_only=True)
value_tiers = _cached(metrics.value_tiers, "Computing value tiers…", as_of_only=True)
clv_cac_ratio = _cached(metrics.clv_cac_ratio, "Comparing CLV with acquisition cost…", as_of_only=True)


def clv_quantiles_by(flt: RetentionFilter, by: str, groups: list[str],
                     quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict[str, pd.DataFrame]:
    """`clv_quantiles` for each of `groups` (values of `by`), from one cached query; a group
    without customers gets an empty frame, as its own call would."""
    return split_groups(_clv_quantiles_by(flt, by, tuple(quantiles)), groups, QUANTILE_COLUMNS)


# --- service experience (analytics.metrics.service) ----------------------------------------

first_contact_resolution = _cached(metrics.first_contact_resolution, "Computing first-contact resolution…")
repeat_contact_rate = _cached(metrics.repeat_contact_rate, "Counting repeat contacts…")
service_levels = _cached(metrics.service_levels, "Computing service levels…")
satisfaction_trend = _cached(metrics.satisfaction_trend, "Computing CSAT and NPS…")
_churn_by_service_histories = _cached(metrics.churn_by_service_histories, "Relating churn to service history…")


def churn_by_service_history(flt: RetentionFilter, measure: str = "contacts") -> pd.DataFrame:
    """Both measures come from one cached query (the page shows both), picked here."""
    if measure not in metrics.service.EARLY_WARNING_MEASURES:
        raise ValueError(f"measure must be one of {metrics.service.EARLY_WARNING_MEASURES}, got {measure!r}")
    both = _churn_by_service_histories(flt)
    return both[both["measure"] == measure].reset_index(drop=True)


# --- data quality and targets --------------------------------------------------------------

data_quality_report = _cached(metrics.data_quality_report, "Running the data-quality checks…", as_of_only=True)


def _duplicate_policy_text(db: Database) -> str:
    """The duplicate-customer policy sentence (`data_quality.duplicate_policy_note`)."""
    return metrics.duplicate_policy_note(db).text


duplicate_policy_text = _cached(_duplicate_policy_text)


def _targets_with_cached_actuals(db: Database, flt: RetentionFilter, quarter: str) -> pd.DataFrame:
    # The actuals come through the cached wrappers: in quarter-to-date mode the Overview has
    # just computed churn and revenue retention over this very window for its KPI cards.
    window = metrics.quarter_window(flt, quarter.strip().upper())
    actuals = None if window is None else metrics.actuals_from(
        churn_summary(window), revenue_retention(window, "range"), saved_customers(window))
    return metrics.targets_vs_actuals(db, flt, quarter, actuals=actuals)


targets_vs_actuals = _cached(_targets_with_cached_actuals, "Comparing the quarter with its targets…")

# --- churn risk and the call list (analytics.at_risk) --------------------------------------

margin_at_risk = _cached(at_risk.margin_at_risk, "Summing margin at risk…", as_of_only=True)
margin_at_risk_trend = _cached(at_risk.margin_at_risk_trend, "Summing margin at risk by scoring date…",
                               as_of_only=True)
driver_filter_available = _cached(at_risk.driver_filter_available)
at_risk_customers = _cached(at_risk.at_risk_customers, "Ranking the customers at risk…", as_of_only=True,
                            max_entries=64)
customer_profile = _cached(at_risk.customer_profile, "Loading the customer…", max_entries=256)
score_history = _cached(at_risk.score_history, max_entries=256)
customer_timeline = _cached(at_risk.customer_timeline, max_entries=256)
customer_revenue_history = _cached(at_risk.customer_revenue_history, max_entries=256)


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

# the Overview's KPIs, trends, targets and movers with their takeaways — the same object
# the leadership story is built on
headlines = _cached(headline_kpis)
# the customers behind a KPI card (the churned, the saved), opened from the Overview
customers_behind = _cached(kpi_customers.customers_behind)
leadership_story = _cached(gather_story, "Gathering the leadership story…")


# --- model card, note signals, predicted value (Model page, Service & signals, Customer value)

if TYPE_CHECKING:
    from analytics.risk.model_card import ModelCard


def _latest_model_card(db: Database) -> "ModelCard | None":
    # imported here: the card module pulls in scikit-learn (~2 s), which no other page needs
    from analytics.risk.model_card import load_model_card

    return load_model_card(db)


# the card of the latest scoring run; None when nothing was scored yet
model_card = _cached(_latest_model_card, "Reading the model card…")


note_signal_trend = _cached(metrics.note_signal_trend, "Counting note signals by month…")


def _note_signal_summary(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    # the note counts are the sums of the (cached) monthly trend the page shows next
    return metrics.note_signal_summary(db, flt, trend=note_signal_trend(flt))


note_signal_summary = _cached(_note_signal_summary, "Reading the agents' notes…")
note_signal_examples = _cached(metrics.note_signal_examples, "Picking example notes…")
_predicted_clv_quantiles_by = _cached(metrics.predicted_clv_quantiles_by,
                                      "Computing the predicted CLV distribution…", as_of_only=True)


def predicted_clv_quantiles_by(flt: RetentionFilter, by: str, groups: list[str],
                               quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict[str, pd.DataFrame]:
    """`predicted_clv_quantiles` for each of `groups` (values of `by`), from one cached query."""
    return split_groups(_predicted_clv_quantiles_by(flt, by, tuple(quantiles)), groups, PREDICTED_QUANTILE_COLUMNS)


# --- purchase-log value (analytics.metrics.purchase_value): BG/NBD + Gamma-Gamma, fitted once
# per file and as-of date (kept on the open database), sliced per filter

from analytics.metrics import purchase_value as _purchase_log  # noqa: E402

purchase_value = _cached(_purchase_log.purchase_value, "Fitting the purchase model…", as_of_only=True)
purchase_at_risk = _cached(at_risk.purchase_at_risk, "Ranking buyers by expected loss…", as_of_only=True,
                           max_entries=64)


# --- the retention team's work queue (issue 16; decision 021) ----------------------------------
# Search reads the read-only analytics file: cached like every other analytics call.
from analytics import actions, customer_search  # noqa: E402  (kept with the section it serves)

search_customers = _cached(customer_search.search_customers, max_entries=64)
customer_briefs = _cached(customer_search.customer_briefs, max_entries=64)


@st.cache_resource(show_spinner=False)
def _action_store(url: str) -> actions.ActionStore:
    return actions.open_store(url)  # migrations run once per process and URL


def action_store() -> actions.ActionStore:
    """The open action store of `config.actions_url()` (a connection pool shared by the
    sessions; each call takes its own connection). Raises `ActionStoreError`/`ValueError`
    with the reason when it cannot be opened."""
    return _action_store(config.actions_url())


def action_store_at(url: str) -> actions.ActionStore:
    """The open action store at `url` (the same shared pool as `action_store`): for code
    that runs outside a script run, e.g. a download's data callable, given the URL read in it."""
    return _action_store(url)


# The store is writable, so its reads are NOT cached: a cached read would hide another
# session's (or this session's last) write. They run per rerun; the store is small.
def current_cases(customer_ids) -> pd.DataFrame:
    return actions.current_cases(action_store(), customer_ids)


def case_timeline(customer_id: int) -> pd.DataFrame:
    return actions.timeline(action_store(), customer_id)


def my_list(owner: str, expected_losses: pd.DataFrame | None = None) -> pd.DataFrame:
    return actions.my_list(action_store(), owner, expected_losses)


def record_action(customer_id: int, **fields) -> int:
    return actions.record_action(action_store(), customer_id, **fields)


def assign(customer_ids, owner: str, by: str) -> int:
    return actions.assign(action_store(), customer_ids, owner, by)


# The team's outcomes (issue 16): read from the writable store on every run, like the cases.
from analytics import team_outcomes as _team_outcomes  # noqa: E402  (kept with the section it serves)


def last_logged_day():
    """The day of the newest action in the store (None without any): read per run."""
    return actions.last_logged_day(action_store())


def team_outcomes(start, end) -> _team_outcomes.TeamOutcomes:
    """`analytics.team_outcomes.team_outcomes` of the cases opened from `start` to `end`,
    with the first-attempt SLA of `config.first_attempt_sla_days()`."""
    return _team_outcomes.team_outcomes(action_store(), start, end, config.first_attempt_sla_days())


# --- the agents directory and the audit log (decision 023) ------------------------------------
from analytics import agents as _agents  # noqa: E402  (kept with the section it serves)

_agents_table = _cached(_agents.directory_from_database)


def agent_directory() -> pd.DataFrame:
    """The agents directory (analytics.agents): ``[[team.agents]]`` in retention.toml, else
    the analytics database's ``agents`` table (cached per file), else empty."""
    configured = _agents.directory_from_settings(config.team_agents())
    if not configured.empty or database_error() is not None:
        return configured
    return _agents_table()


def owner_name(owner) -> str:
    """An owner code as the directory's name (the code itself when it is not listed)."""
    return _agents.owner_name(agent_directory(), owner)


def owner_names() -> dict[str, str]:
    """Owner code -> the directory's name, for a whole column at once."""
    directory = agent_directory()
    return dict(zip(directory["id"], directory["name"]))


def as_agent_names(codes) -> list[str]:
    """Owner / agent codes as the directory's names, for display: a code the directory
    does not list stays as stored, and no owner (None, NaN) is blank, not the table's
    grey "None"."""
    names = owner_names()
    return [names.get(code, code) if isinstance(code, str) else "" for code in codes]


def audit(actor: str, action: str, detail: str, rows: int = 0) -> None:
    actions.audit(action_store(), actor, action, detail, rows)


def audit_entries(limit: int = 500, actor: str | None = None, action: str | None = None) -> pd.DataFrame:
    return actions.audit_entries(action_store(), limit, actor=actor, action=action)


def audit_filters() -> tuple[list[str], list[str]]:
    return actions.audit_actors_and_actions(action_store())


# --- the holdout of a worked list and the measured programme (decision 022) --------------------
from analytics import programme  # noqa: E402  (kept with the section it serves)


def assign_holdout(customer_ids, list_as_of: date, by: str) -> pd.DataFrame:
    """The groups of a worked list's customers (`analytics.actions.assign_holdout`, at the
    configured `[actions] holdout_share`); written, never cached."""
    share = config.programme_settings()["holdout_share"]
    return actions.assign_holdout(action_store(), customer_ids, list_as_of, share=share, by=by)


def held_out_periods(customer_id: int) -> list[str]:
    return actions.held_out_periods(action_store(), customer_id)


def measured_programme(value_per_saved: float) -> programme.MeasuredProgramme:
    """The programme against its control group over the whole store (not the sidebar's
    selection); read per run — the store is writable, so nothing is cached."""
    return programme.measured_programme(database(), action_store(), as_of=as_of_date(),
                                        value_per_saved=value_per_saved)
