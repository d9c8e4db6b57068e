"""The Retention Radar database schema: one definition shared by the generator, the
loader checks and the docs (`docs/data-model.md` describes every column in words).

A database is compatible when its `schema_info` table carries `schema_version` equal to
`SCHEMA_VERSION` and every required table has at least the required columns. Extra tables
and columns are allowed, so a customer's own export may carry more than we read.
"""

from __future__ import annotations

SCHEMA_VERSION = "1"

# Allowed values of the categorical columns. The generator draws from these and the
# data-quality checks and filters use them; docs/data-model.md lists the same values.
SEGMENTS = ("consumer", "small_business", "enterprise")
REGIONS = ("center", "tel_aviv", "jerusalem", "north", "south")
PLANS = ("basic", "standard", "premium")
CONTRACT_TYPES = ("month_to_month", "annual", "two_year")
ACQUISITION_CHANNELS = ("web", "store", "telesales", "referral", "partner")
CHURN_REASONS = (
    "price",
    "competitor",
    "service",
    "billing",
    "moving",
    "product_fit",
    "non_payment",
    "other",
)
TOUCHPOINT_KINDS = (
    "service_request",
    "complaint",
    "billing_issue",
    "purchase",
    "survey",
    "cancellation_request",
    "retention_call",
    "proactive_outreach",
    "marketing",
)
CHANNELS = ("phone", "chat", "email", "sms", "whatsapp", "web", "store", "facebook")
DIRECTIONS = ("inbound", "outbound")
SUBJECTS = ("technical", "billing", "plan_change", "cancellation", "general", "sales")
# Outcome of a retention call (answering a cancellation request) or a proactive outreach.
OUTCOMES = ("not_reached", "reached_no_offer", "offer_declined", "offer_accepted")

# table -> {column: DuckDB type}. Order is the column order the generator writes.
TABLES: dict[str, dict[str, str]] = {
    "schema_info": {"key": "VARCHAR", "value": "VARCHAR"},
    "customers": {
        "customer_id": "BIGINT",
        "full_name": "VARCHAR",
        "email": "VARCHAR",
        "phone": "VARCHAR",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "contract_type": "VARCHAR",
        "acquisition_channel": "VARCHAR",
        "acquisition_cost": "DOUBLE",
        "signup_date": "DATE",
        "churn_date": "DATE",
        "churn_reason": "VARCHAR",
        "monthly_revenue": "DOUBLE",
        "margin_rate": "DOUBLE",
        "loyalty_member": "BOOLEAN",
        "account_owner": "VARCHAR",
    },
    "touchpoints": {
        "touchpoint_id": "BIGINT",
        "customer_id": "BIGINT",
        "occurred_at": "TIMESTAMP",
        "kind": "VARCHAR",
        "channel": "VARCHAR",
        "direction": "VARCHAR",
        "subject": "VARCHAR",
        "agent": "VARCHAR",
        "wait_seconds": "INTEGER",
        "handle_seconds": "INTEGER",
        "resolved": "BOOLEAN",
        "first_contact_resolution": "BOOLEAN",
        "amount": "DOUBLE",
        "csat": "TINYINT",
        "nps": "TINYINT",
        "outcome": "VARCHAR",
        "related_touchpoint_id": "BIGINT",
        "note": "VARCHAR",
    },
    "monthly_revenue": {
        "customer_id": "BIGINT",
        "month": "DATE",
        "mrr": "DOUBLE",
    },
}

REQUIRED_TABLES = ("schema_info", "customers", "touchpoints", "monthly_revenue")

