"""Generate the sample Retention Radar database: a subscription business that behaves like
a real one, so the dashboard's charts tell a true story.

    python -m sample_data.generate --customers 50000 --seed 7 --out data/sample.duckdb

The simulation runs month by month over `HISTORY_MONTHS` months ending at the fixed
`AS_OF` date. Each month, every live customer draws service contacts, surveys, billing
issues, purchases and marketing touches; then a monthly churn-intent hazard

    logit h = base + contract + segment + plan − 0.25·ln(1 + tenure_months) − loyalty
              + 0.35·min(unresolved contacts in 90 days, 4) + 0.20·min(repeat contacts, 4)
              + 0.25·min(long waits, 3) + 0.55·[last CSAT ≤ 2] + 0.60·[billing error
              in 2 months] + 0.45·[price rise in 3 months] − 0.90·[saved in 6 months]
              − 0.60·[proactively retained in 6 months] + 0.3·ln(friction)

decides who wants to leave (coefficients in `HAZARD`). Most of them file a cancellation
request; the retention team attempts some, reaches 20–30 % of requests at baseline and
saves some with an offer (a saved customer's hazard drops). A retention programme that
starts at `PROGRAMME_MONTH` raises the attempt rate and adds proactive outreach to
customers flagged at risk, so the effect of retention work is visible. Churn reasons
follow the drivers; agent notes in Hebrew and English carry the matching signals.

The programme works its monthly at-risk list the way the app does (decision 022): each
customer's first listing in a calendar year assigns them to the worked or the held-out
group (`analytics.actions.holdout_draw`, `HOLDOUT_SHARE`); held-out customers are never
contacted. The programme's effect is planted: inside a worked customer's `FOLLOW_UP_DAYS`
window after listing, a departure is prevented with a known probability by the outreach's
outcome (`PLANTED_REDUCTION`); the simulation counts the departures so prevented. The true
uplift over the assignments the
data can measure is written to `schema_info` (``planted_holdout_uplift``); the groups and
the outreach, as logged actions, go to the action store next to the database
(``actions.sqlite``), replacing what a previous sample left there.

Known data-quality defects are injected at the rates in `DEFECT_RATES` and recorded in
`injected_defects` as ground truth. Every draw comes from one seeded
`np.random.Generator`, so a seed always gives the same file. The file is written to a
temporary path and renamed into place, so an interrupted run never leaves a half-written
database at `--out`. Before the rename the metric rollups are built into it
(`analytics.rollups`, docs/decisions/009-metric-rollups.md), so the sample starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from analytics.schema import (
    ACQUISITION_CHANNELS,
    CHANNELS,
    CHURN_REASONS,
    CONTRACT_TYPES,
    DIRECTIONS,
    OPTIONAL_TABLES,
    OUTCOMES,
    PLANS,
    REGIONS,
    REQUIRED_TABLES,
    SCHEMA_VERSION,
    SEGMENTS,
    SUBJECTS,
    TABLES,
    TOUCHPOINT_KINDS,
    create_table_sql,
)
from sample_data import notes as note_bank

AS_OF = date(2026, 9, 30)
HISTORY_MONTHS = 36
PROGRAMME_MONTH = 27  # the retention programme starts 9 months before AS_OF
PRICE_RISE_MONTHS = (12, 24)  # basic and standard plans rise 7 %
PRICE_RISE = 0.07
SERVICE_CRISIS_MONTHS = range(15, 20)  # under-staffed contact centre: waits ×2.5

GENERATED_OPTIONAL_TABLES = ("injected_defects", "at_risk_flags")

DEFECT_RATES = {
    "missing_email": 0.020,
    "invalid_email": 0.015,
    "missing_phone": 0.020,
    "invalid_phone": 0.015,
    "duplicate_customer": 0.010,
    "churn_before_signup": 0.003,  # share of churned customers
    "touchpoint_after_churn": 0.005,  # share of churned customers
}

HAZARD = {
    "base": -3.7,
    "contract": {"month_to_month": 0.6, "annual": -0.2, "two_year": -0.8},
    "segment": {"consumer": 0.0, "small_business": -0.15, "enterprise": -0.45},
    "plan": {"basic": 0.2, "standard": 0.0, "premium": -0.2},
    "tenure_log": -0.25,
    "loyalty": -0.45,
    "unresolved_90d": 0.35,
    "repeat_90d": 0.20,
    "long_wait_90d": 0.25,
    "low_csat": 0.55,
    "billing_error": 0.60,
    "price_rise": 0.45,
    "saved": -0.90,
    "proactive_retained": -0.60,
    "friction_log": 0.30,
}

# Retention funnel after a cancellation request, before / after the programme starts.
ATTEMPT_RATE = (0.45, 0.70)
REACH_GIVEN_ATTEMPT = (0.55, 0.60)
OFFER_GIVEN_REACHED = 0.80
ACCEPT_BY_REASON = {
    "price": 0.60, "competitor": 0.50, "service": 0.45, "billing": 0.55,
    "moving": 0.05, "product_fit": 0.30, "non_payment": 0.0, "other": 0.40,
}
CHANGED_MIND = 0.08
# The worked list's holdout and the planted programme effect (decision 022)
HOLDOUT_SHARE = 0.10
FOLLOW_UP_DAYS = 90

PLANTED_REDUCTION = {"accepted": 0.80, "reached": 0.30, "not_reached": 0.0}  # P(a window departure is prevented)
LIST_LEAD = "ret-lead"  # who works the list (assigns the groups) in the action store
REQUEST_SHARE = 0.80  # intents that file a request; the rest leave silently

PLAN_MRR = np.array([79.0, 129.0, 219.0])
PLAN_MARGIN = np.array([0.35, 0.45, 0.55])
SEGMENT_MRR_MULTIPLE = np.array([1.0, 2.5, 8.0])
CHANNEL_CAC = np.array([120.0, 180.0, 220.0, 60.0, 150.0])
SEGMENT_CAC_MULTIPLE = np.array([1.0, 2.0, 6.0])

# Service channels: share of inbound service contacts and median wait (seconds).
SERVICE_CHANNEL_P = np.array([0.40, 0.20, 0.10, 0.02, 0.12, 0.08, 0.05, 0.03])
MEDIAN_WAIT_S = np.array([90, 60, 6 * 3600, 2 * 3600, 600, 8 * 3600, 300, 3 * 3600])
LONG_WAIT_FACTOR = 3.0  # a wait over 3× the channel median counts as "long"

FIRST_NAMES = [
    "Noa", "Yossi", "Tamar", "Avi", "Maya", "David", "Shira", "Moshe", "Yael", "Daniel",
    "Michal", "Itai", "Rotem", "Omer", "Lior", "Adi", "Eitan", "Hila", "Amit", "Gal",
    "Sarah", "Ahmad", "Rana", "Yusuf", "Lina", "Igor", "Olga", "Ronit", "Eli", "Dana",
    "Nir", "Keren", "Uri", "Talia", "Ben", "Inbar", "Ariel", "Neta", "Ofer", "Sivan",
]
LAST_NAMES = [
    "Cohen", "Levi", "Mizrahi", "Peretz", "Biton", "Dahan", "Avraham", "Friedman",
    "Azulay", "Katz", "Yosef", "David", "Amar", "Ohana", "Hadad", "Gabay", "Ben David",
    "Shapiro", "Klein", "Goldberg", "Nasser", "Haddad", "Khoury", "Volkov", "Segal",
    "Rosen", "Malka", "Sasson", "Weiss", "Baruch",
]
EMAIL_DOMAINS = ["gmail.com", "walla.co.il", "yahoo.com", "hotmail.com", "outlook.com", "bezeqint.net"]

_EPOCH = np.datetime64("1970-01-01", "D")


def _day(d: date) -> int:
    return int((np.datetime64(d, "D") - _EPOCH).astype(np.int64))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _choice(rng: np.random.Generator, p: np.ndarray | list[float], size: int) -> np.ndarray:
    """Vectorised categorical draw returning int8 codes (faster than rng.choice for large n)."""
    cum = np.cumsum(np.asarray(p, dtype=float))
    cum /= cum[-1]
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int8)


def _choice_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1).astype(np.int8)


def _dict_array(codes: np.ndarray, values) -> pa.DictionaryArray:
    codes = np.asarray(codes)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), pa.string()))


@dataclass
class GenerationSummary:
    path: Path
    customers: int
    touchpoints: int
    revenue_rows: int
    seconds: float


class _Touchpoints:
    """Column buffers for one month's touchpoints; codes index the schema's value tuples."""

    COLUMNS = (
        "customer_id", "ts", "kind", "channel", "direction", "subject", "agent", "wait",
        "handle", "resolved", "fcr", "amount", "csat", "nps", "outcome", "related", "note",
    )

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, n: int, **cols) -> None:
        if n == 0:
            return
        defaults = {
            "agent": -1, "wait": -1, "handle": -1, "resolved": -1, "fcr": -1,
            "amount": np.nan, "csat": -1, "nps": -1, "outcome": -1, "related": -1,
            "note": -1, "subject": SUBJECTS.index("general"),
        }
        part = {}
        for name in self.COLUMNS:
            value = cols.get(name, defaults.get(name))
            arr = np.asarray(value)
            part[name] = np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr
        self.parts.append(part)

    def buffered(self) -> int:
        return sum(len(p["customer_id"]) for p in self.parts)

    def concat(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {}
        return {c: np.concatenate([p[c] for p in self.parts]) for c in self.COLUMNS}


class SampleBusiness:
    """The simulated business. `run()` writes everything into an open DuckDB connection."""

    def __init__(self, customers: int, seed: int, progress: bool = False) -> None:
        if customers < 10:
            raise ValueError("--customers must be at least 10")
        self.n = customers
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        # the planted programme's own draws, apart, so the business's stream stays put
        self.workflow_rng = np.random.default_rng([seed, 22])
        self.progress = progress
        self.as_of_d = _day(AS_OF)
        first_month = np.datetime64(AS_OF, "M") - (HISTORY_MONTHS - 1)
        self.month_starts = (
            np.arange(first_month, first_month + HISTORY_MONTHS + 1, dtype="datetime64[M]")
            .astype("datetime64[D]") - _EPOCH
        ).astype(np.int64)
        self.history_start_d = int(self.month_starts[0])
        self.notes, self.note_labels, self.note_langs = note_bank.build_bank(self.rng)
        self._note_index = {
            (label, lang): np.flatnonzero((self.note_labels == i) & (self.note_langs == lang))
            for i, label in enumerate(note_bank.LABELS)
            for lang in ("he", "en")
        }
        n_service_agents = max(30, customers // 500)
        n_retention_agents = max(6, customers // 5000)
        self.agents = [f"svc-{i:04d}" for i in range(n_service_agents)] + [
            f"ret-{i:03d}" for i in range(n_retention_agents)
        ]
        self.service_agents = np.arange(n_service_agents)
        self.retention_agents = np.arange(n_service_agents, n_service_agents + n_retention_agents)
        self.next_touchpoint_id = 1
        self.touchpoint_count = 0
        self.revenue_rows = 0
        self.defects: list[tuple[str, int, str, str]] = []

    # ------------------------------------------------------------------ customers
    def _draw_customers(self) -> None:
        rng, n = self.rng, self.n
        self.segment = _choice(rng, [0.70, 0.22, 0.08], n)
        self.region = _choice(rng, [0.30, 0.25, 0.15, 0.15, 0.15], n)
        plan_p = np.array([[0.50, 0.36, 0.14], [0.40, 0.42, 0.18], [0.15, 0.40, 0.45]])
        self.plan = _choice_rows(rng, plan_p[self.segment])
        contract_p = np.array([[0.55, 0.35, 0.10], [0.40, 0.45, 0.15], [0.15, 0.45, 0.40]])
        self.contract = _choice_rows(rng, contract_p[self.segment])
        self.acq_channel = _choice(rng, [0.35, 0.20, 0.20, 0.15, 0.10], n)
        self.acq_cost = np.round(
            CHANNEL_CAC[self.acq_channel] * SEGMENT_CAC_MULTIPLE[self.segment]
            * rng.lognormal(0.0, 0.25, n), 2)

        pre_existing = rng.random(n) < 0.40
        signup = np.empty(n, dtype=np.int64)
        n_pre = int(pre_existing.sum())
        signup[pre_existing] = self.history_start_d - rng.integers(1, 6 * 365, n_pre)
        growth = 1.015 ** np.arange(HISTORY_MONTHS)
        month = _choice(rng, growth, n - n_pre).astype(np.int64)
        span = self.month_starts[month + 1] - self.month_starts[month]
        signup[~pre_existing] = self.month_starts[month] + (rng.random(n - n_pre) * span).astype(np.int64)
        # signups never after the as-of date
        self.signup_d = np.minimum(signup, self.as_of_d)

        self.loyalty = rng.random(n) < np.where(pre_existing, 0.35, 0.18)
        self.friction = rng.lognormal(0.0, 0.5, n)
        # a wrong plan keyed at signup (the brief's 1-10-100 story) -> early billing errors
        self.wrong_plan_at_signup = rng.random(n) < 0.03
        self.mrr = np.round(
            PLAN_MRR[self.plan] * SEGMENT_MRR_MULTIPLE[self.segment] * rng.uniform(0.9, 1.1, n), 2)
        self.owner = rng.integers(0, len(self.retention_agents), n)

        never = np.iinfo(np.int64).max // 4
        self.churn_d = np.full(n, never, dtype=np.int64)
        self.churn_reason = np.full(n, -1, dtype=np.int8)
        self.decided = np.zeros(n, dtype=bool)
        self.unresolved_hist = np.zeros((3, n), dtype=np.int16)
        self.repeat_hist = np.zeros((3, n), dtype=np.int16)
        self.long_wait_hist = np.zeros((3, n), dtype=np.int16)
        self.last_csat = np.zeros(n, dtype=np.int8)
        self.billing_until = np.full(n, -1, dtype=np.int16)
        self.price_rise_until = np.full(n, -1, dtype=np.int16)
        self.saved_until = np.full(n, -1, dtype=np.int16)
        self.proactive_until = np.full(n, -1, dtype=np.int16)
        self.never = never
        # the worked list's groups (decision 022): a window's fate is drawn at assignment
        self.assigned_year = np.full(n, -1, dtype=np.int32)
        self.held_out = np.zeros(n, dtype=bool)
        self.window_start = np.full(n, -1, dtype=np.int64)
        self.window_until = np.full(n, -1, dtype=np.int64)
        self.window_cut = np.zeros(n)                          # share of window departures the work prevents
        self.prevented = np.zeros(n, dtype=bool)               # a window departure was prevented, none followed
        self.assignments: list[tuple[np.ndarray, ...]] = []   # (customer, day, held out, list as-of)
        self.outreach: list[tuple[np.ndarray, ...]] = []      # (customer, ts, agent, outcome code)

    # ------------------------------------------------------------------ helpers
    def _days_in(self, first_day: np.ndarray, last_day: int) -> np.ndarray:
        span = last_day - first_day + 1
        return first_day + (self.rng.random(len(first_day)) * span).astype(np.int64)

    def _seconds(self, day: np.ndarray, business_hours: bool = True) -> np.ndarray:
        if business_hours:
            sec = self.rng.integers(8 * 3600, 20 * 3600, len(day))
        else:
            sec = self.rng.integers(0, 86400, len(day))
        return day.astype(np.int64) * 86400 + sec

    def _notes_for(self, label_codes: np.ndarray) -> np.ndarray:
        """Pick a rendered note for each label code (65 % Hebrew)."""
        out = np.full(len(label_codes), -1, dtype=np.int32)
        hebrew = self.rng.random(len(label_codes)) < 0.65
        for code, label in enumerate(note_bank.LABELS):
            for lang, mask_lang in (("he", hebrew), ("en", ~hebrew)):
                mask = (label_codes == code) & mask_lang
                k = int(mask.sum())
                if k:
                    pool = self._note_index[(label, lang)]
                    out[mask] = pool[self.rng.integers(0, len(pool), k)]
        return out

    def _reason_weights(self, idx: np.ndarray, m: int, unresolved: np.ndarray) -> np.ndarray:
        """Weights over CHURN_REASONS (without non_payment) that follow the drivers."""
        k = len(idx)
        w = np.zeros((k, len(CHURN_REASONS)))
        w[:, CHURN_REASONS.index("price")] = 0.8 + 3.0 * (self.price_rise_until[idx] >= m) + 0.6 * (self.plan[idx] == 0)
        w[:, CHURN_REASONS.index("competitor")] = 1.0 + 0.8 * (self.contract[idx] == 0)
        w[:, CHURN_REASONS.index("service")] = 0.4 + 0.8 * np.minimum(unresolved, 4) + 1.2 * ((self.last_csat[idx] > 0) & (self.last_csat[idx] <= 2))
        w[:, CHURN_REASONS.index("billing")] = 0.15 + 3.0 * (self.billing_until[idx] >= m)
        w[:, CHURN_REASONS.index("moving")] = 0.5
        w[:, CHURN_REASONS.index("product_fit")] = 0.4 + 0.6 * (self.month_starts[m] - self.signup_d[idx] < 120)
        w[:, CHURN_REASONS.index("other")] = 0.3
        return w

    _REASON_TO_SIGNAL = {
        "price": "price", "competitor": "competitor", "service": "dissatisfaction",
        "billing": "billing", "moving": "moving", "product_fit": "cancel_intent",
        "other": "cancel_intent", "non_payment": "billing",
    }

    def _signal_label_codes(self, reasons: np.ndarray, p_cancel: float = 0.3) -> np.ndarray:
        """Map reason codes to note-label codes; a share of notes says 'cancel' outright."""
        mapping = np.array([note_bank.LABELS.index(self._REASON_TO_SIGNAL[r]) for r in CHURN_REASONS])
        labels = mapping[reasons]
        cancel = self.rng.random(len(reasons)) < p_cancel
        labels[cancel] = note_bank.LABELS.index("cancel_intent")
        return labels

    # ------------------------------------------------------------------ one month
    def _simulate_month(self, m: int, tp: _Touchpoints, flags: list[np.ndarray]) -> np.ndarray:
        rng = self.rng
        ms, me = int(self.month_starts[m]), int(self.month_starts[m + 1]) - 1
        me = min(me, self.as_of_d)
        ring = m % 3

        live = np.flatnonzero((self.signup_d <= me) & ~self.decided)
        k = len(live)
        first_day = np.maximum(ms, self.signup_d[live])
        tenure_m = np.maximum(ms - self.signup_d[live], 0) / 30.44

        # -- plan and price movements (expansion / contraction MRR)
        if m in PRICE_RISE_MONTHS:
            hit = live[self.plan[live] < 2]
            self.mrr[hit] = np.round(self.mrr[hit] * (1 + PRICE_RISE), 2)
            self.price_rise_until[hit] = m + 3
        up = live[(self.plan[live] < 2) & (rng.random(k) < 0.008)]
        self.mrr[up] = np.round(self.mrr[up] * PLAN_MRR[self.plan[up] + 1] / PLAN_MRR[self.plan[up]], 2)
        self.plan[up] += 1
        down = live[(self.plan[live] > 0) & (rng.random(k) < 0.004)]
        self.mrr[down] = np.round(self.mrr[down] * PLAN_MRR[self.plan[down] - 1] / PLAN_MRR[self.plan[down]], 2)
        self.plan[down] -= 1
        for who, subject in ((up, "sales"), (down, "plan_change")):
            day = self._days_in(np.maximum(ms, self.signup_d[who]), me)
            tp.add(len(who), customer_id=who, ts=self._seconds(day), kind=TOUCHPOINT_KINDS.index("purchase") if subject == "sales" else TOUCHPOINT_KINDS.index("service_request"),
                   channel=_choice(rng, [0.5, 0.2, 0, 0, 0.1, 0.2, 0, 0], len(who)), direction=0,
                   subject=SUBJECTS.index(subject), agent=rng.choice(self.service_agents, len(who)),
                   resolved=1, fcr=1, note=self._notes_for(np.full(len(who), note_bank.LABELS.index("neutral"))))

        # -- service contacts
        onboarding = np.where(tenure_m < 2, 1.8, 1.0)
        plan_factor = np.array([1.2, 1.0, 0.85])[self.plan[live]]
        n_contacts = rng.poisson(0.32 * self.friction[live] * plan_factor * onboarding)
        pos = np.repeat(np.arange(k), n_contacts)
        c = len(pos)
        cust = live[pos]
        channel = _choice(rng, SERVICE_CHANNEL_P, c)
        congestion = 2.5 if m in SERVICE_CRISIS_MONTHS else 1.0
        wait = MEDIAN_WAIT_S[channel] * congestion * rng.lognormal(0.0, 0.7, c)
        long_wait = wait > LONG_WAIT_FACTOR * MEDIAN_WAIT_S[channel]
        p_resolved = _sigmoid(2.0 - 0.9 * np.log(self.friction[cust]) - 0.6 * long_wait)
        resolved = rng.random(c) < p_resolved
        fcr = resolved & (rng.random(c) < 0.78)
        subject = _choice(rng, [0.45, 0.25, 0.12, 0, 0.18, 0], c)
        subject = np.where(rng.random(c) < 0.5 * self.wrong_plan_at_signup[cust], SUBJECTS.index("billing"), subject)
        is_complaint = rng.random(c) < (0.08 + 0.35 * ~resolved)
        kind = np.where(is_complaint, TOUCHPOINT_KINDS.index("complaint"), TOUCHPOINT_KINDS.index("service_request"))
        day = self._days_in(first_day[pos], me)
        ts = self._seconds(day)

        # notes: a churn-prone customer's notes carry signals more often (early warning)
        logit_now = self._hazard_logit(live, m, tenure_m)
        p_signal = np.clip(6.0 * _sigmoid(logit_now[pos]) + 0.25 * ~resolved, 0.03, 0.8)
        has_note = rng.random(c) < 0.7
        signal = has_note & (rng.random(c) < p_signal)
        reasons = _choice_rows(rng, self._reason_weights(cust, m, self.unresolved_hist.sum(axis=0)[cust]))
        label = np.where(signal, self._signal_label_codes(reasons, p_cancel=0.15), note_bank.LABELS.index("neutral"))
        label = np.where(~resolved & signal & (rng.random(c) < 0.5), note_bank.LABELS.index("dissatisfaction"), label)
        note = np.where(has_note, self._notes_for(label), -1)
        handle = (rng.lognormal(np.log(420), 0.5, c)).astype(np.int64)
        tp.add(c, customer_id=cust, ts=ts, kind=kind, channel=channel, direction=0, subject=subject,
               agent=rng.choice(self.service_agents, c), wait=wait.astype(np.int64), handle=handle,
               resolved=resolved.astype(np.int8), fcr=fcr.astype(np.int8), note=note)

        # repeat contacts: a contact not solved first time often comes back within 1-6 days
        again = ~fcr & (rng.random(c) < 0.55)
        r = int(again.sum())
        r_cust = cust[again]
        r_resolved = rng.random(r) < 0.6
        tp.add(r, customer_id=r_cust, ts=ts[again] + rng.integers(1, 7, r) * 86400,
               kind=np.where(r_resolved, TOUCHPOINT_KINDS.index("service_request"), TOUCHPOINT_KINDS.index("complaint")),
               channel=channel[again], direction=0, subject=subject[again], agent=rng.choice(self.service_agents, r),
               wait=(MEDIAN_WAIT_S[channel[again]] * congestion * rng.lognormal(0.0, 0.7, r)).astype(np.int64),
               handle=(rng.lognormal(np.log(480), 0.5, r)).astype(np.int64), resolved=r_resolved.astype(np.int8),
               fcr=np.zeros(r, np.int8),
               note=np.where(rng.random(r) < 0.8, self._notes_for(np.where(rng.random(r) < 0.6, note_bank.LABELS.index("dissatisfaction"), note_bank.LABELS.index("neutral"))), -1))

        unresolved_now = np.bincount(pos, weights=~resolved, minlength=k) + np.bincount(
            pos[again], weights=~r_resolved, minlength=k)
        self.unresolved_hist[ring, live] = unresolved_now.astype(np.int16)
        self.repeat_hist[ring, live] = np.bincount(pos[again], minlength=k).astype(np.int16)
        self.long_wait_hist[ring, live] = np.bincount(pos, weights=long_wait, minlength=k).astype(np.int16)

        # -- surveys after a quarter of contacts
        surveyed = rng.random(c) < 0.25
        s = int(surveyed.sum())
        csat = np.clip(np.round(4.4 - 1.7 * ~resolved[surveyed] - 0.6 * long_wait[surveyed] - 0.5 * ~fcr[surveyed] + rng.normal(0, 0.7, s)), 1, 5).astype(np.int8)
        nps = np.clip(np.round(2.1 * csat - 0.8 + rng.normal(0, 1.3, s)), 0, 10).astype(np.int8)
        tp.add(s, customer_id=cust[surveyed], ts=ts[surveyed] + rng.integers(3600, 3 * 86400, s),
               kind=TOUCHPOINT_KINDS.index("survey"), channel=np.where(rng.random(s) < 0.6, CHANNELS.index("sms"), CHANNELS.index("email")),
               direction=1, subject=subject[surveyed], csat=csat, nps=nps)
        last_pos = pos[surveyed]
        self.last_csat[live[last_pos]] = csat  # later draws win: the month's last answer

        # -- billing issues (more for customers keyed on the wrong plan, early in tenure)
        p_bill = 0.012 + 0.10 * (self.wrong_plan_at_signup[live] & (tenure_m < 4))
        billed = np.flatnonzero(rng.random(k) < p_bill)
        b = len(billed)
        tp.add(b, customer_id=live[billed], ts=self._seconds(self._days_in(first_day[billed], me)),
               kind=TOUCHPOINT_KINDS.index("billing_issue"), channel=_choice(rng, SERVICE_CHANNEL_P, b), direction=0,
               subject=SUBJECTS.index("billing"), agent=rng.choice(self.service_agents, b),
               wait=(MEDIAN_WAIT_S[0] * congestion * rng.lognormal(0, 0.7, b)).astype(np.int64),
               handle=rng.lognormal(np.log(600), 0.4, b).astype(np.int64), resolved=(rng.random(b) < 0.7).astype(np.int8),
               fcr=(rng.random(b) < 0.45).astype(np.int8), amount=np.round(-rng.uniform(10, 120, b), 2),
               note=np.where(rng.random(b) < 0.8, self._notes_for(np.full(b, note_bank.LABELS.index("billing"))), -1))
        self.billing_until[live[billed]] = m + 2

        # -- purchases / add-ons and marketing touches
        n_buy = rng.poisson(0.05 * np.array([0.8, 1.0, 1.4])[self.plan[live]])
        bpos = np.repeat(np.arange(k), n_buy)
        nb = len(bpos)
        tp.add(nb, customer_id=live[bpos], ts=self._seconds(self._days_in(first_day[bpos], me)),
               kind=TOUCHPOINT_KINDS.index("purchase"), channel=_choice(rng, [0.2, 0.1, 0, 0, 0, 0.5, 0.2, 0], nb),
               direction=0, subject=SUBJECTS.index("sales"), amount=np.round(rng.lognormal(np.log(45), 0.7, nb), 2))
        n_mkt = rng.poisson(0.45, k)
        mpos = np.repeat(np.arange(k), n_mkt)
        nm = len(mpos)
        tp.add(nm, customer_id=live[mpos], ts=self._seconds(self._days_in(first_day[mpos], me)),
               kind=TOUCHPOINT_KINDS.index("marketing"), channel=_choice(rng, [0, 0, 0.45, 0.45, 0.1, 0, 0, 0], nm),
               direction=1, subject=SUBJECTS.index("sales"))

        # -- proactive programme: flag the riskiest, reach out, retain some
        logit = self._hazard_logit(live, m, tenure_m)
        if m >= PROGRAMME_MONTH:
            score = logit + rng.normal(0, 0.5, k)
            flagged = np.flatnonzero(score > np.quantile(score, 0.97))
            f = len(flagged)
            flag_day = np.minimum(first_day[flagged] + rng.integers(0, 5, f), me)
            flags.append(np.stack([live[flagged], flag_day]))
            held, new = self._assign_groups(m, live[flagged], flag_day)
            contacted = (rng.random(f) < 0.75) & ~held  # the control group is not contacted
            fc = flagged[contacted]
            nc = len(fc)
            reached = rng.random(nc) < 0.60
            accepted = reached & (rng.random(nc) < 0.45)
            offered = accepted | (reached & (rng.random(nc) < 0.5))
            outcome = np.where(~reached, OUTCOMES.index("not_reached"),
                               np.where(accepted, OUTCOMES.index("offer_accepted"),
                                        np.where(offered, OUTCOMES.index("offer_declined"), OUTCOMES.index("reached_no_offer"))))
            contact_ts = self._seconds(flag_day[contacted] + rng.integers(0, 10, nc))
            contact_channel = _choice(rng, [0.7, 0, 0.05, 0.1, 0.15, 0, 0, 0], nc)
            contact_agent = rng.choice(self.retention_agents, nc)
            tp.add(nc, customer_id=live[fc], ts=contact_ts,
                   kind=TOUCHPOINT_KINDS.index("proactive_outreach"), channel=contact_channel,
                   direction=1, subject=SUBJECTS.index("general"), agent=contact_agent,
                   outcome=outcome, amount=np.where(accepted, np.round(0.1 * self.mrr[live[fc]], 2), np.nan))
            self.outreach.append((live[fc], contact_ts, contact_agent, outcome))
            # the planted effect: a worked customer's window churn probability, cut by the outreach's outcome
            cut = np.zeros(f)
            cut[contacted] = np.where(accepted, PLANTED_REDUCTION["accepted"],
                                      np.where(reached, PLANTED_REDUCTION["reached"], PLANTED_REDUCTION["not_reached"]))
            self._open_windows(m, live[flagged][new], flag_day[new], held[new], cut[new])
            logit = self._hazard_logit(live, m, tenure_m)

        # -- churn intent and the retention funnel
        intent = np.flatnonzero(rng.random(k) < _sigmoid(logit))
        who = live[intent]
        ni = len(who)
        reasons = _choice_rows(rng, self._reason_weights(who, m, self.unresolved_hist.sum(axis=0)[who]))
        event_day = self._days_in(first_day[intent], me)
        requests = rng.random(ni) < REQUEST_SHARE
        # silent leavers: non-payment or a port-out to a competitor
        silent = ~requests
        reasons[silent & (rng.random(ni) < 0.6)] = CHURN_REASONS.index("non_payment")
        leave = silent.copy()
        leave_day = event_day.copy()

        req_idx = np.flatnonzero(requests)
        nr = len(req_idx)
        # touchpoint ids follow add order within the month, so the requests' ids are known now
        req_ids = self._month_first_id + tp.buffered() + np.arange(nr)
        req_ts = self._seconds(event_day[req_idx])
        tp.add(nr, customer_id=who[req_idx], ts=req_ts, kind=TOUCHPOINT_KINDS.index("cancellation_request"),
               channel=_choice(rng, [0.6, 0.15, 0.1, 0, 0.05, 0.1, 0, 0], nr), direction=0,
               subject=SUBJECTS.index("cancellation"), agent=rng.choice(self.service_agents, nr),
               wait=(MEDIAN_WAIT_S[0] * congestion * rng.lognormal(0, 0.7, nr)).astype(np.int64),
               note=self._notes_for(self._signal_label_codes(reasons[req_idx], p_cancel=0.4)))

        phase = int(m >= PROGRAMME_MONTH)
        attempted = rng.random(nr) < ATTEMPT_RATE[phase]
        reached = attempted & (rng.random(nr) < REACH_GIVEN_ATTEMPT[phase])
        offered = reached & (rng.random(nr) < OFFER_GIVEN_REACHED)
        accept_p = np.array([ACCEPT_BY_REASON[r] for r in CHURN_REASONS])[reasons[req_idx]]
        accepted = offered & (rng.random(nr) < accept_p)
        stays = accepted | (rng.random(nr) < CHANGED_MIND)
        delay_h = rng.lognormal(np.log(18 if phase == 0 else 6), 0.9, nr)
        call_ts = req_ts + (delay_h * 3600).astype(np.int64)
        att = np.flatnonzero(attempted & (call_ts < (self.as_of_d + 1) * 86400))
        outcome = np.where(~reached, OUTCOMES.index("not_reached"),
                           np.where(accepted, OUTCOMES.index("offer_accepted"),
                                    np.where(offered, OUTCOMES.index("offer_declined"), OUTCOMES.index("reached_no_offer"))))
        saved_who = who[req_idx[accepted]]
        offer_value = np.round(0.15 * self.mrr[who[req_idx]], 2)
        tp.add(len(att), customer_id=who[req_idx[att]], ts=call_ts[att], kind=TOUCHPOINT_KINDS.index("retention_call"),
               channel=CHANNELS.index("phone"), direction=1, subject=SUBJECTS.index("cancellation"),
               agent=rng.choice(self.retention_agents, len(att)), outcome=outcome[att], related=req_ids[att],
               handle=rng.lognormal(np.log(540), 0.4, len(att)).astype(np.int64),
               amount=np.where(offered[att], offer_value[att], np.nan),
               note=np.where(reached[att], self._notes_for(np.where(accepted[att], note_bank.LABELS.index("neutral"),
                                                                    self._signal_label_codes(reasons[req_idx[att]], 0.5))), -1))
        self.mrr[saved_who] = np.round(self.mrr[saved_who] * 0.85, 2)  # the offer is a discount
        self.saved_until[saved_who] = m + 6
        leave[req_idx] = ~stays
        leave_day[req_idx] = event_day[req_idx] + rng.integers(1, 15, nr)

        # the planted programme effect: a worked customer's departure inside their follow-up
        # window is prevented with the window's known probability (decision 022)
        in_window = (leave_day > self.window_start[who]) & (leave_day <= self.window_until[who])
        prevent = leave & in_window & (self.workflow_rng.random(ni) < self.window_cut[who])
        self.prevented[who[prevent]] = True
        leave &= ~prevent
        gone = who[leave]
        self.prevented[gone[in_window[leave]]] = False  # left inside the window after all: no save
        self.decided[gone] = True
        self.churn_d[gone] = leave_day[leave]
        self.churn_reason[gone] = reasons[leave]
        return live

    # ------------------------------------------------------------------ the worked list (decision 022)
    def _assign_groups(self, m: int, cust: np.ndarray, day: np.ndarray):
        """The month's list `cust` (flagged on `day`): a customer's first listing in the
        calendar year assigns a group by the app's own draw. Returns (held out, newly
        assigned), per listed customer."""
        from analytics.actions import holdout_draw

        year = int(str(np.datetime64(int(self.month_starts[m]), "D"))[:4])
        new = self.assigned_year[cust] != year
        fresh = cust[new]
        self.held_out[fresh] = holdout_draw((fresh + 1).tolist(), f"{year:04d}", HOLDOUT_SHARE)
        self.assigned_year[fresh] = year
        return self.held_out[cust], new

    def _open_windows(self, m: int, cust: np.ndarray, day: np.ndarray, held: np.ndarray, cut: np.ndarray) -> None:
        """Open the follow-up window (day, day + FOLLOW_UP_DAYS] of newly listed customers:
        inside it a worked customer's departure is prevented with probability `cut` (by
        the outreach's outcome, `PLANTED_REDUCTION`); a held-out customer's never is."""
        self.window_start[cust] = day
        self.window_until[cust] = day + FOLLOW_UP_DAYS
        self.window_cut[cust] = np.where(held, 0.0, cut)
        self.prevented[cust] = False
        list_as_of = np.full(len(cust), int(self.month_starts[m]) - 1)  # the month-end scores the list came from
        self.assignments.append((cust, day, held, list_as_of))

    def planted_uplift(self) -> float:
        """The true uplift the measured programme estimates, counted in the simulation:
        departures inside the window that the planted effect prevented and that no later
        departure in the window undid, per worked assignment whose window ends by the
        as-of date (NaN without any)."""
        if not self.assignments:
            return float("nan")
        cust, day, held, _ = (np.concatenate(c) for c in zip(*self.assignments))
        measured = ~held & (day + FOLLOW_UP_DAYS <= self.as_of_d)
        return float(np.mean(self.prevented[cust[measured]])) if measured.any() else float("nan")

    def _hazard_logit(self, live: np.ndarray, m: int, tenure_m: np.ndarray) -> np.ndarray:
        h = HAZARD
        contract = np.array([h["contract"][c] for c in CONTRACT_TYPES])[self.contract[live]]
        segment = np.array([h["segment"][s] for s in SEGMENTS])[self.segment[live]]
        plan = np.array([h["plan"][p] for p in PLANS])[self.plan[live]]
        low_csat = (self.last_csat[live] > 0) & (self.last_csat[live] <= 2)
        return (
            h["base"] + contract + segment + plan
            + h["tenure_log"] * np.log1p(tenure_m)
            + h["loyalty"] * self.loyalty[live]
            + h["unresolved_90d"] * np.minimum(self.unresolved_hist[:, live].sum(axis=0), 4)
            + h["repeat_90d"] * np.minimum(self.repeat_hist[:, live].sum(axis=0), 4)
            + h["long_wait_90d"] * np.minimum(self.long_wait_hist[:, live].sum(axis=0), 3)
            + h["low_csat"] * low_csat
            + h["billing_error"] * (self.billing_until[live] >= m)
            + h["price_rise"] * (self.price_rise_until[live] >= m)
            + h["saved"] * (self.saved_until[live] >= m)
            + h["proactive_retained"] * (self.proactive_until[live] >= m)
            + h["friction_log"] * np.log(self.friction[live])
        )

    # ------------------------------------------------------------------ writing
    def _write_touchpoints(self, con: duckdb.DuckDBPyConnection, tp: _Touchpoints) -> None:
        cols = tp.concat()
        if not cols:
            return
        n = len(cols["customer_id"])
        ids = self._month_first_id + np.arange(n)
        self.next_touchpoint_id = self._month_first_id + n
        # drop what would fall after the as-of date (repeat contacts / surveys spill over)
        # ...and touchpoints after a customer's churn (those are injected as defects only)
        last_day = np.minimum(self.churn_d[cols["customer_id"]], self.as_of_d)
        keep = cols["ts"] < (last_day + 1) * 86400
        cols = {k: v[keep] for k, v in cols.items()}
        ids = ids[keep]

        def opt_int(a: np.ndarray, dtype) -> pa.Array:
            return pa.array(a.astype(dtype), mask=a < 0)

        table = pa.table({
            "touchpoint_id": pa.array(ids, pa.int64()),
            "customer_id": pa.array(cols["customer_id"].astype(np.int64) + 1),
            "occurred_at": pa.array(cols["ts"].astype(np.int64) * 1_000_000, pa.timestamp("us")),
            "kind": _dict_array(cols["kind"], TOUCHPOINT_KINDS),
            "channel": _dict_array(cols["channel"], CHANNELS),
            "direction": _dict_array(cols["direction"], DIRECTIONS),
            "subject": _dict_array(cols["subject"], SUBJECTS),
            "agent": _dict_array(cols["agent"], self.agents),
            "wait_seconds": opt_int(cols["wait"], np.int32),
            "handle_seconds": opt_int(cols["handle"], np.int32),
            "resolved": pa.array(cols["resolved"] == 1, mask=cols["resolved"] < 0),
            "first_contact_resolution": pa.array(cols["fcr"] == 1, mask=cols["fcr"] < 0),
            "amount": pa.array(cols["amount"].astype(np.float64), mask=np.isnan(cols["amount"].astype(np.float64))),
            "csat": opt_int(cols["csat"], np.int8),
            "nps": opt_int(cols["nps"], np.int8),
            "outcome": _dict_array(cols["outcome"], OUTCOMES),
            "related_touchpoint_id": opt_int(cols["related"], np.int64),
            "note": _dict_array(cols["note"], self.notes),
        })
        con.register("touchpoint_batch", table)
        con.execute("insert into touchpoints select * from touchpoint_batch")
        con.unregister("touchpoint_batch")
        self.touchpoint_count += len(ids)

    def _write_revenue(self, con: duckdb.DuckDBPyConnection, m: int) -> None:
        ms, me = int(self.month_starts[m]), int(self.month_starts[m + 1]) - 1
        # a row for every customer active on the month's first day or signing up in it
        rows = np.flatnonzero((self.signup_d <= me) & (self.churn_d > ms) & (self.signup_d <= self.as_of_d))
        table = pa.table({
            "customer_id": pa.array(rows.astype(np.int64) + 1),
            "month": pa.array(np.full(len(rows), ms).astype("datetime64[D]")),
            "mrr": pa.array(self.mrr[rows]),
        })
        con.register("revenue_batch", table)
        con.execute("insert into monthly_revenue select * from revenue_batch")
        con.unregister("revenue_batch")
        self.revenue_rows += len(rows)

    def run(self, con: duckdb.DuckDBPyConnection) -> None:
        started = time.perf_counter()
        for table in REQUIRED_TABLES:
            con.execute(create_table_sql(table, TABLES[table]))
        # only the optional tables the sample fills; scores are written by analytics.score
        for table in GENERATED_OPTIONAL_TABLES:
            con.execute(create_table_sql(table, OPTIONAL_TABLES[table]))
        self._draw_customers()
        flags: list[np.ndarray] = []
        for m in range(HISTORY_MONTHS):
            tp = _Touchpoints()
            self._month_first_id = self.next_touchpoint_id
            self._simulate_month(m, tp, flags)
            self._write_touchpoints(con, tp)
            self._write_revenue(con, m)
            if self.progress:
                print(f"  month {m + 1:2d}/{HISTORY_MONTHS}: {self.touchpoint_count:,} touchpoints "
                      f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        if self.progress:
            print(f"  customers, flags and injected defects ({time.perf_counter() - started:.0f} s)", file=sys.stderr,
                  flush=True)
        # a churn decided near the end may fall after the as-of date: still active then
        pending = (self.churn_d > self.as_of_d) & (self.churn_d < self.never)
        self.churn_d[pending] = self.never
        self.churn_reason[pending] = -1
        # a contact that spills into the next month (repeat call, survey, late outreach) was
        # written before a churn decided in that month: drop what now falls after the churn
        # day (touchpoints after churn exist only as injected defects)
        gone = np.flatnonzero(self.churn_d < self.never)
        con.register("churn_batch", pa.table({
            "customer_id": pa.array(gone.astype(np.int64) + 1),
            "churn_date": pa.array(self.churn_d[gone].astype("datetime64[D]")),
        }))
        self.touchpoint_count -= con.execute(
            "delete from touchpoints t using churn_batch c where t.customer_id = c.customer_id "
            "and t.occurred_at >= c.churn_date + interval 1 day").fetchone()[0]
        con.unregister("churn_batch")
        self._write_flags(con, flags)
        self._write_customers(con)
        self._inject_touchpoints_after_churn(con)
        self._write_agents(con)
        self._write_defects_and_info(con)

    def _write_flags(self, con: duckdb.DuckDBPyConnection, flags: list[np.ndarray]) -> None:
        if not flags:
            return
        both = np.concatenate(flags, axis=1)
        table = pa.table({
            "customer_id": pa.array(both[0].astype(np.int64) + 1),
            "flagged_on": pa.array(both[1].astype("datetime64[D]")),
            "source": pa.array(np.full(both.shape[1], "early_warning_rules")),
        })
        con.register("flag_batch", table)
        con.execute("insert into at_risk_flags select * from flag_batch")
        con.unregister("flag_batch")

    def _write_customers(self, con: duckdb.DuckDBPyConnection) -> None:
        rng, n = self.rng, self.n
        first = rng.integers(0, len(FIRST_NAMES), n)
        last = rng.integers(0, len(LAST_NAMES), n)
        names = [f"{FIRST_NAMES[a]} {LAST_NAMES[b]}" for a, b in zip(first, last)]
        domains = rng.integers(0, len(EMAIL_DOMAINS), n)
        emails = [
            f"{FIRST_NAMES[a].lower()}.{LAST_NAMES[b].lower().replace(' ', '')}{i}@{EMAIL_DOMAINS[d]}"
            for i, (a, b, d) in enumerate(zip(first, last, domains), start=1)
        ]
        prefix = rng.integers(0, 9, n)
        number = rng.integers(0, 10_000_000, n)
        phones = [f"05{p}-{x:07d}" for p, x in zip(prefix, number)]
        churn_d = self.churn_d.copy()

        # --- injected defects (ground truth kept in injected_defects)
        ids = np.arange(1, n + 1)
        u = rng.random(n)
        rates = DEFECT_RATES
        missing_email = u < rates["missing_email"]
        invalid_email = (u >= rates["missing_email"]) & (u < rates["missing_email"] + rates["invalid_email"])
        v = rng.random(n)
        missing_phone = v < rates["missing_phone"]
        invalid_phone = (v >= rates["missing_phone"]) & (v < rates["missing_phone"] + rates["invalid_phone"])
        bad_email_forms = ("{}", "{}@", "{}@@mail.com", "{} at gmail.com")
        bad_phone_forms = ("05{}-12", "12345", "0{}-000", "phone unknown")
        emails_arr = np.array(emails, dtype=object)
        phones_arr = np.array(phones, dtype=object)
        emails_arr[missing_email] = None
        for i in np.flatnonzero(invalid_email):
            local = emails[i].split("@")[0]
            emails_arr[i] = bad_email_forms[i % len(bad_email_forms)].format(local)
        phones_arr[missing_phone] = None
        for i in np.flatnonzero(invalid_phone):
            phones_arr[i] = bad_phone_forms[i % len(bad_phone_forms)].format(i % 10)
        for defect, mask in (("missing_email", missing_email), ("invalid_email", invalid_email),
                             ("missing_phone", missing_phone), ("invalid_phone", invalid_phone)):
            self.defects += [("customers", int(i), defect, "") for i in ids[mask]]

        churned = np.flatnonzero(churn_d < self.never)
        n_cbs = int(round(len(churned) * rates["churn_before_signup"]))
        cbs = rng.choice(churned, n_cbs, replace=False) if n_cbs else np.array([], dtype=np.int64)
        churn_d[cbs] = self.signup_d[cbs] - rng.integers(1, 90, len(cbs))
        self.defects += [("customers", int(i) + 1, "churn_before_signup", "") for i in cbs]

        has_churn = churn_d < self.never
        churn_dates = np.where(has_churn, churn_d, 0).astype("datetime64[D]")
        reasons = [CHURN_REASONS[r] if r >= 0 else None for r in self.churn_reason]

        n_dup = int(round(n * rates["duplicate_customer"]))
        orig = np.sort(rng.choice(n, n_dup, replace=False))
        dup_ids = np.arange(n + 1, n + n_dup + 1)
        # a duplicate copies its original's defects (bad e-mail/phone, churn before signup):
        # record them for the copy too, so the ground truth lists every defective row
        inherited: dict[int, list[str]] = {}
        for table_name, row_id, defect, _ in self.defects:
            if table_name == "customers":
                inherited.setdefault(row_id, []).append(defect)
        self.defects += [("customers", int(d), defect, "")
                         for d, o in zip(dup_ids, orig) for defect in inherited.get(int(o) + 1, [])]
        self.defects += [("customers", int(d), "duplicate_customer", str(int(o) + 1)) for d, o in zip(dup_ids, orig)]
        all_idx = np.concatenate([np.arange(n), orig])
        # duplicates re-keyed by hand: e-mail case and spacing differ, the rest is copied
        dup_emails = [e.upper() if isinstance(e, str) else e for e in emails_arr[orig]]

        table = pa.table({
            "customer_id": pa.array(np.concatenate([ids, dup_ids]).astype(np.int64)),
            "full_name": pa.array(names + [names[i] + " " for i in orig]),
            "email": pa.array(list(emails_arr) + dup_emails, pa.string()),
            "phone": pa.array(list(phones_arr[all_idx]), pa.string()),
            "segment": _dict_array(self.segment[all_idx], SEGMENTS),
            "region": _dict_array(self.region[all_idx], REGIONS),
            "plan": _dict_array(self.plan[all_idx], PLANS),
            "contract_type": _dict_array(self.contract[all_idx], CONTRACT_TYPES),
            "acquisition_channel": _dict_array(self.acq_channel[all_idx], ACQUISITION_CHANNELS),
            "acquisition_cost": pa.array(self.acq_cost[all_idx]),
            "signup_date": pa.array(self.signup_d[all_idx].astype("datetime64[D]")),
            "churn_date": pa.array(churn_dates[all_idx], mask=~has_churn[all_idx]),
            "churn_reason": pa.array([reasons[i] for i in all_idx], pa.string()),
            "monthly_revenue": pa.array(self.mrr[all_idx]),
            "margin_rate": pa.array(PLAN_MARGIN[self.plan[all_idx]]),
            "loyalty_member": pa.array(self.loyalty[all_idx]),
            "account_owner": _dict_array(self.retention_agents[self.owner[all_idx]], self.agents),
        })
        con.register("customer_batch", table)
        con.execute("insert into customers select * from customer_batch order by customer_id")
        con.unregister("customer_batch")

    def _inject_touchpoints_after_churn(self, con: duckdb.DuckDBPyConnection) -> None:
        rng = self.rng
        churned = np.flatnonzero(self.churn_d < self.as_of_d - 10)
        k = int(round(len(churned) * DEFECT_RATES["touchpoint_after_churn"]))
        if k == 0:
            return
        who = np.sort(rng.choice(churned, k, replace=False))
        gap = np.minimum(self.as_of_d - self.churn_d[who], 60)
        day = self.churn_d[who] + 1 + (rng.random(k) * gap).astype(np.int64)
        ids = self.next_touchpoint_id + np.arange(k)
        self.next_touchpoint_id += k
        table = pa.table({
            "touchpoint_id": pa.array(ids.astype(np.int64)),
            "customer_id": pa.array(who.astype(np.int64) + 1),
            "occurred_at": pa.array(self._seconds(day) * 1_000_000, pa.timestamp("us")),
            "kind": pa.array(np.full(k, "marketing")),
            "channel": pa.array(np.full(k, "sms")),
            "direction": pa.array(np.full(k, "outbound")),
            "subject": pa.array(np.full(k, "sales")),
        })
        con.register("late_batch", table)
        con.execute(
            "insert into touchpoints (touchpoint_id, customer_id, occurred_at, kind, channel, direction, subject) "
            "select * from late_batch")
        con.unregister("late_batch")
        self.touchpoint_count += k
        self.defects += [("touchpoints", int(i), "touchpoint_after_churn", str(int(c) + 1)) for i, c in zip(ids, who)]

    def _write_agents(self, con: duckdb.DuckDBPyConnection) -> None:
        """The ``agents`` directory (analytics/agents.py): a name and a work e-mail for every
        agent code the sample uses (service ``svc-*`` and retention ``ret-*``), so owners
        and authors show as people, not codes; the first retention agent leads the team.
        Drawn from a stream of its own, so the rest of the sample is the same with or
        without it."""
        rng = np.random.default_rng([self.seed, 0xA6E])
        taken: set[str] = set()
        rows = []
        for code in self.agents:
            first, last = FIRST_NAMES[rng.integers(len(FIRST_NAMES))], LAST_NAMES[rng.integers(len(LAST_NAMES))]
            name = f"{first} {last}"
            while name in taken:  # 1,200 first × last names; a larger team gets middle initials
                name = f"{first} {chr(ord('A') + int(rng.integers(26)))}. {last}"
            taken.add(name)
            handle = name.lower().replace(". ", ".").replace(" ", ".")
            rows.append((code, name, f"{handle}@retention-radar.example",
                         "team_lead" if code == f"ret-{0:03d}" else "agent"))
        con.execute("create table agents (agent_id varchar primary key, name varchar not null, "
                    "email varchar, role varchar)")
        con.executemany("insert into agents values (?, ?, ?, ?)", rows)

    def _write_defects_and_info(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.defects:
            t = pa.table({
                "table_name": pa.array([d[0] for d in self.defects]),
                "row_id": pa.array([d[1] for d in self.defects], pa.int64()),
                "defect": pa.array([d[2] for d in self.defects]),
                "detail": pa.array([d[3] for d in self.defects]),
            })
            con.register("defect_batch", t)
            con.execute("insert into injected_defects select * from defect_batch")
            con.unregister("defect_batch")
        info = {
            "schema_version": SCHEMA_VERSION,
            "as_of_date": AS_OF.isoformat(),
            "history_start": str(np.datetime64(self.history_start_d, "D")),
            "generator_seed": str(self.seed),
            "generator_customers": str(self.n),
            "generated_by": "sample_data.generate",
            "planted_holdout_uplift": f"{self.planted_uplift():.6f}",
            "planted_holdout_window_days": str(FOLLOW_UP_DAYS),
            "generated_at": datetime.now().replace(microsecond=0).isoformat(),
        }
        con.executemany("insert into schema_info values (?, ?)", list(info.items()))


# the logged status and outcome of a proactive outreach, by the touchpoint's outcome
OUTREACH_ACTIONS = {
    "not_reached": ("attempted", "no answer"),
    "reached_no_offer": ("reached", "talked, no offer"),
    "offer_declined": ("offer_made", "declined 10% off"),
    "offer_accepted": ("saved", "accepted 10% off"),
}


def write_action_store(business: SampleBusiness, database: Path) -> Path:
    """Write the simulated year of list work into the action store next to `database`
    (``actions.sqlite``, the default store of that file — `analytics.config.actions_url`):
    the holdout groups and one logged action per proactive outreach (status and outcome
    from `OUTREACH_ACTIONS`, the agent as owner and author, dated when it happened). The
    store's previous assignments and actions — of the sample this one replaces, whose
    customers they no longer describe — are deleted in the same transaction; the audit
    log keeps its rows and gains one saying so. Returns the store's path."""
    import sqlalchemy as sa

    from analytics import actions
    from analytics.config import DEFAULT_ACTIONS_FILE

    path = Path(database).resolve().parent / DEFAULT_ACTIONS_FILE
    assignments = []
    if business.assignments:
        cust, day, held, list_as_of = (np.concatenate(c) for c in zip(*business.assignments))
        days = day.astype("datetime64[D]").astype(object)
        as_ofs = list_as_of.astype("datetime64[D]").astype(object)
        assignments = [
            {"customer_id": int(c) + 1, "period": f"{d.year:04d}", "held_out": bool(h), "share": HOLDOUT_SHARE,
             "assigned_on": d, "list_as_of": a, "assigned_by": LIST_LEAD,
             "created_at": datetime(d.year, d.month, d.day, 8, 0)}
            for c, d, h, a in zip(cust.tolist(), days, held.tolist(), as_ofs)]
    logged = []
    if business.outreach:
        cust, ts, agent, outcome = (np.concatenate(c) for c in zip(*business.outreach))
        keep = ts < (business.as_of_d + 1) * 86400  # an outreach after the as-of date has not happened yet
        order = np.argsort(ts[keep], kind="stable")
        cust, ts, agent, outcome = cust[keep][order], ts[keep][order], agent[keep][order], outcome[keep][order]
        whens = ts.astype("datetime64[s]").astype(object)
        for c, when, a, o in zip(cust.tolist(), whens, agent.tolist(), outcome.tolist()):
            status, text = OUTREACH_ACTIONS[OUTCOMES[o]]
            name = business.agents[a]
            logged.append({"customer_id": int(c) + 1, "status": status, "owner": name, "follow_up_date": None,
                           "outcome": text, "note": None, "created_at": when, "created_by": name})
    store = actions.open_store(f"sqlite:///{path}")
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.delete(actions.holdout_assignments))
            conn.execute(sa.delete(actions.customer_actions))
            if assignments:
                conn.execute(sa.insert(actions.holdout_assignments), assignments)
            if logged:
                conn.execute(sa.insert(actions.customer_actions), logged)
            conn.execute(sa.insert(actions.audit_log).values(
                occurred_at=datetime.now(timezone.utc).replace(tzinfo=None), actor="sample_data.generate",
                action="sample", detail=f"replaced with the sample's simulated year: {len(assignments)} holdout "
                f"assignments, {len(logged)} actions", row_count=len(assignments) + len(logged)))
    finally:
        store.close()
    return path


