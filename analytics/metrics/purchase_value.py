"""Purchase-log value: P(alive), expected purchases, predicted CLV and expected loss for a
business whose customers buy without subscriptions (docs/metrics.md#purchase-log-value).

A *purchase log* is the ``purchase`` touchpoints with their ``amount`` plus an imported `purchases` table (`analytics.filters.purchases`);
a *purchase-log file* has purchases and no ``monthly_revenue`` rows
(`analytics.catalog.data_present`: ``revenue`` False, ``purchases`` True).

**The fit.** BG/NBD (Fader, Hardie & Lee 2005a, "Counting Your Customers the Easy Way",
*Marketing Science* 24(2)) and Gamma-Gamma (Fader, Hardie & Lee 2005b, "RFM and CLV", *JMR*
42(4); Fader & Hardie 2013 note) as implemented in `analytics.purchase_clv`, fitted by
maximum likelihood on every customer's purchases up to the end of the as-of date, in
weeks: ``x`` = purchase days − 1, ``t_x`` = first to last purchase day, ``T`` = first
purchase day to the as-of date (`summary_from_transactions`, same-day purchases are one).
The fit ignores the sidebar's population and channel filters — a model of the whole
customer base, fitted once per file and as-of date (kept on a read-only `Database`, like
`analytics.duplicates`) — and a filter is a slice of its per-customer rows.

**Per customer** (``customers`` frame of `purchase_value`):

* ``p_alive`` = P(alive | x, t_x, T) = 1 / (1 + δ_{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^{r+x})
  (Fader, Hardie & Lee 2008 note "Computing P(alive) Using the BG/NBD Model"). A customer
  with no repeat purchase (x = 0) has P(alive) = 1: under BG/NBD a customer can only drop
  out right after a purchase.
* ``expected_purchases`` = E[Y(t) | x, t_x, T], BG/NBD eq. (10), over the next
  `HORIZON_MONTHS` months (t = months × 365.25/12 ÷ 7 weeks).
* ``expected_spend`` = E(M | x, z̄) = p(γ + x z̄)/(px + q − 1), the Gamma-Gamma
  conditional mean spend per purchase (the population mean pγ/(q−1) for x = 0).
* ``predicted_clv`` = Σ_{i=1..H} E(M) · (E[Y(i·k)] − E[Y((i−1)·k)]) · m / (1+d)^i, the
  expected margin of the next H months **discounted** monthly at d = 1.10^{1/12} − 1 (10 %
  a year, the subscription CLV's rate, analytics/risk/clv.py), m = the customer's
  ``margin_rate`` (0 when missing, as for historical CLV), k = weeks per month. It already
  weighs by P(alive) (eq. 10 is P(alive) × the purchases of a customer known to be alive).
* ``value_if_alive`` = predicted_clv ÷ P(alive): the same margin for a customer known to be
  alive — the value at stake if they have dropped out.
* ``expected_loss`` = (1 − P(alive)) × value_if_alive: the margin of the horizon lost if the
  customer has dropped out. Not (1 − P(alive)) × predicted_clv: that counts P(alive)
  twice, peaks at P(alive) = ½ and gives a customer almost surely gone no loss at all.
  One-time buyers (x = 0) have P(alive) = 1 and so no expected loss: BG/NBD cannot see
  them leave (the recency rule of "active" below can).
* ``active`` = bought within `RECENT_DAYS` days of the as-of date, or a repeat buyer
  (x > 0) with P(alive) ≥ `ALIVE_THRESHOLD`. One-time buyers' P(alive) of 1 is a property
  of the model, not evidence, so for them only the recency rule counts.

When the fit is impossible — no purchases, fewer than `MIN_REPEAT_BUYERS` repeat buyers,
the optimiser does not converge, Gamma-Gamma's q ≤ 1 (no finite mean spend) — the result
is unavailable with a one-line ``message``; nothing raises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from analytics.db import Database
from analytics.filters import RetentionFilter, customers, purchases
from analytics.metrics._common import empty_frame
from analytics.purchase_clv import (
    DAYS_PER_MONTH,
    BetaGeoModel,
    ConvergenceError,
    GammaGammaModel,
    summary_from_transactions,
)

HORIZON_MONTHS = 12
ALIVE_THRESHOLD = 0.5
RECENT_DAYS = 90
ANNUAL_DISCOUNT_RATE = 0.10  # as the subscription CLV (analytics/risk/clv.py)
MONTHLY_DISCOUNT_RATE = (1 + ANNUAL_DISCOUNT_RATE) ** (1 / 12) - 1
MIN_REPEAT_BUYERS = 20  # below this the four BG/NBD parameters are not identified in practice
WEEK_DAYS = 7.0

CUSTOMER_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "full_name": "string",
    "segment": "string",
    "region": "string",
    "plan": "string",
    "first_purchase": "datetime64[ns]",
    "last_purchase": "datetime64[ns]",
    "purchases": "int64",  # purchase days up to the as-of date (x + 1)
    "frequency": "float64",  # x, repeat purchase days
    "recency_weeks": "float64",
    "age_weeks": "float64",  # T
    "monetary_value": "float64",  # z̄, mean spend of the repeat purchase days
    "days_since_purchase": "int64",
    "margin_rate": "float64",
    "p_alive": "float64",
    "expected_purchases": "float64",
    "expected_spend": "float64",
    "predicted_clv": "float64",
    "value_if_alive": "float64",
    "expected_loss": "float64",
    "active": "bool",
}

_FIT_KEY = "purchase-log fit"  # key in Database.read_only_facts: {(as_of, horizon): PurchaseValue}
_FITS_KEPT = 4


@dataclass(frozen=True)
class PurchaseValue:
    """The fitted purchase-log value at ``as_of``. `available` False (with `message`) when
    no fit was possible; `customers` then is empty (columns `CUSTOMER_COLUMNS`). `params`
    holds r, alpha (per week), a, b, p, q, v."""

    available: bool
    message: str
    as_of: date
    horizon_months: int = HORIZON_MONTHS
    params: dict[str, float] = field(default_factory=dict)
    repeat_buyers: int = 0
    customers: pd.DataFrame = field(default_factory=lambda: empty_frame(CUSTOMER_COLUMNS))

    def sliced(self, flt: RetentionFilter) -> "PurchaseValue":
        """The same fit, its customers restricted to the filter's segments, regions and
        plans (the channel filter does not apply: a customer belongs to no channel)."""
        df = self.customers
        for column, values in (("segment", flt.segments), ("region", flt.regions), ("plan", flt.plans)):
            if values:
                df = df[df[column].isin(values)]
        return PurchaseValue(self.available, self.message, self.as_of, self.horizon_months, self.params,
                             self.repeat_buyers, df.reset_index(drop=True))


def purchase_value(db: Database, flt: RetentionFilter, horizon_months: int = HORIZON_MONTHS) -> PurchaseValue:
    """BG/NBD + Gamma-Gamma value of the selected customers who bought by ``flt.as_of``
    (module docstring), sorted by predicted CLV, highest first. The fit covers the whole
    file; the filter's segments, regions and plans slice it."""
    return purchase_value_fit(db, flt.as_of, horizon_months).sliced(flt)


