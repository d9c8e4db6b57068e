"""Tests for analytics.purchase_clv (BG/NBD + Gamma-Gamma on a purchase log).

Reference data: the CDNOW sample of Fader & Hardie as shipped in lifetimes
0.11.3 (see tests/data/cdnow/README.md). Published estimates:

* BG/NBD (Fader, Hardie & Lee 2005a, 2,357 customers, 39-week calibration,
  weeks): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
* Gamma-Gamma (Fader & Hardie 2013 note, 946 customers with x > 0):
  p = 6.25, q = 3.74, gamma = 15.44.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.optimize import approx_fprime
from scipy.special import betaln, gammaln, hyp2f1

from analytics.purchase_clv import (
    DAYS_PER_MONTH,
    BetaGeoModel,
    GammaGammaModel,
    _bgnbd_ll,
    _BgnbdObjective,
    _gg_ll_terms,
    summary_from_transactions,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "cdnow"
BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG_PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}
CALIBRATION_END = "1997-09-30"  # 39 weeks from 1997-01-01 (T = 272 days = 38.86 weeks for day-1 buyers)


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    """Fader & Hardie's calibration summary: ID, x, t_x, T (weeks), zbar (mean repeat spend)."""
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", index_col="ID")


@pytest.fixture(scope="module")
def cdnow_transactions() -> pd.DataFrame:
    """Raw CDNOW sample: master id, sample id (= ID above), date, CDs bought, dollar value."""
    tx = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "n_cds", "amount"],
        dtype={"date": str},
    )
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    return tx


@pytest.fixture()
def bgnbd_pinned() -> BetaGeoModel:
    return BetaGeoModel().set_params(**BGNBD_PUBLISHED)


@pytest.fixture()
def gg_pinned() -> GammaGammaModel:
    return GammaGammaModel().set_params(**GG_PUBLISHED)


# --------------------------------------------------------------------------
# Reproducing the published CDNOW estimates
# --------------------------------------------------------------------------