def _build_rollups(path: Path) -> None:
    """Precompute the metric rollups (analytics/rollups.py) into the finished file, before
    it is renamed into place, so `make run` and the tests start with fast metrics."""
    from analytics.db import open_database
    from analytics.rollups import build_rollups

    db = open_database(path, read_only=False)
    try:
        build_rollups(db)
        db.checkpoint()
    finally:
        db.close()


def _say(progress: bool, step: str, started: float) -> None:
    # `make run` prints what it is doing for every step over a few seconds (issue 17)
    if progress:
        print(f"  {step} ({time.perf_counter() - started:.0f} s so far)", file=sys.stderr, flush=True)


def generate(out: str | Path, customers: int = 50_000, seed: int = 7, progress: bool = False) -> GenerationSummary:
    """Write a sample database to `out` atomically (temp file in the same folder, then rename)."""
    started = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    for stale in (tmp, Path(f"{tmp}.wal")):
        stale.unlink(missing_ok=True)
    business = SampleBusiness(customers, seed, progress=progress)
    try:
        con = duckdb.connect(str(tmp))
        try:
            business.run(con)
            _say(progress, "writing the file", started)
            con.execute("checkpoint")
        finally:
            con.close()
        _say(progress, "building the metric rollups", started)
        _build_rollups(tmp)
        os.replace(tmp, out)
        _say(progress, "the retention programme's actions into the action store", started)
        write_action_store(business, out)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    return GenerationSummary(out, customers, business.touchpoint_count, business.revenue_rows,
                             time.perf_counter() - started)