def purchase_value_fit(db: Database, as_of: date, horizon_months: int = HORIZON_MONTHS) -> PurchaseValue:
    """The fit over every customer of the file (no population filter), kept per as-of
    date and horizon on a read-only database."""
    if horizon_months < 1:
        raise ValueError(f"horizon_months must be at least 1, got {horizon_months}")
    if not db.read_only:
        return _fit(db, as_of, horizon_months)
    kept = db.read_only_facts.setdefault(_FIT_KEY, {})
    key = (as_of, horizon_months)
    if key not in kept:
        if len(kept) >= _FITS_KEPT:  # one frame per customer each: keep the latest few as-of dates
            kept.pop(next(iter(kept)))
        kept[key] = _fit(db, as_of, horizon_months)
    return kept[key]


def _purchase_log(db: Database, as_of: date) -> pd.DataFrame:
    """customer_id, occurred_at, amount of every purchase up to the end of `as_of` (all
    channels, superseded duplicate records left out), joined to the customer's name,
    dimensions and margin rate."""
    t = purchases(db, RetentionFilter(as_of, as_of), in_period=False)
    c = customers(db, RetentionFilter(as_of, as_of))
    j = t.join(c, t.customer_id == c.customer_id).select(
        t.customer_id, t.occurred_at, amount=t.amount.fill_null(0.0).cast("float64"),
        full_name=c.full_name, segment=c.segment, region=c.region, plan=c.plan,
        margin_rate=c.margin_rate.fill_null(0.0).cast("float64"))
    return db.ibis().to_pandas(j)


