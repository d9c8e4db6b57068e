"""The headline KPIs, assembled once: each number with the window it covers, the window it
is compared with, the n behind it, its trend and the takeaways around it.

The Overview page, the leadership deck, the PDF and Presentation mode all render the one
`Headlines` that `headline_kpis` returns, so a KPI cannot read "up" on one and "held" on
another. Nothing here formats for a particular screen beyond the shared number formats
(`analytics.formatting`), and nothing imports streamlit.

Windows (`analytics.periods`): rates over the quarter holding the as-of date, to date,
against the same days of the previous quarter (the default, and what the deck shows), or
over the sidebar's period against the equally long period before it. A comparison window
that starts before the data's history is not compared (its "previous" is NaN): before the
history there are no churn records, so it would look like a perfect quarter.

Targets are set for the whole business (`config/targets.toml`), so they are compared only
when no segment, region or plan filter is set; under such a filter the comparison is hidden
and `targets_note` says why.

A single snapshot (`analytics.catalog.data_present`'s ``churn_dates`` is False: every
churned customer has the same churn date, the as-of date the importer gave a Yes/No churn
flag) records who has left, not when. Everything that depends on WHEN customers left — logo
and revenue churn, NRR and GRR over a window, the monthly trends, the movers, churn by
segment over the window, and the active count at the previous window's end (churners
would count as active then) — is replaced by one note (`Headlines.churn_dates_note`,
"Churn over time needs churn dates — …"); what a snapshot does tell (active customers on
the as-of date, saved customers, CLV from dated revenue) stays. The page, the deck, the
PDF and Presentation mode all read the note from here.

Colour: a KPI card's delta follows `change_tone` — whether the change against the previous
window is good for the business (churn up is bad, NRR up is good), neutral within sampling
noise; `tone` is the sparkline's fitted trend (`analytics.takeaways.trend_of`), which the
deck and PDF report in words. A rate over fewer than `takeaways.MIN_N` customers is
neutral (greyed) whatever it shows.

Recurring revenue (`RecurringRevenue`): MRR, ARR and ARPA on the window's last day against
the previous window's, and the MRR waterfall of the window (`metrics.mrr_waterfall`),
assembled here once like the KPIs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from analytics import formatting as fmt
from analytics import metrics, periods, takeaways
from analytics.at_risk import RiskSummary, margin_at_risk, margin_at_risk_trend
from analytics.catalog import data_present, history_start, needs
from analytics.db import Database
from analytics.filters import RetentionFilter
from analytics.metrics._common import empty_frame
from analytics.metrics.purchase_value import (ALIVE_THRESHOLD, RECENT_DAYS, has_churn_dates, purchase_log_file,
                                              purchase_summary, purchase_value, purchases_in_period)
from analytics.metrics.targets import COMPARISON_COLUMNS
from analytics.takeaways import MIN_N, Trend, enough, trend_of

SPARK_QUARTERS = 4
# why a period churn KPI is not shown on a single snapshot (the card's text; see the module docstring)
SNAPSHOT_REASON = "needs churn dates — the data records who has left, not when (a single snapshot)"
MOVER_DIMENSIONS = ("segment", "region", "plan", "contract_type")


@dataclass(frozen=True)
class Kpi:
    """One headline number.

    ``value`` is over the current window (``window``), ``previous`` over the window it is
    compared with (``previous_window``; NaN when that is before the history). ``n`` is the
    customers behind a rate — its denominator (NaN for counts and money). ``target`` is
    the quarter's target (NaN without one, or under a population filter). ``trend`` is the
    sparkline with its fitted direction; ``explanation`` says in a sentence what the number
    is, with this window's counts; ``anchor`` is its heading in docs/metrics.md."""

    key: str
    name: str
    value: float
    previous: float
    target: float
    kind: str  # "count" | "rate" | "money"
    higher_is_better: bool
    window: str
    previous_window: str
    anchor: str
    explanation: str = ""
    n: float = math.nan
    previous_n: float = math.nan
    trend: Trend | None = None
    trend_name: str = ""  # what one sparkline point is: "month ends", "monthly rate", ...
    unavailable: str = ""  # why the number could not be computed ("" when it was)
    needs: str = ""  # the same in a few words, for the card ("Needs churn scores.")

    @property
    def change(self) -> float:
        return self.value - self.previous

    @property
    def reliable(self) -> bool:
        """False for a rate over fewer than `MIN_N` customers (shown greyed, no claim)."""
        return self.kind != "rate" or enough(self.n)

    @property
    def met(self) -> bool | None:
        if math.isnan(self.target) or math.isnan(self.value):
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    @property
    def tone(self) -> str:
        """"good", "bad" or "neutral": the direction of the sparkline's fitted trend judged
        by whether higher is better; neutral when flat, unknown or over too few customers."""
        if not self.reliable or self.trend is None:
            return "neutral"
        good = self.trend.good(self.higher_is_better)
        return "neutral" if good is None else ("good" if good else "bad")

    @property
    def change_tone(self) -> str:
        """"good", "bad" or "neutral": the change against the previous window judged by
        whether higher is better (churn up is bad, NRR up is good) — the colour of the
        card's delta. Neutral without a change, for a rate over too few customers, and for
        a rate whose change is within sampling noise (`takeaways.rate_change_is_clear`,
        revenue rates clipped to [0, 1] for the noise band)."""
        if math.isnan(self.value) or math.isnan(self.previous) or self.change == 0:
            return "neutral"
        if self.kind == "rate":
            clip = lambda p: min(max(p, 0.0), 1.0)  # noqa: E731  (NRR may pass 100%)
            if not takeaways.rate_change_is_clear(clip(self.value), self.n, clip(self.previous), self.previous_n):
                return "neutral"
        return "good" if (self.change > 0) == self.higher_is_better else "bad"

    @property
    def change_words(self) -> str:
        """What the delta compares, short enough for a card: "vs Q2 2026", "vs 30 Jun 2026",
        "vs 01 Oct 2024 – 30 Sep 2025"; "" without a change. The previous value itself is
        in `previous_words` (the card's help)."""
        if not self.previous_window or math.isnan(self.value) or math.isnan(self.previous):
            return ""
        return f"vs {self.previous_window}"

    @property
    def previous_words(self) -> str:
        """The previous window's value in a sentence: "Q2 2026: 3.67%."; "" without one."""
        return f"{self.previous_window}: {self.show(self.previous)}." if self.change_words else ""

    @property
    def trend_words(self) -> str:
        """The trend in a few words for the card ("trend rising", "no clear trend")."""
        if self.trend is None:
            return ""
        return {"rising": "trend rising", "falling": "trend falling", "flat": "no clear trend"}.get(
            self.trend.direction, "")

    def show(self, value: float) -> str:
        if self.kind == "count":
            return fmt.count(value)
        if self.kind == "money":
            return fmt.money(value)
        return fmt.percent(value, 2)

    def show_change(self) -> str:
        if math.isnan(self.value) or math.isnan(self.previous):
            return "—"
        if self.kind == "count":
            return fmt.signed_count(self.change)
        if self.kind == "money":
            return fmt.signed_money(self.change)
        return fmt.points(self.change, 2)

    @property
    def n_note(self) -> str:
        """"n = 9,812" for a rate, with the small-sample warning when below `MIN_N`."""
        if self.kind != "rate" or math.isnan(self.n):
            return ""
        return f"n = {fmt.compact_count(self.n)}" if self.reliable else f"n = {fmt.count(self.n)}, too few"