def test_bgnbd_fit_reproduces_published_cdnow_estimates(cdnow_summary: pd.DataFrame) -> None:
    assert len(cdnow_summary) == 2357
    model = BetaGeoModel().fit(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    for name, published in BGNBD_PUBLISHED.items():
        assert getattr(model, f"{name}_") == pytest.approx(published, rel=0.01), name
        assert model.params_[name] == getattr(model, f"{name}_")
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_fit_reproduces_published_cdnow_estimates(cdnow_summary: pd.DataFrame) -> None:
    repeaters = cdnow_summary[cdnow_summary["x"] > 0]
    assert len(repeaters) == 946
    model = GammaGammaModel().fit(repeaters["x"], repeaters["zbar"])
    for name, published in GG_PUBLISHED.items():
        assert getattr(model, f"{name}_") == pytest.approx(published, rel=0.01), name
    # Customers with x == 0 are ignored by fit(), so passing everyone gives the same answer.
    everyone = GammaGammaModel().fit(cdnow_summary["x"], cdnow_summary["zbar"])
    np.testing.assert_allclose(everyone.params_.to_numpy(), model.params_.to_numpy(), rtol=1e-6)


def test_bgnbd_log_likelihood_matches_eq6_written_out(cdnow_summary: pd.DataFrame) -> None:
    """Eq. (6) summed with plain math at the published parameters gives the published LL."""
    r, alpha, a, b = BGNBD_PUBLISHED.values()
    total = 0.0
    for x, t_x, big_t in cdnow_summary[["x", "t_x", "T"]].itertuples(index=False):
        common = math.exp(gammaln(r + x) - gammaln(r) + r * math.log(alpha))
        alive = math.exp(betaln(a, b + x) - betaln(a, b)) * common / (alpha + big_t) ** (r + x)
        dead = 0.0
        if x > 0:
            dead = math.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * common / (alpha + t_x) ** (r + x)
        total += math.log(alive + dead)
    ours = BetaGeoModel.log_likelihood(
        list(BGNBD_PUBLISHED.values()), cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"]
    )
    assert ours.sum() == pytest.approx(total, rel=1e-10)
    assert total == pytest.approx(-9582.4, abs=0.1)


@pytest.mark.parametrize("max_x", [10, 50_000])  # small x -> bincount path, huge x -> np.unique path
def test_bgnbd_objective_value_and_gradient(max_x: int) -> None:
    """The aggregated fitting objective equals -mean(eq. 6) and its gradient matches finite differences."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 10, 60).astype(float)
    x[0] = max_x
    big_t = rng.uniform(1, 5, 60)
    t_x = np.where(x > 0, rng.uniform(0, 1, 60) * big_t, 0.0)
    log_params = np.log([0.5, 2.0, 0.8, 3.0])
    for penalty in (0.0, 0.1):
        objective = _BgnbdObjective(x, t_x, big_t, penalty)
        value, grad = objective(log_params)
        expected = -_bgnbd_ll(*np.exp(log_params), x, t_x, big_t).mean() + penalty * np.sum(np.exp(log_params) ** 2)
        assert value == pytest.approx(expected, rel=1e-12)
        numeric = approx_fprime(log_params, lambda lp, f=objective: f(lp)[0], 1e-7)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_gamma_gamma_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(11)
    x, m = rng.integers(1, 10, 40).astype(float), rng.gamma(2.0, 10.0, 40)
    params = np.array([3.0, 2.0, 10.0])
    analytic = _gg_ll_terms(*params, x, m, with_grad=True)[1].sum(axis=1)
    numeric = approx_fprime(params, lambda p: _gg_ll_terms(*p, x, m)[0].sum(), 1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


# --------------------------------------------------------------------------
# summary_from_transactions
# --------------------------------------------------------------------------


def test_summary_from_raw_cdnow_matches_shipped_calibration_summary(
    cdnow_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    ours = summary_from_transactions(
        cdnow_transactions,
        "customer_id",
        "date",
        "amount",
        calibration_end=CALIBRATION_END,
        observation_end="1998-06-30",
    )
    assert list(ours.index) == list(cdnow_summary.index)
    np.testing.assert_array_equal(ours["frequency_cal"], cdnow_summary["x"])
    # The shipped file is rounded to 2 decimals.
    np.testing.assert_allclose(ours["recency_cal"], cdnow_summary["t_x"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(ours["T_cal"], cdnow_summary["T"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(ours["monetary_value_cal"], cdnow_summary["zbar"], atol=0.005 + 1e-9)
    assert (ours["duration_holdout"] == 39.0).all()  # 1997-10-01 .. 1998-06-30 = 273 days


def _tiny_log() -> pd.DataFrame:
    """Three customers, worked out by hand in the tests below.

    * "A": 2024-01-01 $10 and $5 (same day -> one $15 purchase), 01-15 $20,
      01-29 $25 and $15 (same day -> one $40 purchase).
    * "B": a single purchase 2024-02-12 $99.
    * "C": 2024-01-08 $7 and $3 (same day), 02-26 $12, 03-04 $50 (after the study end).
    Rows are shuffled and dates are date-time strings (various times of day) to
    exercise sorting, parsing and truncation to the day.
    """
    return pd.DataFrame(
        {
            "cust": ["C", "A", "B", "A", "C", "A", "C", "A", "C", "A"],
            "when": [
                "2024-02-26 17:45",
                "2024-01-15 08:00",
                "2024-02-12 12:00",
                "2024-01-01 10:15",
                "2024-01-08 09:30",
                "2024-01-29 23:59",
                "2024-03-04 00:00",
                "2024-01-01 18:00",
                "2024-01-08 00:01",
                "2024-01-29 08:00",
            ],
            "value": [12.0, 20.0, 99.0, 10.0, 3.0, 25.0, 50.0, 5.0, 7.0, 15.0],
        }
    )


def test_summary_tiny_hand_computed_weeks() -> None:
    out = summary_from_transactions(_tiny_log(), "cust", "when", "value", observation_end="2024-02-26")
    expected = pd.DataFrame(
        {
            # A: purchase days 01-01, 01-15, 01-29 -> 2 repeats, last-first = 28 d, end-first = 56 d,
            #    repeat spend (20 + 40) / 2.
            # B: one purchase day -> 0 repeats, T = 02-26 - 02-12 = 14 d, monetary 0.
            # C: purchase days 01-08, 02-26 (03-04 is after the end) -> 1 repeat, 49 d, 49 d, $12.
            "frequency": [2.0, 0.0, 1.0],
            "recency": [28 / 7, 0.0, 49 / 7],
            "T": [56 / 7, 14 / 7, 49 / 7],
            "monetary_value": [30.0, 0.0, 12.0],
        },
        index=pd.Index(["A", "B", "C"], name="cust"),
    )
    pd.testing.assert_frame_equal(out, expected)

    in_days = summary_from_transactions(_tiny_log(), "cust", "when", "value", observation_end="2024-02-26", freq="D")
    np.testing.assert_allclose(in_days[["recency", "T"]].to_numpy(), expected[["recency", "T"]].to_numpy() * 7)


def test_summary_accepts_datetime_and_tz_aware_columns() -> None:
    log = _tiny_log()
    expected = summary_from_transactions(log, "cust", "when", "value", observation_end="2024-02-26")
    as_datetime = log.assign(when=pd.to_datetime(log["when"]))
    pd.testing.assert_frame_equal(
        summary_from_transactions(as_datetime, "cust", "when", "value", observation_end="2024-02-26"), expected
    )
    # Wall-clock days in the data's own zone are kept.
    as_tz = as_datetime.assign(when=as_datetime["when"].dt.tz_localize("America/New_York"))
    pd.testing.assert_frame_equal(
        summary_from_transactions(as_tz, "cust", "when", "value", observation_end="2024-02-26"), expected
    )


def test_summary_tiny_default_observation_end_is_last_transaction() -> None:
    out = summary_from_transactions(_tiny_log(), "cust", "when", "value")
    # Last transaction 2024-03-04 -> C now has purchase days 01-08, 02-26, 03-04.
    assert out.loc["C", "frequency"] == 2.0
    assert out.loc["C", "recency"] == pytest.approx(56 / 7)
    assert out.loc["C", "monetary_value"] == pytest.approx((12 + 50) / 2)
    assert out.loc["A", "T"] == pytest.approx(63 / 7)


def test_summary_tiny_calibration_holdout_split() -> None:
    out = summary_from_transactions(
        _tiny_log(), "cust", "when", "value", calibration_end="2024-01-21", observation_end="2024-02-26"
    )
    # B's first purchase is after calibration_end, so B is not in the calibration cohort.
    assert list(out.index) == ["A", "C"]
    a, c = out.loc["A"], out.loc["C"]
    # A: calibration days 01-01, 01-15 -> x=1, t_x=14 d, T=20 d, m=20; holdout 01-29 ($40).
    assert (a["frequency_cal"], a["recency_cal"], a["T_cal"], a["monetary_value_cal"]) == pytest.approx(
        (1.0, 2.0, 20 / 7, 20.0)
    )
    assert (a["frequency_holdout"], a["monetary_value_holdout"]) == (1.0, 40.0)
    # C: calibration day 01-08 only -> x=0, t_x=0, T=13 d, m=0; holdout 02-26 ($12).
    assert (c["frequency_cal"], c["recency_cal"], c["T_cal"], c["monetary_value_cal"]) == pytest.approx(
        (0.0, 0.0, 13 / 7, 0.0)
    )
    assert (c["frequency_holdout"], c["monetary_value_holdout"]) == (1.0, 12.0)
    assert (out["duration_holdout"] == 36 / 7).all()


def _naive_summary(log: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Plain-Python reference: per customer, {day: summed amount} up to ``end``."""
    per_day: dict[str, dict[pd.Timestamp, float]] = {}
    for cust, when, value in log.itertuples(index=False):
        day = pd.Timestamp(when).normalize()
        if day <= end:
            per_day.setdefault(cust, {}).setdefault(day, 0.0)
            per_day[cust][day] += value
    rows = {}
    for cust, days in sorted(per_day.items()):
        ordered = sorted(days)
        repeats = [days[d] for d in ordered[1:]]
        rows[cust] = {
            "frequency": float(len(ordered) - 1),
            "recency": (ordered[-1] - ordered[0]).days / 7,
            "T": (end - ordered[0]).days / 7,
            "monetary_value": sum(repeats) / len(repeats) if repeats else 0.0,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["u1", "u2", "u3", "u4"]),
            st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2024, 3, 31)),
            st.integers(min_value=1, max_value=10_000).map(lambda cents: cents / 100),
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(min_value=0, max_value=40),
)
def test_summary_matches_naive_reference(rows: list[tuple[str, datetime, float]], end_offset_days: int) -> None:
    log = pd.DataFrame(rows, columns=["cust", "when", "value"])
    end = pd.Timestamp("2024-02-20") + pd.Timedelta(days=end_offset_days)
    expected = _naive_summary(log, end)
    if expected.empty:
        with pytest.raises(ValueError, match="no transactions"):
            summary_from_transactions(log, "cust", "when", "value", observation_end=end)
        return
    out = summary_from_transactions(log, "cust", "when", "value", observation_end=end)
    pd.testing.assert_frame_equal(out, expected, check_names=False, check_exact=False, rtol=1e-12)
    assert (out["recency"] <= out["T"]).all() and (out["recency"] >= 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customer_col": "nope"}, "missing required column"),
        ({"amount_col": "when"}, "must be numeric"),
        ({"freq": "M"}, "freq must be one of"),
        ({"calibration_end": "2024-03-01", "observation_end": "2024-02-01"}, "is after observation_end"),
        ({"calibration_end": "2023-01-01"}, "no transactions on or before calibration_end"),
        ({"observation_end": "2023-01-01"}, "no transactions on or before observation_end"),
        ({"observation_end": "not a date"}, "observation_end could not be parsed"),
    ],
)
def test_summary_rejects_bad_arguments(kwargs: dict[str, str], message: str) -> None:
    args = {"customer_col": "cust", "date_col": "when", "amount_col": "value"} | kwargs
    with pytest.raises(ValueError, match=message):
        summary_from_transactions(_tiny_log(), **args)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda df: df.iloc[0:0], "transactions is empty"),
        (lambda df: df.assign(when=20240101), "numeric"),
        (lambda df: df.assign(when="yesterday-ish"), "could not be parsed as dates"),
        (lambda df: df.assign(when=[None] + ["2024-01-01"] * 9), "missing dates"),
        (lambda df: df.assign(cust=[None] + ["A"] * 9), "missing customer ids"),
        (lambda df: df.assign(value=[np.nan] + [1.0] * 9), "missing amounts"),
    ],
)
@pytest.mark.filterwarnings("ignore:Could not infer format:UserWarning")
def test_summary_rejects_bad_data(mutate, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summary_from_transactions(mutate(_tiny_log()), "cust", "when", "value")


def test_summary_rejects_non_dataframe() -> None:
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        summary_from_transactions([("A", "2024-01-01", 1.0)], "cust", "when", "value")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Predictions with pinned (published) parameters, checked against formulas
# written out independently here.
# --------------------------------------------------------------------------


def _eq10(t: float, x: float, t_x: float, big_t: float, r: float, alpha: float, a: float, b: float) -> float:
    """BG/NBD eq. (10), scalar, straight from the paper with scipy.special.hyp2f1."""
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp)
    den = 1 + (a / (b + x - 1)) * ((alpha + big_t) / (alpha + t_x)) ** (r + x) if x > 0 else 1.0
    return num / den