def _unavailable(as_of: date, horizon: int, message: str, **kw) -> PurchaseValue:
    return PurchaseValue(False, message, as_of, horizon, **kw)


def _fit(db: Database, as_of: date, horizon: int) -> PurchaseValue:
    log = _purchase_log(db, as_of)
    if log.empty:
        return _unavailable(as_of, horizon, f"No purchases up to {as_of:%d %b %Y}, so purchase-log value "
                                            "cannot be predicted.")
    try:
        rfm = summary_from_transactions(log, "customer_id", "occurred_at", "amount", observation_end=as_of, freq="W")
    except ValueError as err:
        return _unavailable(as_of, horizon, f"The purchase log cannot be summarised: {err}.")
    repeaters = int((rfm["frequency"] > 0).sum())
    if repeaters < MIN_REPEAT_BUYERS:
        return _unavailable(as_of, horizon, f"Only {repeaters} customer(s) bought more than once by "
                            f"{as_of:%d %b %Y}; predicting purchase-log value needs at least "
                            f"{MIN_REPEAT_BUYERS} repeat buyers.", repeat_buyers=repeaters)
    try:
        bg = BetaGeoModel().fit(rfm["frequency"], rfm["recency"], rfm["T"])
        spenders = (rfm["frequency"] > 0) & (rfm["monetary_value"] > 0)
        gg = GammaGammaModel().fit(rfm.loc[spenders, "frequency"], rfm.loc[spenders, "monetary_value"])
    except (ConvergenceError, ValueError) as err:
        return _unavailable(as_of, horizon, f"The purchase model could not be fitted: {err}.",
                            repeat_buyers=repeaters)
    params = {**bg.params_.to_dict(), **gg.params_.to_dict()}
    if gg.q_ <= 1:
        return _unavailable(as_of, horizon, f"The spend model has no finite mean (q = {gg.q_:.2f} ≤ 1): spend "
                            "per purchase is too heavy-tailed to predict value.", params=params,
                            repeat_buyers=repeaters)
    return PurchaseValue(True, f"BG/NBD + Gamma-Gamma fitted on {len(rfm):,} customers ({repeaters:,} repeat "
                         f"buyers) up to {as_of:%d %b %Y}.", as_of, horizon, params, repeaters,
                         _per_customer(log, rfm, bg, gg, as_of, horizon))