# Optional tables: present in generated sample data (ground truth for tests) or written
# by later commands (scores). Their absence never makes a database incompatible.
OPTIONAL_TABLES: dict[str, dict[str, str]] = {
    "injected_defects": {
        "table_name": "VARCHAR",
        "row_id": "BIGINT",
        "defect": "VARCHAR",
        "detail": "VARCHAR",
    },
    "at_risk_flags": {
        "customer_id": "BIGINT",
        "flagged_on": "DATE",
        "source": "VARCHAR",
    },
    # written by `python -m analytics.score` (analytics/risk/): one row per customer active
    # on the scored as-of date, and one row per scoring run with its model card
    "churn_scores": {
        "customer_id": "BIGINT",
        "as_of_date": "DATE",
        "churn_probability": "DOUBLE",
        "clv_historical": "DOUBLE",
        "clv_predicted": "DOUBLE",
        "expected_loss": "DOUBLE",
        "risk_rank": "BIGINT",
        "driver_1": "VARCHAR",
        "driver_2": "VARCHAR",
        "driver_3": "VARCHAR",
        "model_version": "VARCHAR",
        "scored_at": "TIMESTAMP",
        # the driver groups behind driver_1..3 (analytics.risk.drivers.DRIVER_GROUPS names),
        # for the at-risk list's driver filter; added after the first release, so older
        # files may lack them (the scorer adds them, readers treat them as optional)
        "driver_group_1": "VARCHAR",
        "driver_group_2": "VARCHAR",
        "driver_group_3": "VARCHAR",
        # the expected discounted margin still to come (clv_predicted − clv_historical), the
        # value behind expected_loss = churn_probability × clv_future (issue 14). Older files
        # lack it and their expected_loss is p × clv_predicted: readers recompute the loss
        # from clv_predicted − clv_historical where it is NULL (analytics.at_risk)
        "clv_future": "DOUBLE",
    },
    "model_runs": {
        "model_version": "VARCHAR",
        "trained_at": "TIMESTAMP",
        "as_of_date": "DATE",
        "card_json": "VARCHAR",
    },
    # written by `python -m analytics.load` (docs/data-model.md, "Optional tables"):
    # the export's extra customer columns, one row per customer and attribute (text values)
    "customer_attributes": {
        "customer_id": "BIGINT",
        "attribute": "VARCHAR",
        "value": "VARCHAR",
    },
    # the export's own customer id when it was text (customer_id numbers them in file order)
    "customer_source_ids": {
        "customer_id": "BIGINT",
        "source_id": "VARCHAR",
    },
    # a purchase log (businesses without subscriptions): one row per purchase
    "purchases": {
        "customer_id": "BIGINT",
        "purchase_date": "DATE",
        "amount": "DOUBLE",
    },
    # written by `python -m analytics.rollups` (and the sample generator): precomputed
    # inputs of the slowest metrics, used only while fresh (docs/decisions/009)
    "rollup_info": {
        "rollup": "VARCHAR",
        "as_of_date": "DATE",
        "source_fingerprint": "VARCHAR",
        "rollup_version": "VARCHAR",
        "rows": "BIGINT",
        "build_seconds": "DOUBLE",
        "built_at": "TIMESTAMP",
    },
    "rollup_customer_value": {
        "customer_id": "BIGINT",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "acquisition_channel": "VARCHAR",
        "acquisition_cost": "DOUBLE",
        "recurring_revenue": "DOUBLE",
        "purchase_revenue": "DOUBLE",
        "margin_rate": "DOUBLE",
        "clv": "DOUBLE",
        "value_rank": "BIGINT",
        "population": "BIGINT",
        "value_tier": "VARCHAR",
    },
    "rollup_mrr_monthly": {
        "month": "DATE",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "mrr": "DOUBLE",
        "paying_customers": "BIGINT",
    },
    "rollup_mrr_movements": {
        "month_key": "INTEGER",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "pairs": "BIGINT",
        "start_mrr": "DOUBLE",
        "end_mrr": "DOUBLE",
        "new_mrr": "DOUBLE",
        "reactivation_mrr": "DOUBLE",
        "expansion_mrr": "DOUBLE",
        "contraction_mrr": "DOUBLE",
        "churned_mrr": "DOUBLE",
        "book_customers": "BIGINT",
        "book_start_mrr": "DOUBLE",
        "book_end_mrr": "DOUBLE",
        "book_kept_mrr": "DOUBLE",
        "book_expansion_mrr": "DOUBLE",
        "book_contraction_mrr": "DOUBLE",
        "book_churned_mrr": "DOUBLE",
        # the MRR waterfall's step over the whole month (revenue._whole_month_step_measures)
        "wf_prev_mrr": "DOUBLE",
        "wf_cur_mrr": "DOUBLE",
        "wf_new_mrr": "DOUBLE",
        "wf_reactivation_mrr": "DOUBLE",
        "wf_expansion_mrr": "DOUBLE",
        "wf_contraction_mrr": "DOUBLE",
        "wf_churned_mrr": "DOUBLE",
        "wf_paying": "BIGINT",
    },
    "rollup_clv_accrual": {
        "counts_from": "DATE",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "customers": "BIGINT",
        "value": "DOUBLE",
    },
    "rollup_repeat_contacts": {
        "day": "DATE",
        "channel": "VARCHAR",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "contacts": "BIGINT",
        "repeat_contacts": "BIGINT",
    },
    "rollup_wait_histogram": {
        "month": "DATE",
        "channel": "VARCHAR",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "wait": "DOUBLE",
        "contacts": "BIGINT",
        "within_sla": "BIGINT",
    },
    "rollup_touchpoint_daily": {
        "day": "DATE",
        "channel": "VARCHAR",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "fcr_contacts": "BIGINT",
        "resolved_first_contact": "BIGINT",
        "surveys": "BIGINT",
        "noted": "BIGINT",
        "csat_responses": "BIGINT",
        "csat_sum": "DOUBLE",
        "csat_top2": "BIGINT",
        "nps_responses": "BIGINT",
        "promoters": "BIGINT",
        "passives": "BIGINT",
        "detractors": "BIGINT",
        "all_notes": "BIGINT",
        # analytics.risk.note_signals.NOTE_SIGNALS, then any_signal (tests/unit/metrics/test_rollups.py)
        **{signal: "BIGINT" for signal in ("cancel_intent", "competitor", "price", "moving",
                                           "dissatisfaction", "billing", "any_signal")},
    },
    "rollup_dq_failures": {
        "check": "VARCHAR",
        "table_name": "VARCHAR",
        "record_id": "BIGINT",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "channel": "VARCHAR",
    },
    "rollup_dq_duplicate_candidates": {
        "customer_id": "BIGINT",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "email_group": "BIGINT",
        "phone_group": "BIGINT",
    },
    "rollup_dq_checked": {
        "table_name": "VARCHAR",
        "segment": "VARCHAR",
        "region": "VARCHAR",
        "plan": "VARCHAR",
        "channel": "VARCHAR",
        "records": "BIGINT",
    },
}


def create_table_sql(table: str, columns: dict[str, str]) -> str:
    """DDL for one table, idempotent (`create table if not exists`)."""
    cols = ",\n  ".join(f'"{name}" {dtype}' for name, dtype in columns.items())
    return f'create table if not exists "{table}" (\n  {cols}\n)'


# The SQL type of each column above as an Ibis type, for writing a table through Ibis on any
# engine (`ibis_schema`).
IBIS_TYPES = {"BIGINT": "int64", "INTEGER": "int32", "TINYINT": "int8", "DOUBLE": "float64",
              "VARCHAR": "string", "DATE": "date", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}


def ibis_schema(columns: dict[str, str]) -> dict[str, str]:
    """`columns` (name -> SQL type, as in TABLES) with Ibis type names."""
    return {name: IBIS_TYPES[dtype] for name, dtype in columns.items()}