CUSTOMERS = [(0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (7, 29.43, 35.0), (29, 38.43, 38.86)]


def test_conditional_expected_purchases_matches_eq10(bgnbd_pinned: BetaGeoModel) -> None:
    x, t_x, big_t = (np.array(col, dtype=float) for col in zip(*CUSTOMERS, strict=True))
    ours = bgnbd_pinned.conditional_expected_number_of_purchases_up_to_time(39.0, x, t_x, big_t)
    expected = [_eq10(39.0, *c, *BGNBD_PUBLISHED.values()) for c in CUSTOMERS]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)
    # CDNOW customer 1 (x=2, t_x=30.43, T=38.86): ~1.226 purchases in the next 39 weeks.
    assert ours[2] == pytest.approx(1.226, abs=5e-4)
    # Scalars in, float out; zero horizon, zero purchases.
    assert isinstance(bgnbd_pinned.predict(39.0, 2, 30.43, 38.86), float)
    assert bgnbd_pinned.predict(0.0, 2, 30.43, 38.86) == 0.0


def test_conditional_expected_purchases_survives_hyp2f1_overflow(bgnbd_pinned: BetaGeoModel) -> None:
    """Very frequent buyers overflow 2F1 directly; the Euler-transformed branch must stay finite."""
    out = bgnbd_pinned.conditional_expected_number_of_purchases_up_to_time(39.0, np.array([200.0, 500.0]), 38.0, 38.86)
    assert np.all(np.isfinite(out)) and np.all(out > 0)
    # References evaluated once with mpmath at 60 digits from the same eq. (10).
    np.testing.assert_allclose(out, [113.098524455762, 9.22002758836286], rtol=1e-9)