EXPORT_TABLES = ("customers", "touchpoints", "monthly_revenue")


def export_csv(database: str | Path, directory: str | Path) -> Path:
    """Write a generated database as a customer's export would look: one CSV per entity
    (`customers.csv`, `touchpoints.csv`, `monthly_revenue.csv`: our column names, ISO
    dates, timestamps as `YYYY-MM-DD HH:MM:SS`, empty cells for NULL) and `mapping.toml`
    for `python -m analytics.load`. Importing it gives back the same three tables and
    as-of date / history start (tests/unit/test_load_roundtrip.py). The generator's own
    tables (`injected_defects`, `at_risk_flags`) are not part of an export. Returns the
    mapping file's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database), read_only=True)
    try:
        for table in EXPORT_TABLES:
            target = directory / f"{table}.csv"
            # DuckDB writes doubles in their shortest exact form, so they read back equal
            con.sql(f"select * from {table} order by all").write_csv(
                str(target), header=True, date_format="%Y-%m-%d", timestamp_format="%Y-%m-%d %H:%M:%S")
        info = dict(con.execute("select key, value from schema_info").fetchall())
    finally:
        con.close()

    def columns(table: str) -> str:
        return "\n".join(f'{c} = "{c}"' for c in TABLES[table])

    mapping = directory / "mapping.toml"
    mapping.write_text(f"""# Mapping of the sample generator's CSV export (python -m sample_data.generate --export-csv).