@dataclass(frozen=True)
class RecurringRevenue:
    """MRR, ARR and ARPA on the current window's last day against the previous window's
    last day, and the window's MRR waterfall (`metrics.mrr_waterfall`,
    docs/metrics.md#mrr-waterfall). ``note`` says why nothing is shown ("" when it is);
    ``opening_note`` why the waterfall opens later than the window (the history's first
    month: left truncation); ``waterfall_note`` why only the waterfall is hidden (a single
    snapshot has no churn dates)."""

    kpis: tuple[Kpi, ...] = ()
    waterfall: pd.DataFrame = field(default_factory=pd.DataFrame)
    takeaway: str = ""
    note: str = ""
    opening_note: str = ""
    waterfall_note: str = ""

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


MRR_NEEDS = "MRR, ARR, ARPA and the MRR movements need monthly revenue per customer"


def recurring_revenue(db: Database, cmp: periods.Comparison, first_day: date, has_previous: bool,
                      present: dict, churn_dates_note: str = "") -> RecurringRevenue:
    """The Overview's recurring-revenue section for window `cmp` (see `RecurringRevenue`):
    MRR, ARR (12 × MRR) and ARPA (MRR ÷ paying customers) on ``cmp.current.end`` against
    ``cmp.previous.end``, and the MRR waterfall over ``cmp.current``. Without a
    ``monthly_revenue`` table with rows (a customers-only export, a purchase log) only a
    one-line note."""
    if not present.get("revenue") or purchase_log_file(present):
        why = "a purchase log has none" if purchase_log_file(present) else "the data has none"
        return RecurringRevenue(note=f"{MRR_NEEDS} — {why}.")
    now = metrics.mrr_waterfall(db, cmp.current, first_day)
    if now.empty:
        return RecurringRevenue(note=f"{MRR_NEEDS} from before the window: the history starts "
                                     f"{first_day:%d %b %Y}, so the first month's opening MRR is unknown.")
    before = metrics.mrr_waterfall(db, cmp.previous, first_day) if has_previous else now.iloc[0:0]
    row, prev = now.iloc[0], (before.iloc[0] if not before.empty else None)
    closing, closing_before = f"{row['closing_day']:%d %b %Y}", (f"{prev['closing_day']:%d %b %Y}" if prev is not None else "")

    def pair(column: str) -> tuple[float, float]:
        return float(row[column]), (float(prev[column]) if prev is not None else math.nan)

    paying = fmt.count(row["paying_customers"])
    kpis = (
        Kpi("mrr", "MRR", *pair("closing_mrr"), math.nan, "money", True, closing, closing_before, "mrr",
            f"Monthly recurring revenue on {closing}: the month's MRR of the {paying} customers active and "
            "paying that day (a customer who churned counts 0 from the churn date)."),
        Kpi("arr", "ARR", *pair("arr"), math.nan, "money", True, closing, closing_before, "arr",
            f"Annual run rate on {closing}: 12 × MRR."),
        Kpi("arpa", "ARPA", *pair("arpa"), math.nan, "money", True, closing, closing_before, "arpu",
            f"Average MRR per paying account on {closing}: MRR ÷ the {paying} customers paying that day."),
    )
    opened = row["opening_day"].date()
    opening_note = ""
    if opened != cmp.current.start - timedelta(days=1):
        opening_note = (f"The movements start on {opened:%d %b %Y}: the history starts {first_day:%d %b %Y}, and "
                        "before the end of its first month nobody's previous MRR is known (a customer paying "
                        "since before the history would look new).")
    return RecurringRevenue(
        kpis=kpis, waterfall=now, opening_note=opening_note,
        takeaway=churn_dates_note or takeaways.mrr_waterfall_takeaway(row, cmp.name),
        waterfall_note=churn_dates_note,
    )