def _per_customer(log: pd.DataFrame, rfm: pd.DataFrame, bg: BetaGeoModel, gg: GammaGammaModel,
                  as_of: date, horizon: int) -> pd.DataFrame:
    x, t_x, big_t, m = (rfm[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    # a repeat buyer whose repeat purchases were all free has no observed spend: population mean
    m = np.where(m > 0, m, 0.0)
    x_spend = np.where(m > 0, x, 0.0)
    weeks = horizon * DAYS_PER_MONTH / WEEK_DAYS
    p_alive = np.asarray(bg.conditional_probability_alive(x, t_x, big_t), dtype=float)
    expected_purchases = np.asarray(
        bg.conditional_expected_number_of_purchases_up_to_time(weeks, x, t_x, big_t), dtype=float)
    expected_spend = np.asarray(gg.conditional_expected_average_profit(x_spend, m), dtype=float)
    # revenue of the horizon, discounted monthly (GammaGammaModel.customer_lifetime_value)
    revenue = np.asarray(gg.customer_lifetime_value(bg, x_spend, t_x, big_t, m, time_months=horizon,
                                                    discount_rate=MONTHLY_DISCOUNT_RATE, freq_days=WEEK_DAYS),
                         dtype=float)
    facts = log.groupby("customer_id").agg(
        full_name=("full_name", "first"), segment=("segment", "first"), region=("region", "first"),
        plan=("plan", "first"), margin_rate=("margin_rate", "first"),
        first_purchase=("occurred_at", "min"), last_purchase=("occurred_at", "max")).reindex(rfm.index)
    margin = facts["margin_rate"].to_numpy(dtype=float)
    clv = revenue * margin
    value_if_alive = np.divide(clv, p_alive, out=np.zeros_like(clv), where=p_alive > 0)
    last_day = pd.to_datetime(facts["last_purchase"]).dt.normalize()
    days_since = (pd.Timestamp(as_of) - last_day).dt.days.to_numpy()
    out = pd.DataFrame({
        "customer_id": rfm.index.to_numpy(),
        "full_name": facts["full_name"].to_numpy(),
        "segment": facts["segment"].to_numpy(),
        "region": facts["region"].to_numpy(),
        "plan": facts["plan"].to_numpy(),
        "first_purchase": pd.to_datetime(facts["first_purchase"]).to_numpy(),
        "last_purchase": pd.to_datetime(facts["last_purchase"]).to_numpy(),
        "purchases": (x + 1).astype("int64"),
        "frequency": x,
        "recency_weeks": t_x,
        "age_weeks": big_t,
        "monetary_value": m,
        "days_since_purchase": days_since.astype("int64"),
        "margin_rate": margin,
        "p_alive": p_alive,
        "expected_purchases": expected_purchases,
        "expected_spend": expected_spend,
        "predicted_clv": clv,
        "value_if_alive": value_if_alive,
        "expected_loss": (1.0 - p_alive) * value_if_alive,
        "active": is_active(x, p_alive, days_since),
    })
    out = out.sort_values(["predicted_clv", "customer_id"], ascending=[False, True]).reset_index(drop=True)
    return out.astype({k: v for k, v in CUSTOMER_COLUMNS.items() if v != "datetime64[ns]"})


def is_active(frequency, p_alive, days_since_purchase, threshold: float = ALIVE_THRESHOLD,
              recent_days: int = RECENT_DAYS) -> np.ndarray:
    """The purchase-log "active" rule (module docstring): bought within `recent_days` days,
    or a repeat buyer with P(alive) ≥ `threshold`."""
    x, p, days = (np.asarray(v, dtype=float) for v in (frequency, p_alive, days_since_purchase))
    return (days <= recent_days) | ((x > 0) & (p >= threshold))


@dataclass(frozen=True)
class PurchaseSummary:
    """The purchase-log headline figures of a selection (module docstring): `active`
    customers by the rule, `buyers` (customers who ever bought), average predicted CLV and
    P(alive) over the buyers, the total expected loss. NaN figures and `message` when the
    fit is unavailable."""

    available: bool
    message: str
    buyers: int = 0
    active: int = 0
    average_predicted_clv: float = math.nan
    total_predicted_clv: float = math.nan
    average_p_alive: float = math.nan
    total_expected_loss: float = math.nan


def purchase_summary(value: PurchaseValue) -> PurchaseSummary:
    """`PurchaseSummary` of a (sliced) `PurchaseValue`."""
    if not value.available:
        return PurchaseSummary(False, value.message)
    df = value.customers
    if df.empty:
        return PurchaseSummary(True, value.message)
    return PurchaseSummary(True, value.message, len(df), int(df["active"].sum()), float(df["predicted_clv"].mean()),
                           float(df["predicted_clv"].sum()), float(df["p_alive"].mean()),
                           float(df["expected_loss"].sum()))


PERIOD_COLUMNS: dict[str, str] = {"purchases": "int64", "purchase_revenue": "float64", "buyers": "int64"}


def purchases_in_period(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """One row: ``purchases`` (purchase touchpoints), ``purchase_revenue`` (Σ amount) and
    ``buyers`` (distinct customers) of the selected customers from ``flt.start`` to
    ``flt.end`` inclusive, in the selected channels."""
    t = purchases(db, flt)
    agg = t.aggregate(purchases=t.count(), purchase_revenue=t.amount.sum(), buyers=t.customer_id.nunique())
    df = db.ibis().to_pandas(agg)
    df = df.fillna({"purchases": 0, "purchase_revenue": 0.0, "buyers": 0})
    return df.astype(PERIOD_COLUMNS)


def purchase_log_file(present: dict[str, bool]) -> bool:
    """A file of purchases without subscriptions: purchases and no monthly revenue
    (`analytics.catalog.data_present`)."""
    return bool(present.get("purchases")) and not present.get("revenue")


def has_churn_dates(db: Database) -> bool:
    """True when any customer record carries a churn date (a purchase log usually has none:
    its customers never cancel, they stop buying)."""
    c = db.table("customers")
    return bool(db.ibis().to_pandas(c.aggregate(n=c.churn_date.count()))["n"].iloc[0])