# Import it with: python -m analytics.load --mapping {mapping.name} --out your.duckdb
[import]
as_of_date = "{info['as_of_date']}"
history_start = "{info['history_start']}"
date_format = "%Y-%m-%d"
timestamp_format = "%Y-%m-%d %H:%M:%S"
max_reject_share = 0.01

[customers]
file = "customers.csv"
# the sample plants customers who churn before they sign up, for the data-quality page:
# keep them (flagged in the report) instead of rejecting them
churn_before_signup = "keep"
[customers.columns]
{columns("customers")}

[touchpoints]
file = "touchpoints.csv"
[touchpoints.columns]
{columns("touchpoints")}

[revenue]
file = "monthly_revenue.csv"
shape = "monthly"
[revenue.columns]
{columns("monthly_revenue")}
""", encoding="utf-8")
    return mapping


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50_000, help="number of customers (default 50,000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output DuckDB file (default: $RETENTION_DB or data/sample.duckdb)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--export-csv", type=Path, default=None, metavar="DIR",
                        help="write the sample as an export instead (CSV files + mapping.toml in DIR, "
                             "for python -m analytics.load); with --out the database is kept too")
    parser.add_argument("--if-missing", action="store_true",
                        help="do nothing when the output file already exists (used by `make run`)")
    args = parser.parse_args(argv)
    if args.export_csv is not None:
        keep = args.out
        out = keep or args.export_csv / f".sample-{os.getpid()}.duckdb"
        try:
            generate(out, args.customers, args.seed, progress=not args.quiet)
            mapping = export_csv(out, args.export_csv)
        except ValueError as err:
            parser.error(str(err))
        finally:
            if keep is None:
                out.unlink(missing_ok=True)
        print(f"wrote the export to {args.export_csv} (import it with "
              f"python -m analytics.load --mapping {mapping})")
        return 0
    if args.out is None:
        from analytics.config import database_path

        args.out = database_path()
    if args.if_missing and args.out.exists():
        print(f"{args.out} exists; not regenerating (delete it to start over)")
        return 0
    try:
        summary = generate(args.out, args.customers, args.seed, progress=not args.quiet)
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {summary.path}: {summary.customers:,} customers, {summary.touchpoints:,} touchpoints, "
          f"{summary.revenue_rows:,} revenue rows in {summary.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