def test_unconditional_expected_purchases_matches_eq7_and_integral(bgnbd_pinned: BetaGeoModel) -> None:
    r, alpha, a, b = BGNBD_PUBLISHED.values()
    t = np.array([1.0, 39.0, 78.0])
    ours = bgnbd_pinned.expected_number_of_purchases_up_to_time(t)
    eq7 = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    np.testing.assert_allclose(ours, eq7, rtol=1e-12)

    # Independent route (paper eq. 3 averaged over the mixing distributions):
    # E[X(t) | lambda, p] = (1 - exp(-lambda p t)) / p; integrating lambda ~ Gamma(r, alpha)
    # analytically leaves E[X(t)] = int_0^1 (1 - (alpha / (alpha + p t))^r) / p * Beta(p; a, b) dp.
    def by_quadrature(tt: float) -> float:
        log_beta = betaln(a, b)

        def integrand(p: float) -> float:
            beta_pdf = math.exp((a - 1) * math.log(p) + (b - 1) * math.log1p(-p) - log_beta)
            return (1 - (alpha / (alpha + p * tt)) ** r) / p * beta_pdf

        return integrate.quad(integrand, 0.0, 1.0, limit=200)[0]

    np.testing.assert_allclose(ours, [by_quadrature(tt) for tt in t], rtol=1e-6)
    # A brand-new customer (x = t_x = T = 0): eq. (10) reduces to eq. (7).
    assert bgnbd_pinned.predict(39.0, 0, 0, 0) == pytest.approx(float(ours[1]), rel=1e-12)


