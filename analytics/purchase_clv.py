"""Predictive customer lifetime value from a purchase log: BG/NBD + Gamma-Gamma.

This module is a small, dependency-light re-implementation of the two classic
"buy 'til you die" models that the (archived) ``lifetimes`` package provides:

* :class:`BetaGeoModel` - the BG/NBD model of Fader, Hardie & Lee (2005a),
  "Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD
  Model", *Marketing Science* 24(2), 275-284. It models *how many* repeat
  purchases a customer makes and whether they are still "alive".
* :class:`GammaGammaModel` - the Gamma-Gamma model of monetary value of
  Fader, Hardie & Lee (2005b), "RFM and CLV: Using Iso-Value Curves for
  Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430,
  as written up in Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary
  Value" (http://brucehardie.com/notes/025/). It models *how much* a customer
  spends per repeat purchase.

Notation (as in the papers and in ``lifetimes`` / ``pymc-marketing``):

* ``x`` (``frequency``): number of *repeat* purchases, i.e. purchase days
  after the first one;
* ``t_x`` (``recency``): age of the customer at their last purchase, i.e. time
  from the first to the last purchase (0 when ``x == 0``);
* ``T``: age of the customer at the end of the observation period, i.e. time
  from the first purchase to the end of the period;
* ``m_x`` (``monetary_value``): mean value of the ``x`` repeat purchases.

Time is measured in a single unit throughout (weeks by default in
:func:`summary_from_transactions`); fitted ``alpha`` is in that unit, and
forecast horizons ``t`` must use it too.

Likelihoods are maximised in log-parameter space with
:func:`scipy.optimize.minimize` (L-BFGS-B) using analytic gradients; all
per-customer quantities are vectorised numpy/scipy expressions built from
``gammaln``/``betaln``/``digamma``/``hyp2f1``. Nothing here is random.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

__all__ = [
    "DAYS_PER_MONTH",
    "BetaGeoModel",
    "ConvergenceError",
    "GammaGammaModel",
    "summary_from_transactions",
]

FloatArray: TypeAlias = NDArray[np.float64]
#: What prediction methods return: a float for scalar inputs, a ``pd.Series``
#: (same index) when ``frequency`` is a Series, otherwise an ndarray.
Prediction: TypeAlias = "float | FloatArray | pd.Series"

#: Average calendar month (365.25 / 12 days), used to turn CLV horizons in
#: months into model time units. ``lifetimes`` hard-codes 30 days (``freq="D"``)
#: or 4.345 weeks (``freq="W"``) instead.
DAYS_PER_MONTH: Final[float] = 365.25 / 12

_FREQ_DAYS: Final[dict[str, float]] = {"D": 1.0, "W": 7.0}


class ConvergenceError(RuntimeError):
    """Raised when the maximum-likelihood optimiser does not converge."""


# --------------------------------------------------------------------------
# RFM summary from a transaction log
# --------------------------------------------------------------------------


def summary_from_transactions(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str,
    calibration_end: Any = None,
    observation_end: Any = None,
    freq: str = "W",
) -> pd.DataFrame:
    """Collapse a transaction log into per-customer RFM sufficient statistics.

    Conventions follow ``lifetimes.utils.summary_data_from_transaction_data``
    (and ``calibration_and_holdout_data`` when ``calibration_end`` is given):

    * transactions are bucketed by calendar **day**; several purchases by the
      same customer on the same day count as one purchase whose value is the
      sum of their amounts;
    * ``frequency`` = number of purchase days - 1 (repeat purchases);
    * ``recency`` = (last purchase day - first purchase day) / unit;
    * ``T`` = (period end - first purchase day) / unit;
    * ``monetary_value`` = mean value of the repeat purchase days (the first
      purchase is excluded), 0 when ``frequency == 0``.

    ``freq`` only sets the time *unit* (``"W"``: durations are days / 7, as in
    Fader & Hardie's CDNOW summaries, e.g. ``T = 38.86`` weeks). This equals
    ``lifetimes`` with ``freq="D", freq_multiplier=7``; note that ``lifetimes``
    with ``freq="W"`` instead buckets purchases by calendar week and returns
    whole weeks.

    Parameters
    ----------
    transactions:
        One row per transaction.
    customer_col, date_col, amount_col:
        Column names of the customer id, the transaction date (datetime-like,
        or strings pandas can parse; numeric dates are rejected as ambiguous)
        and the transaction value.
    calibration_end:
        Optional last day (inclusive) of the calibration period. When given,
        the result is a calibration/holdout split like ``lifetimes``'
        ``calibration_and_holdout_data``: columns ``frequency_cal``,
        ``recency_cal``, ``T_cal``, ``monetary_value_cal`` computed on
        transactions up to ``calibration_end``, plus ``frequency_holdout``
        (purchase days in ``(calibration_end, observation_end]``),
        ``monetary_value_holdout`` (their mean value, 0 if none) and
        ``duration_holdout``. Only customers whose first purchase is in the
        calibration period are returned.
    observation_end:
        Last day (inclusive) of the study; later transactions are dropped.
        Defaults to the latest transaction date.
    freq:
        Time unit of ``recency``/``T``/``duration_holdout``: ``"W"`` (weeks,
        default) or ``"D"`` (days).

    Returns
    -------
    pd.DataFrame
        Indexed by customer id (index named ``customer_col``, sorted), float
        columns ``frequency``, ``recency``, ``T``, ``monetary_value`` (or the
        ``*_cal``/``*_holdout`` columns described above).

    Raises
    ------
    ValueError
        If columns are missing, the frame is empty, ids/dates are missing,
        dates are numeric or unparsable, amounts are not numeric, ``freq`` is
        unsupported, or the period ends are inconsistent with the data.
    """
    if not isinstance(transactions, pd.DataFrame):
        raise ValueError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}")
    missing = [c for c in (customer_col, date_col, amount_col) if c not in transactions.columns]
    if missing:
        raise ValueError(f"transactions is missing required column(s) {missing}; has {list(transactions.columns)}")
    if freq not in _FREQ_DAYS:
        raise ValueError(f"freq must be one of {sorted(_FREQ_DAYS)}, got {freq!r}")
    if transactions.empty:
        raise ValueError("transactions is empty")
    if transactions[customer_col].isna().any():
        raise ValueError(f"column {customer_col!r} has missing customer ids")
    if not pd.api.types.is_numeric_dtype(transactions[amount_col]) or pd.api.types.is_bool_dtype(
        transactions[amount_col]
    ):
        raise ValueError(f"column {amount_col!r} must be numeric, got dtype {transactions[amount_col].dtype}")
    if transactions[amount_col].isna().any():
        raise ValueError(f"column {amount_col!r} has missing amounts")

    dates = _to_days(transactions[date_col], what=f"column {date_col!r}")
    if dates.isna().any():
        raise ValueError(f"column {date_col!r} has missing dates")

    obs_end = dates.max() if observation_end is None else _to_day(observation_end, "observation_end")
    days = pd.DataFrame(
        {
            "customer": transactions[customer_col].to_numpy(),
            "day": dates.to_numpy(),
            "amount": transactions[amount_col].to_numpy(dtype=np.float64),
        }
    )
    days = days.loc[days["day"] <= obs_end]
    # One row per (customer, purchase day); same-day purchases are summed.
    days = days.groupby(["customer", "day"], sort=True)["amount"].sum().reset_index()
    unit_days = _FREQ_DAYS[freq]

    if calibration_end is None:
        if days.empty:
            raise ValueError(f"no transactions on or before observation_end={obs_end.date()}")
        out = _rfm(days, obs_end, unit_days)
    else:
        cal_end = _to_day(calibration_end, "calibration_end")
        if cal_end > obs_end:
            raise ValueError(f"calibration_end ({cal_end.date()}) is after observation_end ({obs_end.date()})")
        in_cal = days["day"] <= cal_end
        if not in_cal.any():
            raise ValueError(f"no transactions on or before calibration_end={cal_end.date()}")
        out = _rfm(days.loc[in_cal], cal_end, unit_days).add_suffix("_cal")
        holdout = days.loc[~in_cal].groupby("customer")["amount"].agg(["count", "mean"])
        out["frequency_holdout"] = holdout["count"].reindex(out.index, fill_value=0).astype(float)
        out["monetary_value_holdout"] = holdout["mean"].reindex(out.index, fill_value=0.0).astype(float)
        out["duration_holdout"] = (obs_end - cal_end).days / unit_days

    out.index.name = customer_col
    return out


def _to_days(values: pd.Series, what: str) -> pd.Series:
    """Parse datetime-like values and truncate them to the calendar day.

    Time-zone-aware values keep their own wall-clock day (the zone is dropped).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_datetime64_any_dtype(values):
        raise ValueError(f"{what} is numeric ({values.dtype}); pass datetimes or date strings, not numbers")
    try:
        parsed = pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} could not be parsed as dates: {exc}") from exc
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize()


