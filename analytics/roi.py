"""Retention economics: programme ROI, the churn-reduction what-if and the cost of
replacing lost customers against keeping them (docs/metrics.md#retention-roi).

Pure arithmetic over numbers the metric layer supplies (saved customers, future value,
MRR, churn, acquisition cost) and the user's assumptions (cost of a retention action, of an offer,
the acquisition-cost multiple). No database, no Streamlit. The brief: "a retention
programme's ROI must be measured, not assumed"; acquiring a customer costs 5–7× (up to
6–10×, in some sectors 20×) more than keeping one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

DAYS_PER_MONTH = 365.25 / 12  # the average month, as in analytics.metrics (survival)
DEFAULT_ACQUISITION_MULTIPLE = 5.0  # the brief: acquiring costs 5–7× keeping
# Default unit costs of the programme (₪, editable on the ROI page; the leadership story
# states them): one retention action (a call or an outreach) and one accepted offer.
DEFAULT_COST_PER_ACTION = 20.0
DEFAULT_COST_PER_OFFER = 100.0
DEFAULT_HORIZONS = (12, 24)  # months


def _non_negative(**values: float) -> None:
    for name, value in values.items():
        if value is None or (isinstance(value, float) and math.isnan(value)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")


def _rate(name: str, value: float) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a rate in [0, 1], got {value!r}")


# --- programme ROI -------------------------------------------------------------------------

@dataclass(frozen=True)
class ProgrammeROI:
    """The retention programme's return over one period (see `programme_roi`)."""

    saved_customers: float
    value_per_saved: float
    retained_value: float
    actions: float
    cost_per_action: float
    offers: float
    cost_per_offer: float
    programme_cost: float
    net_benefit: float
    roi: float


def programme_roi(
    saved_customers: float,
    value_per_saved: float,
    actions: float,
    cost_per_action: float,
    offers: float,
    cost_per_offer: float,
) -> ProgrammeROI:
    """Programme ROI = saved customers × CLV − cost (the brief's formula), and as a ratio:

        retained_value = saved_customers × value_per_saved
        programme_cost = actions × cost_per_action + offers × cost_per_offer
        net_benefit    = retained_value − programme_cost
        roi            = net_benefit ÷ programme_cost       (NaN when the cost is 0)

    `actions` are the retention contacts made (calls answering cancellation requests,
    proactive outreach) and `offers` the offers accepted (a discount costs only when
    taken). `value_per_saved` is the value kept per saved customer: the margin they are
    still expected to bring — a *future* value, never the margin already earned (the
    default, `analytics.metrics.saved_customer_value`, is the future value of the customers
    expected to leave). All inputs must be >= 0."""
    _non_negative(saved_customers=saved_customers, value_per_saved=value_per_saved, actions=actions,
                  cost_per_action=cost_per_action, offers=offers, cost_per_offer=cost_per_offer)
    retained = saved_customers * value_per_saved
    cost = actions * cost_per_action + offers * cost_per_offer
    net = retained - cost
    return ProgrammeROI(
        saved_customers=saved_customers,
        value_per_saved=value_per_saved,
        retained_value=retained,
        actions=actions,
        cost_per_action=cost_per_action,
        offers=offers,
        cost_per_offer=cost_per_offer,
        programme_cost=cost,
        net_benefit=net,
        roi=net / cost if cost > 0 else math.nan,
    )


# --- churn-reduction what-if ---------------------------------------------------------------

def monthly_churn_rate(period_churn_rate: float, period_days: float) -> float:
    """The constant monthly rate that compounds to `period_churn_rate` over `period_days`:

        c = 1 − (1 − p) ^ (1 / m),   m = period_days ÷ 30.4375

    e.g. 19% lost over two months is 10% a month (0.9² = 0.81)."""
    _rate("period_churn_rate", period_churn_rate)
    if period_days is None or period_days <= 0:
        raise ValueError(f"period_days must be > 0, got {period_days!r}")
    months = period_days / DAYS_PER_MONTH
    return 1.0 - (1.0 - period_churn_rate) ** (1.0 / months)