def test_probability_alive_matches_formula(bgnbd_pinned: BetaGeoModel) -> None:
    r, alpha, a, b = BGNBD_PUBLISHED.values()
    x, t_x, big_t = (pd.Series(col, dtype=float) for col in zip(*CUSTOMERS, strict=True))
    ours = bgnbd_pinned.conditional_probability_alive(x, t_x, big_t)
    assert isinstance(ours, pd.Series)
    expected = [
        1.0 if xi == 0 else 1.0 / (1.0 + a / (b + xi - 1) * ((alpha + ti) / (alpha + txi)) ** (r + xi))
        for xi, txi, ti in zip(x, t_x, big_t, strict=True)
    ]
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_gamma_gamma_expected_average_profit(gg_pinned: GammaGammaModel) -> None:
    p, q, v = GG_PUBLISHED.values()
    x = np.array([0.0, 1.0, 2.0, 10.0])
    m = np.array([0.0, 50.0, 22.35, 15.0])
    expected = (q - 1) / (p * x + q - 1) * (p * v / (q - 1)) + (p * x) / (p * x + q - 1) * m
    np.testing.assert_allclose(gg_pinned.conditional_expected_average_profit(x, m), expected, rtol=1e-12)
    # No repeat purchases -> population mean p * gamma / (q - 1).
    assert gg_pinned.conditional_expected_average_profit(0, 0) == pytest.approx(p * v / (q - 1))