@dataclass(frozen=True)
class Headlines:
    """The Overview's story for one filter and window mode (see the module docstring)."""

    filter: RetentionFilter
    mode: str
    comparison: periods.Comparison
    has_previous: bool
    quarter: str
    kpis: tuple[Kpi, ...]
    risk: RiskSummary
    targets: pd.DataFrame
    targets_note: str  # why targets are not compared ("" when they are)
    targets_error: str | None
    targets_takeaway: str
    monthly_churn: pd.DataFrame
    monthly_revenue: pd.DataFrame
    churn_trend_takeaway: str
    revenue_retention_takeaway: str
    movers: pd.DataFrame
    movers_takeaway: str
    segments_now: pd.DataFrame  # churn by segment over the current window
    segments_before: pd.DataFrame  # ... and over the previous one (empty before the history)
    # why churn over time (period churn, trends, movers, churn by segment) is not shown: a
    # single snapshot, "" when the data has churn dates (module docstring)
    churn_dates_note: str = ""
    recurring: RecurringRevenue = field(default_factory=RecurringRevenue)
    quarter_name: str = ""  # the targets' quarter as a reader sees it: "Q3 2026"

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)

    @property
    def empty(self) -> bool:
        """No customer of the selection exists in the period (nothing to show)."""
        return self.monthly_churn.empty