def _to_day(value: Any, what: str) -> pd.Timestamp:
    """Parse one period end and truncate it to the day."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} could not be parsed as a date: {value!r}") from exc
    if pd.isna(ts):
        raise ValueError(f"{what} is missing")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _rfm(days: pd.DataFrame, period_end: pd.Timestamp, unit_days: float) -> pd.DataFrame:
    """frequency/recency/T/monetary_value from one-row-per-purchase-day data (sorted by customer, day)."""
    grouped = days.groupby("customer", sort=True)
    first = grouped["day"].min()
    out = pd.DataFrame(
        {
            "frequency": (grouped["day"].count() - 1).astype(float),
            # All dates are whole days, so .dt.days is exact.
            "recency": (grouped["day"].max() - first).dt.days / unit_days,
            "T": (period_end - first).dt.days / unit_days,
        }
    )
    is_repeat = days["day"].to_numpy() != first.reindex(days["customer"]).to_numpy()
    repeat_mean = days.loc[is_repeat].groupby("customer")["amount"].mean()
    out["monetary_value"] = repeat_mean.reindex(out.index, fill_value=0.0).astype(float)
    return out


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


def _as_float(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_rfm(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate (x, t_x, T) like ``lifetimes._check_inputs`` and broadcast them."""
    x, t_x, big_t = np.broadcast_arrays(
        _as_float(frequency, "frequency"), _as_float(recency, "recency"), _as_float(T, "T")
    )
    if x.size == 0:
        raise ValueError("frequency, recency and T must not be empty")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must contain non-negative whole numbers (repeat purchase counts)")
    if np.any(t_x < 0):
        raise ValueError("recency must be non-negative")
    if np.any(t_x > big_t):
        raise ValueError("recency must not exceed T (customer age)")
    if np.any(t_x[x == 0] != 0):
        raise ValueError("recency must be 0 for customers with frequency 0")
    return x, t_x, big_t


