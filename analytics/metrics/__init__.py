"""The shared metric layer: every number the dashboard shows, defined once.

Each function takes a `Database` and a `RetentionFilter` (plus its own parameters) and
returns a tidy pandas DataFrame with documented columns, or a small frozen dataclass.
Definitions are in each docstring and in docs/metrics.md. Nothing here imports streamlit.
"""

from analytics.metrics.churn_profile import (
    churn_by_dimension,
    churn_by_dimensions,
    churn_reasons,
    churn_reasons_by_month,
    tenure_at_churn,
)
from analytics.metrics.cohorts import cohort_retention
from analytics.metrics.customer_base import active_customers, churn_by_period, churn_summary
from analytics.metrics.data_quality import data_quality_report, duplicate_policy_note
from analytics.metrics.funnel import (
    proactive_funnel,
    proactive_retention_comparison,
    funnel_steps,
    retention_funnel,
    retention_funnel_counts,
    retention_funnel_summaries,
    retention_funnel_summary,
    saved_customers,
    saved_customers_by_period,
)
from analytics.metrics.note_signals import (
    note_signal_examples,
    note_signal_summary,
    note_signal_trend,
)
from analytics.metrics.predicted_value import (
    SavedCustomerValue,
    latest_scoring_date,
    predicted_clv_quantiles,
    predicted_clv_quantiles_by,
    saved_customer_value,
)
from analytics.metrics.revenue import mrr_by_month, mrr_movements, mrr_waterfall, revenue_retention
from analytics.metrics.service import (
    churn_by_service_histories,
    churn_by_service_history,
    first_contact_resolution,
    repeat_contact_rate,
    satisfaction_trend,
    service_levels,
)
from analytics.metrics.survival import (
    LogrankResult,
    kaplan_meier,
    kaplan_meier_from_durations,
    logrank_from_durations,
    median_lifetime,
    median_lifetime_from_durations,
    survival_durations,
    survival_logrank,
)
from analytics.metrics.targets import actuals_from, load_targets, quarter_actuals, quarter_window, targets_vs_actuals
from analytics.metrics.value import (
    HistoryTruncation,
    ParetoShare,
    average_clv_at,
    clv_cac_ratio,
    clv_pareto,
    clv_pareto_curve,
    clv_quantiles,
    clv_quantiles_by,
    history_truncation,
    customer_clv,
    value_tiers,
)

__all__ = [
    "LogrankResult",
    "HistoryTruncation",
    "ParetoShare",
    "SavedCustomerValue",
    "active_customers",
    "actuals_from",
    "churn_by_dimension",
    "churn_by_dimensions",
    "churn_by_period",
    "churn_by_service_histories",
    "churn_by_service_history",
    "churn_reasons",
    "churn_reasons_by_month",
    "churn_summary",
    "clv_cac_ratio",
    "average_clv_at",
    "clv_pareto",
    "clv_pareto_curve",
    "clv_quantiles",
    "clv_quantiles_by",
    "history_truncation",
    "cohort_retention",
    "customer_clv",
    "data_quality_report",
    "duplicate_policy_note",
    "first_contact_resolution",
    "kaplan_meier",
    "latest_scoring_date",
    "load_targets",
    "median_lifetime",
    "mrr_by_month",
    "mrr_movements",
    "note_signal_examples",
    "note_signal_summary",
    "note_signal_trend",
    "predicted_clv_quantiles",
    "saved_customer_value",
    "predicted_clv_quantiles_by",
    "proactive_funnel",
    "proactive_retention_comparison",
    "quarter_actuals",
    "quarter_window",
    "repeat_contact_rate",
    "funnel_steps",
    "retention_funnel",
    "retention_funnel_counts",
    "retention_funnel_summaries",
    "retention_funnel_summary",
    "revenue_retention",
    "mrr_waterfall",
    "satisfaction_trend",
    "saved_customers",
    "saved_customers_by_period",
    "service_levels",
    "survival_durations",
    "survival_logrank",
    "kaplan_meier_from_durations",
    "logrank_from_durations",
    "median_lifetime_from_durations",
    "targets_vs_actuals",
    "tenure_at_churn",
    "value_tiers",
]