def _first(df: pd.DataFrame, column: str) -> float:
    return float(df[column].iloc[0]) if not df.empty and column in df.columns else math.nan


def population_filtered(flt: RetentionFilter) -> bool:
    return bool(flt.segments or flt.regions or flt.plans)


def headline_kpis(db: Database, flt: RetentionFilter, mode: str = periods.QUARTER_TO_DATE) -> Headlines:
    """Every headline KPI of `flt` in window `mode` (`periods.WINDOW_MODES`), with the
    Overview's trends, targets and movers and their takeaways (module docstring)."""
    cmp = periods.comparison(flt, mode)
    first_day = history_start(db)
    has_previous = cmp.previous.start >= first_day
    quarter = periods.current_quarter(flt)
    monthly_churn = metrics.churn_by_period(db, flt, "month")
    monthly_revenue = metrics.revenue_retention(db, flt, "month")

    churn_now, churn_before = metrics.churn_summary(db, cmp.current), metrics.churn_summary(db, cmp.previous)
    revenue_now = metrics.revenue_retention(db, cmp.current, "range")
    revenue_before = metrics.revenue_retention(db, cmp.previous, "range")
    active_now = float(metrics.active_customers(db, flt))
    active_before = float(metrics.active_customers(db, cmp.previous))

    # quarterly sparklines: one query per series, not one per quarter
    quarters = periods.quarter_windows(flt, SPARK_QUARTERS)
    clv_at = metrics.average_clv_at(db, flt, tuple(q.end for q in quarters) + (cmp.previous.end,))
    clv_at = clv_at.set_index(clv_at["as_of"].dt.date)
    saves_window = periods.quarter_to_date(flt)
    saves = metrics.saved_customers_by_period(
        db, flt, tuple((q.start, q.end) for q in quarters) + ((saves_window.previous.start, saves_window.previous.end),))
    saves = dict(zip(zip(saves["start"].dt.date, saves["end"].dt.date), saves["saved"].astype(float)))
    saves_by_quarter = [saves.get((q.start, q.end), 0.0) for q in quarters]
    saves_before = saves.get((saves_window.previous.start, saves_window.previous.end), 0.0)
    saves_previous_ok = saves_window.previous.start >= first_day
    quarter_is_whole = " to " not in saves_window.name

    risk = margin_at_risk(db, flt)
    risk_trend = margin_at_risk_trend(db, flt) if risk.available else None

    def rate_trend(frame: pd.DataFrame, column: str, n_column: str) -> Trend:
        if frame.empty or column not in frame.columns:
            return trend_of([])
        return trend_of(frame[column], frame[n_column], ~frame["partial"].astype(bool))

    window, before = cmp.name, cmp.previous_name
    churned, at_start = _first(churn_now, "churned_from_start"), _first(churn_now, "active_start")
    kpis = [
        Kpi("active_customers", "Active customers", active_now, active_before, math.nan, "count", True,
            f"{flt.as_of:%d %b %Y}", f"{cmp.previous.end:%d %b %Y}", "active-customers",
            f"Customers whose relationship had started and not ended on {flt.as_of:%d %b %Y}.",
            trend=trend_of(monthly_churn["active_end"]) if not monthly_churn.empty else trend_of([]),
            trend_name="month ends"),
        Kpi("logo_churn", "Logo churn", _first(churn_now, "churn_rate"), _first(churn_before, "churn_rate"),
            math.nan, "rate", False, window, before, "logo-churn-rate",
            f"{fmt.count(churned)} of the {fmt.count(at_start)} customers active at the start of {window} "
            "left during it.",
            n=at_start, previous_n=_first(churn_before, "active_start"),
            trend=rate_trend(monthly_churn, "churn_rate", "active_start"), trend_name="monthly rate"),
        Kpi("revenue_churn", "Revenue churn", _first(revenue_now, "gross_revenue_churn"),
            _first(revenue_before, "gross_revenue_churn"), math.nan, "rate", False, window, before,
            "gross-revenue-churn",
            f"Churned plus contraction MRR of the {fmt.count(_first(revenue_now, 'start_customers'))} customers "
            f"active at the start of {window} ÷ their MRR then.",
            n=_first(revenue_now, "start_customers"), previous_n=_first(revenue_before, "start_customers"),
            trend=rate_trend(monthly_revenue, "gross_revenue_churn", "start_customers"), trend_name="monthly rate"),
        Kpi("nrr", "Net revenue retention", _first(revenue_now, "nrr"), _first(revenue_before, "nrr"),
            math.nan, "rate", True, window, before, "nrr",
            f"MRR at the end of {window} from the customers active at its start ÷ their MRR at the start "
            "(expansion counts; leavers count 0).",
            n=_first(revenue_now, "start_customers"), previous_n=_first(revenue_before, "start_customers"),
            trend=rate_trend(monthly_revenue, "nrr", "start_customers"), trend_name="monthly NRR"),
        Kpi("grr", "Gross revenue retention", _first(revenue_now, "grr"), _first(revenue_before, "grr"),
            math.nan, "rate", True, window, before, "grr",
            "As NRR, with each customer's MRR capped at its start value (no expansion).",
            n=_first(revenue_now, "start_customers"), previous_n=_first(revenue_before, "start_customers"),
            trend=rate_trend(monthly_revenue, "grr", "start_customers"), trend_name="monthly GRR"),
        Kpi("average_clv", "Average historical CLV", float(clv_at.loc[quarters[-1].end, "average_clv"]),
            float(clv_at.loc[cmp.previous.end, "average_clv"]), math.nan, "money", True,
            f"{flt.as_of:%d %b %Y}", f"{cmp.previous.end:%d %b %Y}", "historical-clv",
            f"Margin earned to date per customer, over the {fmt.count(clv_at.loc[quarters[-1].end, 'customers'])} "
            f"customers who ever signed up. {metrics.history_truncation(db, flt).sentence()}".strip(),
            trend=trend_of([clv_at.loc[q.end, "average_clv"] for q in quarters]), trend_name="quarter ends"),
        Kpi("saved_customers", "Saved customers", saves_by_quarter[-1],
            saves_before if saves_previous_ok else math.nan, math.nan, "count", True,
            saves_window.name, saves_window.previous_name, "saved-customers",
            f"Customers who asked to cancel in {saves_window.name}, accepted a retention offer and are still "
            "active.",
            trend=trend_of(saves_by_quarter, whole=[True] * (len(quarters) - 1) + [quarter_is_whole]),
            trend_name="quarters"),
    ]
    if risk.available:
        earlier = risk_trend[risk_trend["scored_on"].dt.date < risk.scored_on]
        kpis.append(Kpi(
            "margin_at_risk", "Margin at risk", risk.total_expected_loss,
            float(earlier["expected_loss"].iloc[-1]) if not earlier.empty else math.nan, math.nan, "money", False,
            f"scores of {risk.scored_on:%d %b %Y}",
            f"{pd.Timestamp(earlier['scored_on'].iloc[-1]):%d %b %Y}" if not earlier.empty else "",
            "margin-at-risk",
            f"Σ churn probability (90 days) × future margin over the {fmt.count(risk.customers)} active customers; "
            f"the riskiest {risk.top_share:.0%} hold {fmt.percent(risk.top_loss_share, 0)} of it. Earlier "
            "month-end scorings are backfilled with the current model.",
            trend=trend_of(risk_trend["expected_loss"]), trend_name="month-end scorings"))
    else:
        kpis.append(Kpi("margin_at_risk", "Margin at risk", math.nan, math.nan, math.nan, "money", False,
                        "", "", "margin-at-risk", unavailable=risk.message + " Run `make scores` with the dashboard stopped.",
                        needs="Needs churn scores (make scores)."))
    # a number whose data the file lacks says so, instead of showing 0 (customers-only exports)
    present = data_present(db)
    missing = {key: reason for keys, ok, reason in (
        (("revenue_churn", "nrr", "grr"), present["revenue"], "needs monthly revenue — the data has none"),
        (("average_clv",), present["revenue"] or present["purchases"],
         "needs revenue or purchases — the data has neither"),
        (("saved_customers",), present["requests"], "needs cancellation requests — the data has none"),
    ) if not ok for key in keys}
    purchase_log = purchase_log_file(present)
    if purchase_log:  # customers who buy without subscriptions (docs/metrics.md#purchase-log-value)
        missing.update({key: "subscription-only, needs monthly revenue — a purchase log has none"
                        for key in ("revenue_churn", "nrr", "grr")})
        if not has_churn_dates(db):
            missing["logo_churn"] = ("needs churn dates — a purchase log has none; active customers follow the "
                                     "purchase rule instead")
    # a single snapshot: a period rate would count every churner as leaving on the as-of date
    churn_dates_note = "" if present["churn_dates"] else needs("churn_dates", "Churn over time")
    if churn_dates_note:
        missing.update({key: SNAPSHOT_REASON
                        for key in ("logo_churn",) + (() if purchase_log else ("revenue_churn", "nrr", "grr"))})
    kpis = [replace(k, value=math.nan, previous=math.nan, trend=None, unavailable=missing[k.key].capitalize() + ".",
                    needs=missing[k.key].split(" — ")[0].capitalize() + ".")
            if k.key in missing else k for k in kpis]
    if churn_dates_note:  # active on the as-of date is right; at the previous window's end it is not
        kpis = [replace(k, previous=math.nan, trend=None, trend_name="") if k.key == "active_customers" else k
                for k in kpis]
    if purchase_log:
        kpis = purchase_log_kpis(db, flt, cmp, kpis)
    if not has_previous:  # the comparison window starts before the history: nothing to compare
        kpis = [k if k.key in ("saved_customers", "margin_at_risk") else replace(k, previous=math.nan) for k in kpis]

    targets, targets_error, targets_note = empty_frame(COMPARISON_COLUMNS), None, ""
    if population_filtered(flt):
        targets_note = ("Targets are set for the whole business: clear the segment, region and plan filters "
                        "to compare against them.")
    else:
        try:
            actuals = None
            window_q = metrics.quarter_window(flt, quarter)
            if mode == periods.QUARTER_TO_DATE and window_q is not None:  # the KPIs' own window
                actuals = metrics.actuals_from(churn_now, revenue_now, int(saves_by_quarter[-1]))
            targets = metrics.targets_vs_actuals(db, flt, quarter, actuals=actuals)
        except (FileNotFoundError, ValueError) as err:  # a broken targets file must not stop the page
            targets_error = f"The quarterly targets could not be read: {err}"
    if not targets.empty:  # a target whose actual needs missing data is not met or missed
        blind = targets["metric"].isin([metric for metric, key in (
            ("churn_rate", "logo_churn"), ("nrr", "nrr"), ("saved_customers", "saved_customers")) if key in missing])
        targets.loc[blind, ["actual", "gap"]] = math.nan
        targets["met"] = targets["met"].mask(blind, pd.NA)
    target = dict(zip(targets["metric"], targets["target"])) if not targets.empty else {}
    kpis = [replace(k, target=target.get(name, math.nan)) if name else k
            for k, name in ((k, {"logo_churn": "churn_rate", "nrr": "nrr", "saved_customers": "saved_customers"}
                             .get(k.key)) for k in kpis)]

    movers_now = metrics.churn_by_dimensions(db, cmp.current, MOVER_DIMENSIONS)
    movers_before = metrics.churn_by_dimensions(db, cmp.previous, MOVER_DIMENSIONS) if has_previous \
        else movers_now.iloc[0:0]
    movers = takeaways.churn_movers(movers_now, movers_before)
    if churn_dates_note:  # churn over a window, by group: when-dependent
        movers, movers_now, movers_before = movers.iloc[0:0], movers_now.iloc[0:0], movers_before.iloc[0:0]
    return Headlines(
        filter=flt, mode=mode, comparison=cmp, has_previous=has_previous, quarter=quarter, kpis=tuple(kpis),
        risk=risk, targets=targets, targets_note=targets_note, targets_error=targets_error,
        targets_takeaway=(takeaways.targets_takeaway(targets, periods.quarter_name(flt.as_of))
                          if not targets_note else targets_note),
        monthly_churn=monthly_churn, monthly_revenue=monthly_revenue,
        churn_trend_takeaway=churn_dates_note or takeaways.churn_trend_takeaway(monthly_churn),
        revenue_retention_takeaway=churn_dates_note or takeaways.revenue_retention_takeaway(monthly_revenue),
        movers=movers, movers_takeaway=churn_dates_note or takeaways.movers_takeaway(movers),
        segments_now=movers_now[movers_now["dimension"] == "segment"].reset_index(drop=True),
        segments_before=movers_before[movers_before["dimension"] == "segment"].reset_index(drop=True),
        churn_dates_note=churn_dates_note,
        recurring=recurring_revenue(db, cmp, first_day, has_previous, present, churn_dates_note),
        quarter_name=periods.quarter_name(flt.as_of),
    )