def book_revenue(monthly_revenue: float, monthly_churn: float, months: int) -> float:
    """Revenue from today's book over the next `months` months, no new sales, a share
    `monthly_churn` of it lost at the end of every month (the month is billed first):

        revenue = R × Σ_{k=0}^{n−1} (1 − c)^k = R × (1 − (1 − c)^n) ÷ c     (R × n when c = 0)

    e.g. R = 1,000, c = 10%, n = 3: 1,000 + 900 + 810 = 2,710."""
    _non_negative(monthly_revenue=monthly_revenue)
    _rate("monthly_churn", monthly_churn)
    if months < 0 or int(months) != months:
        raise ValueError(f"months must be a whole number >= 0, got {months!r}")
    if monthly_churn == 0:
        return monthly_revenue * months
    return monthly_revenue * (1.0 - (1.0 - monthly_churn) ** months) / monthly_churn


@dataclass(frozen=True)
class HorizonRevenue:
    months: int
    baseline_revenue: float
    improved_revenue: float
    extra_revenue: float


@dataclass(frozen=True)
class ChurnReductionWhatIf:
    """Today's book at today's churn against the same book with churn cut (see
    `churn_reduction_whatif`)."""

    monthly_revenue: float
    monthly_churn: float
    reduction_points: float
    improved_churn: float
    horizons: tuple[HorizonRevenue, ...]


def churn_reduction_whatif(
    monthly_revenue: float,
    monthly_churn: float,
    reduction_points: float,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
) -> ChurnReductionWhatIf:
    """What cutting monthly churn by `reduction_points` (a rate difference: 0.005 = half a
    point) is worth over each horizon:

        improved_churn = max(c − x, 0)
        extra_revenue  = book_revenue(R, improved_churn, n) − book_revenue(R, c, n)

    with R = today's MRR and c = today's monthly churn (`book_revenue` for the model)."""
    _rate("monthly_churn", monthly_churn)
    _non_negative(reduction_points=reduction_points)
    improved = max(monthly_churn - reduction_points, 0.0)
    rows = []
    for n in horizons:
        base = book_revenue(monthly_revenue, monthly_churn, n)
        better = book_revenue(monthly_revenue, improved, n)
        rows.append(HorizonRevenue(int(n), base, better, better - base))
    return ChurnReductionWhatIf(monthly_revenue, monthly_churn, reduction_points, improved, tuple(rows))


# --- replace or keep -----------------------------------------------------------------------

@dataclass(frozen=True)
class ReplaceOrKeep:
    """The cost of winning back a period's lost customers by acquisition against keeping
    them (see `replace_or_keep`)."""

    lost_customers: float
    keep_cost_per_customer: float
    observed_cac: float
    multiple: float
    keep_cost: float
    replace_at_observed_cac: float
    replace_at_multiple: float
    saving: float


def replace_or_keep(
    lost_customers: float,
    cost_per_action: float,
    cost_per_offer: float,
    observed_cac: float | None = None,
    multiple: float = DEFAULT_ACQUISITION_MULTIPLE,
) -> ReplaceOrKeep:
    """Replacing lost customers by acquisition vs keeping them:

        keep_cost_per_customer  = cost_per_action + cost_per_offer   (one action and one
                                   accepted offer per kept customer: a lower bound)
        keep_cost               = lost × keep_cost_per_customer
        replace_at_observed_cac = lost × observed_cac                 (NaN when unknown)
        replace_at_multiple     = lost × multiple × keep_cost_per_customer
        saving                  = replacement cost − keep_cost, the replacement at the
                                  observed CAC when known, else at the multiple

    `multiple` is the brief's rule of thumb (acquiring costs 5–7× keeping)."""
    _non_negative(lost_customers=lost_customers, cost_per_action=cost_per_action,
                  cost_per_offer=cost_per_offer, multiple=multiple)
    known_cac = observed_cac is not None and not (isinstance(observed_cac, float) and math.isnan(observed_cac))
    if known_cac:
        _non_negative(observed_cac=observed_cac)
    per_customer = cost_per_action + cost_per_offer
    keep = lost_customers * per_customer
    at_cac = lost_customers * observed_cac if known_cac else math.nan
    at_multiple = lost_customers * multiple * per_customer
    replace = at_cac if known_cac else at_multiple
    return ReplaceOrKeep(
        lost_customers=lost_customers,
        keep_cost_per_customer=per_customer,
        observed_cac=observed_cac if known_cac else math.nan,
        multiple=multiple,
        keep_cost=keep,
        replace_at_observed_cac=at_cac,
        replace_at_multiple=at_multiple,
        saving=replace - keep,
    )