def _shape_like(result: FloatArray, like: ArrayLike) -> Prediction:
    """Return a float for scalar input, a Series for Series input, else an array."""
    if isinstance(like, pd.Series) and result.shape == like.shape:
        return pd.Series(result, index=like.index)
    if result.ndim == 0:
        return float(result)
    return result


def _fit_log_params(
    neg_ll_and_grad: Callable[[FloatArray], tuple[float, FloatArray]],
    x0: FloatArray,
    tol: float,
    max_iter: int,
    model: str,
) -> tuple[FloatArray, float, int]:
    """Minimise a (value, gradient) objective over log-parameters with L-BFGS-B."""
    res = minimize(
        neg_ll_and_grad,
        x0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "ftol": tol * 1e-3, "gtol": tol},
    )
    # L-BFGS-B may stop on "ABNORMAL_TERMINATION_IN_LNSRCH" at the optimum
    # because of float round-off; accept that if the gradient is ~0.
    if not (res.success or np.max(np.abs(res.jac)) < 1e-4) or not np.all(np.isfinite(res.x)):
        raise ConvergenceError(f"{model} fit did not converge: {res.message} (params={np.exp(res.x)})")
    return res.x, float(res.fun), int(res.nit)


# --------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------


class BetaGeoModel:
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005a).

    Assumptions: while alive, customer *i* buys as a Poisson process with rate
    ``lambda_i ~ Gamma(r, alpha)`` (shape ``r``, rate ``alpha``); after each
    purchase they drop out ("die") with probability ``p_i ~ Beta(a, b)``.

    Parameters
    ----------
    penalizer_coef:
        Optional L2 penalty ``penalizer_coef * sum(params**2)`` added to the
        mean negative log-likelihood, as in ``lifetimes``. Default 0 (pure MLE).

    Attributes
    ----------
    r_, alpha_, a_, b_:
        Fitted parameters (``alpha_`` in the time unit of the data).
    params_:
        ``pd.Series`` with index ``["r", "alpha", "a", "b"]``.
    log_likelihood_:
        Total log-likelihood of the data at the fitted parameters (eq. 6
        summed over customers; excludes the penalty).
    n_iter_:
        Optimiser iterations.
    """

    param_names: Final[tuple[str, ...]] = ("r", "alpha", "a", "b")

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        if penalizer_coef < 0:
            raise ValueError("penalizer_coef must be non-negative")
        self.penalizer_coef = penalizer_coef

    # -- fitting -----------------------------------------------------------

    @staticmethod
    def log_likelihood(params: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        r"""Per-customer BG/NBD log-likelihood, paper eq. (6).

        .. math::

            L(r, \alpha, a, b \mid x, t_x, T) =
              \frac{B(a, b + x)}{B(a, b)}
              \frac{\Gamma(r + x)\, \alpha^r}{\Gamma(r)\, (\alpha + T)^{r + x}}
              + \delta_{x > 0}\,
              \frac{B(a + 1, b + x - 1)}{B(a, b)}
              \frac{\Gamma(r + x)\, \alpha^r}{\Gamma(r)\, (\alpha + t_x)^{r + x}}

        computed in log space as
        ``ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b)
        + logaddexp(A3, A4)`` with ``A3 = -(r+x) ln(α+T)`` and
        ``A4 = ln a - ln(b+x-1) - (r+x) ln(α+t_x)`` (only when ``x > 0``),
        using ``B(a+1, b+x-1) / B(a, b+x) = a / (b+x-1)``.
        """
        r, alpha, a, b = (float(p) for p in np.asarray(params, dtype=np.float64))
        x, t_x, big_t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        return _bgnbd_ll(r, alpha, a, b, x, t_x, big_t)

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        initial_params: ArrayLike | None = None,
        tol: float = 1e-7,
        max_iter: int = 1000,
    ) -> BetaGeoModel:
        """Fit ``(r, alpha, a, b)`` by maximum likelihood (paper eq. 6).

        The mean negative log-likelihood is minimised over
        ``log(r), log(alpha), log(a), log(b)`` with L-BFGS-B and its analytic
        gradient (see :class:`_BgnbdObjective`). As in ``lifetimes``, time is
        internally rescaled so that ``max(T) == 1`` (only ``alpha`` depends on
        the time unit; it is rescaled back afterwards).

        Parameters
        ----------
        frequency, recency, T:
            Per-customer ``x``, ``t_x``, ``T`` (see module docstring).
        initial_params:
            Optional starting ``(r, alpha, a, b)`` in the data's time unit.
            Default: all ones on the rescaled time axis.
        tol:
            Gradient tolerance of the optimiser.
        max_iter:
            Maximum optimiser iterations.

        Returns
        -------
        BetaGeoModel
            ``self``, with ``r_``, ``alpha_``, ``a_``, ``b_``, ``params_`` set.

        Raises
        ------
        ValueError
            On invalid inputs (negative or fractional frequency, recency > T,
            recency != 0 when frequency == 0, NaNs, empty input).
        ConvergenceError
            If the optimiser fails.
        """
        x, t_x, big_t = (v.ravel() for v in _check_rfm(frequency, recency, T))
        if np.max(big_t) <= 0:
            raise ValueError("T must have at least one positive value")
        scale = 1.0 / float(np.max(big_t))
        t_x_s, big_t_s = t_x * scale, big_t * scale

        if initial_params is None:
            x0 = np.zeros(4)
        else:
            init = np.asarray(initial_params, dtype=np.float64).copy()
            if init.shape != (4,) or np.any(init <= 0):
                raise ValueError("initial_params must be 4 positive numbers (r, alpha, a, b)")
            init[1] *= scale
            x0 = np.log(init)

        objective = _BgnbdObjective(x, t_x_s, big_t_s, self.penalizer_coef)
        log_params, value, n_iter = _fit_log_params(objective, x0, tol, max_iter, "BG/NBD")
        params = np.exp(log_params)
        # Undo the time rescaling: alpha scales with time, and each of the x
        # event-time densities in eq. (6) picks up a factor 1/scale, so
        # ln L(original time) = ln L(scaled time) + ln(scale) * sum(x).
        total_ll_scaled = -(value - self.penalizer_coef * float(np.sum(params**2))) * x.size
        r, alpha, a, b = params
        self.set_params(float(r), float(alpha / scale), float(a), float(b))
        self.log_likelihood_ = total_ll_scaled + float(np.log(scale) * x.sum())
        self.n_iter_ = n_iter
        return self

    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise RuntimeError("BetaGeoModel is not fitted; call fit() or set_params() first")
        return self.r_, self.alpha_, self.a_, self.b_

    def set_params(self, r: float, alpha: float, a: float, b: float) -> BetaGeoModel:
        """Pin the parameters without fitting (e.g. published estimates)."""
        if min(r, alpha, a, b) <= 0:
            raise ValueError("BG/NBD parameters must all be positive")
        self.r_, self.alpha_, self.a_, self.b_ = float(r), float(alpha), float(a), float(b)
        self.params_ = pd.Series([self.r_, self.alpha_, self.a_, self.b_], index=list(self.param_names))
        return self

    # -- predictions -------------------------------------------------------

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> Prediction:
        r"""Expected purchases in ``(0, t]`` for a randomly chosen new customer, eq. (7).

        .. math::

            E[X(t) \mid r, \alpha, a, b] = \frac{a + b - 1}{a - 1}
              \left[1 - \left(\frac{\alpha}{\alpha + t}\right)^r
              {}_2F_1\!\left(r, b; a + b - 1; \frac{t}{\alpha + t}\right)\right]

        (``t`` in the model's time unit; the expression is singular at
        ``a == 1`` but valid for ``a < 1`` by analytic continuation.)
        """
        r, alpha, a, b = self._params()
        tt = _as_float(t, "t")
        if np.any(tt < 0):
            raise ValueError("t must be non-negative")
        z = tt / (alpha + tt)
        log_h = _log_hyp2f1(r, b, a + b - 1.0, z)
        result = (a + b - 1.0) / (a - 1.0) * -np.expm1(r * np.log(alpha / (alpha + tt)) + log_h)
        return _shape_like(np.asarray(result, dtype=np.float64), t)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Prediction:
        r"""Expected purchases in ``(T, T + t]`` given the customer's history, eq. (10).

        .. math::

            E[Y(t) \mid X = x, t_x, T, r, \alpha, a, b] =
              \frac{\dfrac{a + b + x - 1}{a - 1}
                \left[1 - \left(\dfrac{\alpha + T}{\alpha + T + t}\right)^{r + x}
                {}_2F_1\!\left(r + x, b + x; a + b + x - 1;
                \dfrac{t}{\alpha + T + t}\right)\right]}
              {1 + \delta_{x > 0}\, \dfrac{a}{b + x - 1}
                \left(\dfrac{\alpha + T}{\alpha + t_x}\right)^{r + x}}

        The hypergeometric term is evaluated in log space, switching to the
        Euler transformation when ``hyp2f1`` overflows (as ``lifetimes`` does).
        """
        r, alpha, a, b = self._params()
        x, t_x, big_t = _check_rfm(frequency, recency, T)
        tt = _as_float(t, "t")
        if np.any(tt < 0):
            raise ValueError("t must be non-negative")
        z = tt / (alpha + big_t + tt)
        log_h = _log_hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        numerator = (
            (a + b + x - 1.0) / (a - 1.0) * -np.expm1((r + x) * np.log((alpha + big_t) / (alpha + big_t + tt)) + log_h)
        )
        result = numerator * self._p_alive(x, t_x, big_t)
        return _shape_like(np.asarray(result, dtype=np.float64), frequency)

    #: ``lifetimes`` alias.
    predict = conditional_expected_number_of_purchases_up_to_time

    def conditional_probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Prediction:
        r"""Probability the customer is still alive at ``T``.

        From Fader, Hardie & Lee's note "Computing P(alive) Using the BG/NBD
        Model" (Dec 2008, http://brucehardie.com/notes/021/): Bayes' theorem
        applied to the two terms of eq. (6), the first being "alive at T":

        .. math::

            P(\text{alive} \mid x, t_x, T, r, \alpha, a, b) =
              \frac{1}{1 + \delta_{x > 0}\, \dfrac{a}{b + x - 1}
              \left(\dfrac{\alpha + T}{\alpha + t_x}\right)^{r + x}}

        (customers with no repeat purchase are alive with probability 1 under
        BG/NBD, since drop-out can only happen right after a purchase).
        """
        self._params()
        x, t_x, big_t = _check_rfm(frequency, recency, T)
        return _shape_like(self._p_alive(x, t_x, big_t), frequency)

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._params()
        has_repeat = x > 0
        # log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x); only used where x > 0.
        log_odds = (
            np.log(a)
            - np.log(np.where(has_repeat, b + x - 1.0, 1.0))
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
        # 1 / (1 + exp(log_odds)) written to avoid overflow.
        return np.where(has_repeat, np.exp(-np.logaddexp(0.0, log_odds)), 1.0)


def _log_hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    r"""``log 2F1(a, b; c; z)`` for ``0 <= z < 1``.

    Falls back to Euler's transformation
    ``2F1(a, b; c; z) = (1 - z)^{c - a - b} 2F1(c - a, c - b; c; z)`` where the
    direct series overflows (large ``x``).
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c, z)))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        direct = np.log(hyp2f1(a, b, c, z))
        bad = ~np.isfinite(direct)
        if np.any(bad):
            euler = np.log(hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log1p(-z)
            direct = np.where(bad, euler, direct)
    return direct


def _bgnbd_ll(
    r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """Per-customer BG/NBD log-likelihood, eq. (6) in log space (see :meth:`BetaGeoModel.log_likelihood`)."""
    has_repeat = x > 0
    rx = r + x
    a3 = -rx * np.log(alpha + big_t)
    b_x1 = b + np.maximum(x, 1.0) - 1.0  # b + x - 1 where x > 0 (unused otherwise)
    a4 = np.where(has_repeat, np.log(a) - np.log(b_x1) - rx * np.log(alpha + t_x), -np.inf)
    return gammaln(rx) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b) + np.logaddexp(a3, a4)


class _BgnbdObjective:
    """Mean negative BG/NBD log-likelihood and its gradient over log-parameters.

    Eq. (6) splits into a part that depends on the customer only through the
    integer ``x`` and a per-customer mixture term::

        ln L_i = [ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x) - ln B(a, b)]   (x only)
                 + logaddexp(A3_i, A4_i)                                      (x, t_x, T)

        A3 = -(r+x) ln(α+T),   A4 = ln a - ln(b+x-1) - (r+x) ln(α+t_x)  (x > 0 only)

    The special functions are evaluated once per *distinct* ``x`` and weighted
    by its count, so an evaluation costs a few logs/exps per customer. With
    ``w4 = exp(A4 - logaddexp(A3, A4))`` (posterior P(dead), 0 when x = 0) and
    ``w3 = 1 - w4``, the gradient is

    * d/dr = ψ(r+x) - ψ(r) + ln α - w3 ln(α+T) - w4 ln(α+t_x)
    * d/dα = r/α - (r+x) [w3 / (α+T) + w4 / (α+t_x)]
    * d/da = ψ(a+b) - ψ(a+b+x) + w4 / a
    * d/db = ψ(b+x) - ψ(b) + ψ(a+b) - ψ(a+b+x) - w4 / (b+x-1)

    and d/d ln θ = θ d/dθ. An optional L2 penalty ``c Σ θ²`` is added.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray, penalizer_coef: float = 0.0) -> None:
        self.n = x.size
        self.penalizer_coef = penalizer_coef
        x_int = x.astype(np.int64)
        if x_int.max() <= 4 * x.size + 1024:  # bincount is O(n); np.unique sorts
            all_counts = np.bincount(x_int)
            present = all_counts > 0
            self.x_values = np.flatnonzero(present).astype(np.float64)
            counts = all_counts[present]
            x_index = (np.cumsum(present) - 1)[x_int]
        else:
            self.x_values, x_index, counts = np.unique(x, return_inverse=True, return_counts=True)
        self.x_counts = counts.astype(np.float64)
        repeat = x > 0
        # Customers without repeat purchases only contribute A3 = -r ln(α+T).
        self.t_zero = big_t[~repeat]
        self.t_rep, self.tx_rep, self.x_rep = big_t[repeat], t_x[repeat], x[repeat]
        self.rep_index = x_index[repeat]  # position of each repeater's x in x_values

    def __call__(self, log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        r, alpha, a, b = params
        xv, cnt, n = self.x_values, self.x_counts, self.n

        # x-only part, per distinct x.
        ll_x = cnt @ (gammaln(r + xv) + betaln(a, b + xv)) + n * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
        psi_abx = cnt @ digamma(a + b + xv)
        g_r = cnt @ digamma(r + xv) + n * (np.log(alpha) - digamma(r))
        g_a = n * digamma(a + b) - psi_abx
        g_b = cnt @ digamma(b + xv) + n * (digamma(a + b) - digamma(b)) - psi_abx
        g_alpha = n * r / alpha

        # Non-repeaters: logaddexp(A3, -inf) = A3 = -r ln(α+T).
        log_t0 = np.log(alpha + self.t_zero)
        ll_mix = -r * log_t0.sum()
        g_r -= log_t0.sum()
        g_alpha -= r * np.sum(1.0 / (alpha + self.t_zero))

        # Repeaters: two-term mixture.
        rx = r + self.x_rep
        log_t = np.log(alpha + self.t_rep)
        log_tx = np.log(alpha + self.tx_rep)
        log_bx1 = np.log(b + self.x_values - 1.0, where=self.x_values > 0, out=np.zeros_like(self.x_values))
        a3 = -rx * log_t
        a4 = np.log(a) - log_bx1[self.rep_index] - rx * log_tx
        log_mix = np.logaddexp(a3, a4)
        w4 = np.exp(a4 - log_mix)
        w3 = 1.0 - w4
        ll_mix += log_mix.sum()
        g_r -= np.sum(w3 * log_t + w4 * log_tx)
        g_alpha -= np.sum(rx * (w3 / (alpha + self.t_rep) + w4 / (alpha + self.tx_rep)))
        g_a += w4.sum() / a
        inv_bx1 = np.divide(1.0, b + self.x_values - 1.0, where=self.x_values > 0, out=np.zeros_like(self.x_values))
        g_b -= np.sum(w4 * inv_bx1[self.rep_index])

        grad = np.array([g_r, g_alpha, g_a, g_b])
        c = self.penalizer_coef
        value = -(ll_x + ll_mix) / n + c * float(np.sum(params**2))
        return float(value), -params * grad / n + 2.0 * c * params**2


# --------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------


class GammaGammaModel:
    """Gamma-Gamma model of average transaction value (Fader, Hardie & Lee 2005b).

    Assumptions (Fader & Hardie 2013 note): a customer's transaction values
    ``z_ij ~ Gamma(p, nu_i)`` (shape ``p``, rate ``nu_i``), with
    ``nu_i ~ Gamma(q, gamma)`` across customers; so a customer's mean
    transaction value is ``p / nu_i`` and the population mean is
    ``p * gamma / (q - 1)``. Spend is assumed independent of the purchase
    process. Fit only on customers with ``frequency > 0``, where
    ``monetary_value`` is the mean of their ``x`` repeat transactions.

    Parameters
    ----------
    penalizer_coef:
        Optional L2 penalty on ``(p, q, v)`` added to the mean negative
        log-likelihood, as in ``lifetimes``. Default 0.

    Attributes
    ----------
    p_, q_, v_:
        Fitted parameters; ``v_`` is the paper's ``gamma`` (scale of spend).
    params_:
        ``pd.Series`` with index ``["p", "q", "v"]``.
    log_likelihood_:
        Total log-likelihood at the fit (customers with ``frequency > 0``).
    n_iter_:
        Optimiser iterations.
    """

    param_names: Final[tuple[str, ...]] = ("p", "q", "v")

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        if penalizer_coef < 0:
            raise ValueError("penalizer_coef must be non-negative")
        self.penalizer_coef = penalizer_coef

    @staticmethod
    def log_likelihood(params: ArrayLike, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        r"""Per-customer log-density of the mean spend ``m_x`` (Fader & Hardie 2013 note).

        .. math::

            f(\bar z \mid p, q, \gamma; x) =
              \frac{\Gamma(px + q)}{\Gamma(px)\, \Gamma(q)}
              \frac{\gamma^q\, \bar z^{px - 1}\, x^{px}}{(\gamma + x \bar z)^{px + q}}

        with ``z̄ = monetary_value`` and ``x = frequency`` (``x > 0``).
        """
        p, q, v = (float(t) for t in np.asarray(params, dtype=np.float64))
        x, m = (np.asarray(t, dtype=np.float64) for t in (frequency, monetary_value))
        return _gg_ll_terms(p, q, v, x, m)[0]

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        *,
        initial_params: ArrayLike | None = None,
        tol: float = 1e-7,
        max_iter: int = 1000,
    ) -> GammaGammaModel:
        """Fit ``(p, q, v)`` by maximum likelihood on customers with ``frequency > 0``.

        Customers with ``frequency == 0`` are dropped (their monetary value is
        undefined). The mean negative log-likelihood is minimised over log
        parameters with L-BFGS-B and the analytic gradient; spend is rescaled
        internally by its mean (only ``v`` depends on the currency unit).

        Raises
        ------
        ValueError
            If no customer has ``frequency > 0``, frequencies are negative or
            fractional, or a repeat customer's ``monetary_value`` is not > 0.
        ConvergenceError
            If the optimiser fails.
        """
        x_all, m_all = np.broadcast_arrays(
            _as_float(frequency, "frequency"), _as_float(monetary_value, "monetary_value")
        )
        x_all, m_all = x_all.ravel(), m_all.ravel()
        if np.any(x_all < 0) or np.any(x_all != np.round(x_all)):
            raise ValueError("frequency must contain non-negative whole numbers (repeat purchase counts)")
        keep = x_all > 0
        if not keep.any():
            raise ValueError("Gamma-Gamma needs at least one customer with frequency > 0")
        x, m = x_all[keep], m_all[keep]
        if np.any(m <= 0):
            raise ValueError("monetary_value must be > 0 for customers with frequency > 0")
        scale = 1.0 / float(np.mean(m))
        m_s = m * scale
        n = x.size
        penalty = self.penalizer_coef

        if initial_params is None:
            x0 = np.zeros(3)
        else:
            init = np.asarray(initial_params, dtype=np.float64).copy()
            if init.shape != (3,) or np.any(init <= 0):
                raise ValueError("initial_params must be 3 positive numbers (p, q, v)")
            init[2] *= scale
            x0 = np.log(init)

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(log_params)
            ll, grad = _gg_ll_terms(params[0], params[1], params[2], x, m_s, with_grad=True)
            value = -float(ll.sum()) / n + penalty * float(np.sum(params**2))
            g = -params * grad.sum(axis=1) / n + 2.0 * penalty * params**2
            return value, g

        log_params, _, n_iter = _fit_log_params(objective, x0, tol, max_iter, "Gamma-Gamma")
        p, q, v = np.exp(log_params)
        v /= scale
        self.set_params(float(p), float(q), float(v))
        self.log_likelihood_ = float(self.log_likelihood(self.params_.to_numpy(), x, m).sum())
        self.n_iter_ = n_iter
        return self

    def set_params(self, p: float, q: float, v: float) -> GammaGammaModel:
        """Pin the parameters without fitting (e.g. published estimates)."""
        if min(p, q, v) <= 0:
            raise ValueError("Gamma-Gamma parameters must all be positive")
        self.p_, self.q_, self.v_ = float(p), float(q), float(v)
        self.params_ = pd.Series([self.p_, self.q_, self.v_], index=list(self.param_names))
        return self

    def _params(self) -> tuple[float, float, float]:
        if not hasattr(self, "params_"):
            raise RuntimeError("GammaGammaModel is not fitted; call fit() or set_params() first")
        return self.p_, self.q_, self.v_

    def conditional_expected_average_profit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Prediction:
        r"""Expected mean transaction value given ``x`` and ``m_x`` (Fader & Hardie 2013 note).

        .. math::

            E(M \mid p, q, \gamma, \bar z, x) = \frac{p(\gamma + x \bar z)}{px + q - 1}
              = \left(\frac{q - 1}{px + q - 1}\right) \frac{p\gamma}{q - 1}
              + \left(\frac{px}{px + q - 1}\right) \bar z

        a weighted mean of the population mean ``pγ/(q-1)`` and the customer's
        observed mean ``z̄``; customers with ``x = 0`` get the population mean.
        Requires ``q > 1`` for the population mean to exist.
        """
        p, q, v = self._params()
        x, m = np.broadcast_arrays(_as_float(frequency, "frequency"), _as_float(monetary_value, "monetary_value"))
        if np.any(x < 0):
            raise ValueError("frequency must be non-negative")
        result = p * (v + x * m) / (p * x + q - 1.0)
        return _shape_like(np.asarray(result, dtype=np.float64), frequency)

    def customer_lifetime_value(
        self,
        bgnbd_model: BetaGeoModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time_months: int = 12,
        discount_rate: float = 0.01,
        freq_days: float = 7.0,
        *,
        days_per_month: float = DAYS_PER_MONTH,
    ) -> Prediction:
        r"""Discounted expected value of each customer's next ``time_months`` months.

        Same scheme as ``lifetimes``' ``customer_lifetime_value``: with
        ``k = days_per_month / freq_days`` model time units per month,

        .. math::

            \mathrm{CLV} = \sum_{i=1}^{M} E(M \mid x, \bar z)\,
              \frac{E[Y(ik) \mid x, t_x, T] - E[Y((i-1)k) \mid x, t_x, T]}{(1 + d)^i}

        where ``E[Y(.)]`` is BG/NBD eq. (10), ``E(M | .)`` is
        :meth:`conditional_expected_average_profit` and ``d`` is the monthly
        discount rate.

        Parameters
        ----------
        bgnbd_model:
            A fitted (or pinned) :class:`BetaGeoModel` in the same time unit as
            ``recency``/``T``.
        frequency, recency, T, monetary_value:
            Per-customer RFM-M summary (see :func:`summary_from_transactions`).
        time_months:
            Horizon in months (``M``).
        discount_rate:
            Monthly discount rate ``d``.
        freq_days:
            Length of the model's time unit in days (7 for weeks).
        days_per_month:
            Month length in days; default 365.25/12. ``lifetimes`` uses 30
            (daily models) or 4.345 weeks (weekly models).
        """
        if time_months < 1 or int(time_months) != time_months:
            raise ValueError("time_months must be a positive whole number")
        if discount_rate <= -1:
            raise ValueError("discount_rate must be > -1")
        if freq_days <= 0 or days_per_month <= 0:
            raise ValueError("freq_days and days_per_month must be positive")
        profit = np.asarray(self.conditional_expected_average_profit(frequency, monetary_value), dtype=np.float64)
        k = days_per_month / freq_days
        months = np.arange(int(time_months) + 1, dtype=np.float64)
        horizons = (months * k).reshape((-1,) + (1,) * profit.ndim)  # months on a leading axis
        cumulative = np.asarray(
            bgnbd_model.conditional_expected_number_of_purchases_up_to_time(
                horizons, np.asarray(frequency), np.asarray(recency), np.asarray(T)
            ),
            dtype=np.float64,
        )
        per_month = np.diff(cumulative, axis=0)
        discount = (1.0 + discount_rate) ** -months[1:]
        clv = profit * np.tensordot(discount, per_month, axes=(0, 0))
        return _shape_like(np.asarray(clv, dtype=np.float64), frequency)


def _gg_ll_terms(
    p: float, q: float, v: float, x: FloatArray, m: FloatArray, *, with_grad: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Per-customer Gamma-Gamma log-likelihood and, optionally, its gradient wrt (p, q, v).

    * d/dp = x [psi(px+q) - psi(px) + ln x + ln z̄ - ln(v + x z̄)]
    * d/dq = psi(px+q) - psi(q) + ln v - ln(v + x z̄)
    * d/dv = q / v - (px+q) / (v + x z̄)
    """
    px = p * x
    log_x, log_m = np.log(x), np.log(m)
    log_vxm = np.log(v + x * m)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * log_m
        + px * log_x
        - (px + q) * log_vxm
    )
    if not with_grad:
        return ll, np.empty((3, 0))
    psi_pxq = digamma(px + q)
    d_p = x * (psi_pxq - digamma(px) + log_x + log_m - log_vxm)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_vxm
    d_v = q / v - (px + q) / (v + x * m)
    return ll, np.stack([d_p, d_q, d_v])