def purchase_log_kpis(db: Database, flt: RetentionFilter, cmp: periods.Comparison, kpis: list[Kpi]) -> list[Kpi]:
    """The headline KPIs of a purchase-log file (docs/metrics.md#purchase-log-value): active
    customers by the purchase rule (bought within `RECENT_DAYS` days, or a repeat buyer with
    P(alive) ≥ `ALIVE_THRESHOLD`), purchases and purchase revenue over the window against
    the previous one, average predicted CLV, and — without churn scores — margin at risk as
    Σ (1 − P(alive)) × value if alive. The KPIs that can be shown come first; the
    subscription-only ones keep their one-line reason."""
    value = purchase_value(db, flt)
    summary = purchase_summary(value)
    now, before = purchases_in_period(db, cmp.current).iloc[0], purchases_in_period(db, cmp.previous).iloc[0]
    as_of, window, previous = f"{flt.as_of:%d %b %Y}", cmp.name, cmp.previous_name
    no_fit = {"unavailable": value.message, "needs": "Needs a purchase model (too little data)."}
    rule = (f"Customers who bought within {RECENT_DAYS} days of {as_of}, or bought more than once and are still "
            f"alive with probability ≥ {ALIVE_THRESHOLD:.0%} (BG/NBD), of the {fmt.count(summary.buyers)} who "
            "ever bought.")
    active = (replace(kpis[0], value=float(summary.active), previous=math.nan, explanation=rule,
                      anchor="purchase-log-value", trend=None, trend_name="")
              if summary.available else replace(kpis[0], value=math.nan, previous=math.nan, trend=None, **no_fit))
    added = [
        Kpi("purchases", "Purchases", float(now["purchases"]), float(before["purchases"]), math.nan, "count", True,
            window, previous, "purchase-log-value",
            f"Purchases in {window} by {fmt.count(now['buyers'])} customers."),
        Kpi("purchase_revenue", "Purchase revenue", float(now["purchase_revenue"]),
            float(before["purchase_revenue"]), math.nan, "money", True, window, previous, "purchase-log-value",
            f"Σ amount of the purchases in {window} (revenue, before margin)."),
        Kpi("predicted_clv", "Average predicted CLV", summary.average_predicted_clv, math.nan, math.nan, "money",
            True, as_of, "", "purchase-log-value",
            f"Expected margin of the next {value.horizon_months} months per customer who ever bought (BG/NBD "
            "purchases × Gamma-Gamma spend × margin rate, discounted 10% a year).")
        if summary.available else
        Kpi("predicted_clv", "Average predicted CLV", math.nan, math.nan, math.nan, "money", True, "", "",
            "purchase-log-value", **no_fit),
    ]
    rest = []
    for k in kpis[1:]:
        if k.key == "margin_at_risk" and k.unavailable and summary.available:
            k = replace(k, value=summary.total_expected_loss, previous=math.nan, unavailable="", needs="",
                        window=as_of, previous_window="", anchor="purchase-log-value", trend=None, trend_name="",
                        explanation=f"Σ (1 − P(alive)) × value if alive over the {fmt.count(summary.buyers)} "
                        f"customers who ever bought: the margin of the next {value.horizon_months} months lost "
                        "if those who have stopped buying are gone (BG/NBD; no churn scores needed).")
        rest.append(k)
    return [active, *added, *(k for k in rest if not k.unavailable), *(k for k in rest if k.unavailable)]