def test_customer_lifetime_value_matches_month_by_month_sum(
    bgnbd_pinned: BetaGeoModel, gg_pinned: GammaGammaModel
) -> None:
    p, q, v = GG_PUBLISHED.values()
    monetary = [0.0, 11.77, 22.35, 30.0, 45.5]
    months, rate, step = 12, 0.01, DAYS_PER_MONTH / 7
    expected = []
    for (x, t_x, big_t), m in zip(CUSTOMERS, monetary, strict=True):
        profit = p * (v + x * m) / (p * x + q - 1)
        clv = 0.0
        for i in range(1, months + 1):
            purchases = _eq10(i * step, x, t_x, big_t, *BGNBD_PUBLISHED.values()) - _eq10(
                (i - 1) * step, x, t_x, big_t, *BGNBD_PUBLISHED.values()
            )
            clv += profit * purchases / (1 + rate) ** i
        expected.append(clv)

    frame = pd.DataFrame(CUSTOMERS, columns=["x", "t_x", "T"], index=list("vwxyz")).assign(m=monetary)
    ours = gg_pinned.customer_lifetime_value(bgnbd_pinned, frame["x"], frame["t_x"], frame["T"], frame["m"])
    assert isinstance(ours, pd.Series) and list(ours.index) == list("vwxyz")
    np.testing.assert_allclose(ours, expected, rtol=1e-10)
    # lifetimes' weekly convention (4.345 weeks per month) is available via days_per_month.
    lifetimes_like = gg_pinned.customer_lifetime_value(
        bgnbd_pinned, frame["x"], frame["t_x"], frame["T"], frame["m"], days_per_month=4.345 * 7
    )
    assert np.all(lifetimes_like < ours)


# --------------------------------------------------------------------------
# Model input validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, 2], [5.0, 9.0], [4.0, 10.0], "recency must not exceed T"),
        ([-1, 2], [0.0, 1.0], [4.0, 10.0], "non-negative whole numbers"),
        ([1.5, 2], [1.0, 1.0], [4.0, 10.0], "non-negative whole numbers"),
        ([0, 2], [1.0, 1.0], [4.0, 10.0], "recency must be 0 for customers with frequency 0"),
        ([1, 2], [-1.0, 1.0], [4.0, 10.0], "recency must be non-negative"),
        ([1, 2], [np.nan, 1.0], [4.0, 10.0], "NaN"),
        ([], [], [], "must not be empty"),
    ],
)
def test_bgnbd_fit_rejects_invalid_rfm(frequency, recency, T, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BetaGeoModel().fit(frequency, recency, T)


@pytest.mark.parametrize(
    ("frequency", "monetary", "message"),
    [
        ([0, 0], [0.0, 0.0], "at least one customer with frequency > 0"),
        ([1, 2], [10.0, 0.0], "monetary_value must be > 0"),
        ([1, -2], [10.0, 5.0], "non-negative whole numbers"),
    ],
)
def test_gamma_gamma_fit_rejects_invalid_inputs(frequency, monetary, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GammaGammaModel().fit(frequency, monetary)


def test_unfitted_models_and_bad_parameters() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        BetaGeoModel().conditional_probability_alive(1, 1.0, 2.0)
    with pytest.raises(RuntimeError, match="not fitted"):
        GammaGammaModel().conditional_expected_average_profit(1, 10.0)
    with pytest.raises(ValueError, match="positive"):
        BetaGeoModel().set_params(r=0.2, alpha=-1.0, a=0.8, b=2.0)
    with pytest.raises(ValueError, match="t must be non-negative"):
        BetaGeoModel().set_params(**BGNBD_PUBLISHED).expected_number_of_purchases_up_to_time(-1.0)
    with pytest.raises(ValueError, match="time_months"):
        GammaGammaModel().set_params(**GG_PUBLISHED).customer_lifetime_value(
            BetaGeoModel().set_params(**BGNBD_PUBLISHED), [1], [1.0], [2.0], [10.0], time_months=0
        )
