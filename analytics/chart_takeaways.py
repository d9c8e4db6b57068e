"""Takeaway titles of the dashboard's own charts: the sentence each chart in `charts/` leads
with, written from the same metric frame the chart draws. The rules shared with the deck and
the PDF live in `analytics.takeaways`; these are the page-only ones, kept apart from the
drawing code so that `charts/` only draws (issue 15).

The same guards apply as in `analytics.takeaways`: no claim from fewer than `MIN_N`
customers (or requests, contacts, leavers) behind a rate, and no "more than" between two
rates unless the difference is beyond noise (`rate_change_is_clear`).

Each function takes the frame or result its chart takes and returns text; nothing here
queries the database or imports streamlit or plotly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics import formatting as fmt
from analytics.takeaways import (FCR_EXPECTATION, MIN_N, REACH_BASELINE, enough, rate_change_is_clear,
                                 reach_verdict, too_few)

MIN_FOLLOWED_FOR_TAKEAWAY = 20  # a note signal's churn rate over fewer customers is too noisy to headline
SLA_SHORTFALL = 0.9  # SLA attainment below this is written "only x%"
CALIBRATED_WITHIN = 0.02  # a model within 2 points of observed churn in every bin is called calibrated


def direction(first: float, last: float, tolerance: float) -> str:
    """Whether a customer's own series "rose", "fell" or "held steady" from `first` to
    `last`; a change within `tolerance` counts as steady (no sampling noise to test)."""
    if last > first + tolerance:
        return "rose"
    if last < first - tolerance:
        return "fell"
    return "held steady"


# --- Churn funnel ----------------------------------------------------------------------------

def funnel_chart_takeaway(funnel: pd.DataFrame) -> str:
    """Reach rate against the case study's baseline, from a `retention_funnel` frame (the
    ``reached`` step's share of the start); no verdict under `MIN_N` requests."""
    reached = funnel.loc[funnel["step"] == "reached", "share_of_start"]
    started = float(funnel["count"].iloc[0]) if len(funnel) else 0.0
    if len(reached) and not pd.isna(reached.iloc[0]) and not enough(started):
        return (f"Reach rate {fmt.percent(float(reached.iloc[0]), 0)} of {fmt.count(started)} — "
                f"fewer than {MIN_N}, too few to read")
    if len(reached) and not pd.isna(reached.iloc[0]):
        rate = float(reached.iloc[0])
        return (f"Reach rate {fmt.percent(rate, 0)} — {reach_verdict(rate)} the "
                f"{REACH_BASELINE[0]:.0%}–{REACH_BASELINE[1]:.0%} baseline")
    return "Retention funnel"


def reach_judged(requests: float | None) -> bool:
    """Whether a reach rate over `requests` gets a verdict (unknown n: yes)."""
    return requests is None or enough(requests)


def reach_meets_baseline(reach_rate: float) -> bool:
    """A reach rate at or above the baseline's low end reads as good."""
    return reach_rate >= REACH_BASELINE[0]


def reach_gauge_takeaway(reach_rate: float, requests: float | None = None) -> str:
    """The reach rate's verdict against the baseline, or "too few" under `MIN_N` requests."""
    if not reach_judged(requests):
        return f"{fmt.count(requests)} requests: too few to judge"
    return f"{reach_verdict(reach_rate).capitalize()} the baseline"


def rate_by_group_takeaway(summary: pd.DataFrame, dimension: str, rate: str, rate_name: str,
                           n_column: str = "requests") -> str:
    """The range of `rate` over the groups with at least `MIN_N` (`n_column`) behind them:
    lowest and highest group; none named when no group has enough."""
    df = summary.dropna(subset=[rate]).sort_values(rate, ascending=True)
    judged = df[[enough(n) for n in df[n_column]]] if n_column in df.columns else df
    if len(judged) >= 2:
        hi, lo = judged.iloc[-1], judged.iloc[0]
        return (f"{rate_name} from {fmt.percent(lo[rate], 0)} ({fmt.label(lo['group'])}) "
                f"to {fmt.percent(hi[rate], 0)} ({fmt.label(hi['group'])})")
    if len(judged) == 1:
        return f"{rate_name} {fmt.percent(judged.iloc[0][rate], 0)} ({fmt.label(judged.iloc[0]['group'])})"
    if len(df):
        return f"{rate_name} by {fmt.label(dimension).lower()}: fewer than {MIN_N} behind each group, too few to read"
    return rate_name


def response_times_takeaway(summary: pd.DataFrame, sla_hours: float) -> str:
    """Share of requests due an attempt that had it within `sla_hours`, over all request
    channels (``within_sla`` ÷ ``sla_due`` of `retention_funnel_summary(by="channel")`)."""
    total_due, total_within = summary["sla_due"].sum(), summary["within_sla"].sum()
    attainment = total_within / total_due if total_due else float("nan")
    return (f"{fmt.percent(attainment, 0)} of {fmt.count(total_due)} requests had a first attempt within {sla_hours:g} h"
            if enough(total_due) else
            f"First attempt within {sla_hours:g} h: {too_few(total_due).replace('customers', 'requests')}")


def reasons_takeaway(reasons: pd.DataFrame) -> str:
    """The top churn reason (`churn_reasons`, largest first) and its share of the leavers."""
    if reasons.empty:
        return "No churn reasons recorded"
    if not enough(reasons["churned"].sum()):
        return f"Churn reasons: {too_few(reasons['churned'].sum()).replace('customers', 'leavers')}"
    top = reasons.iloc[0]
    return (f"{fmt.label(top.reason)} is the top reason: {fmt.percent(top.share, 0)} of "
            f"{fmt.count(reasons['churned'].sum())} leavers")


def proactive_comparison_takeaway(comparison: pd.DataFrame) -> str:
    """The gap in 90-day retention between flagged customers reached and not reached
    (descriptive: who gets reached is not random)."""
    rates = dict(zip(comparison["group"], comparison["retention_90d"]))
    if "reached" in rates and "not reached" in rates:
        gap = rates["reached"] - rates["not reached"]
        return f"Reached at-risk customers: {fmt.points(gap, 1)} 90-day retention vs not reached"
    return "90-day retention of flagged customers"


# --- Retention by segment ----------------------------------------------------------------------

def cohort_takeaway(cohorts: pd.DataFrame, basis: str) -> str:
    """What the oldest cohort (`cohort_retention`) kept of its customers (`basis` "logo")
    or starting MRR by its last observed month."""
    grid = cohorts.pivot(index="cohort", columns="months_since_signup", values="retention").sort_index()
    what = "customers" if basis == "logo" else "starting MRR"
    oldest = grid.iloc[0].dropna()
    if len(oldest) > 1:
        k = int(oldest.index[-1])
        label = pd.Timestamp(grid.index[0]).strftime("%b %Y")
        return (f"The {label} cohort kept {fmt.percent(oldest.iloc[-1], 0)} of its {what} "
                f"after {k} month{'s' if k != 1 else ''}")
    return "Cohort retention"


def survival_takeaway(medians: pd.DataFrame, dimension: str | None) -> str:
    """Longest- and shortest-lived groups by Kaplan–Meier median lifetime (an unreached
    median, infinite, counts as the longest), or the one median."""
    if dimension and len(medians) >= 2:
        order = medians.assign(sort_key=medians["median_lifetime"].replace(np.inf, 1e9)).sort_values("sort_key")
        best, worst = order.iloc[-1], order.iloc[0]
        return (f"{fmt.label(best.group)} customers last longest "
                f"(median {fmt.months(best.median_lifetime, 0)}); "
                f"{fmt.label(worst.group)} shortest ({fmt.months(worst.median_lifetime, 0)})")
    if len(medians) == 1:
        return f"Median customer lifetime: {fmt.months(medians.iloc[0].median_lifetime, 0)}"
    return "Customer survival"


def churn_by_group_takeaway(df: pd.DataFrame, dimension: str) -> str:
    """The group that churns most and its multiple of the least (`churn_by_dimension`),
    among groups with `MIN_N` active at the start, only if the two differ beyond noise."""
    d = df.dropna(subset=["churn_rate"]).sort_values("churn_rate")
    judged = d[[enough(n) for n in d["active_start"]]]
    if len(judged) >= 2 and not rate_change_is_clear(judged.iloc[-1].churn_rate, judged.iloc[-1].active_start,
                                                      judged.iloc[0].churn_rate, judged.iloc[0].active_start):
        return f"No {fmt.label(dimension).lower()} churns more than another beyond noise"
    if len(judged) >= 2:
        hi, lo = judged.iloc[-1], judged.iloc[0]
        ratio = hi.churn_rate / lo.churn_rate if lo.churn_rate > 0 else float("nan")
        return (f"{fmt.label(hi.group)} churns most: {fmt.percent(hi.churn_rate)}"
                + (f", {fmt.multiple(ratio)} {fmt.label(lo.group)}" if not math.isnan(ratio) else ""))
    return f"Logo churn by {fmt.label(dimension).lower()}"


def tenure_takeaway(tenure: pd.DataFrame) -> str:
    """Share of leavers gone within 6 months (tenure bands 0 and 1 of `tenure_at_churn`)
    and the commonest band."""
    d = tenure.sort_values("band_order")
    early = d.loc[d["band_order"] <= 1, "share"].sum()
    top = d.loc[d["share"].idxmax()] if len(d) else None
    leavers = d["churned"].sum() if len(d) else 0
    if top is None:
        return "Tenure at churn"
    if not enough(leavers):
        return f"Tenure at churn: {too_few(leavers).replace('customers', 'leavers')}"
    return (f"{fmt.percent(early, 0)} of {fmt.count(leavers)} leavers go within 6 months; "
            f"most at {top.tenure_band}")


def reasons_trend_takeaway(trend: pd.DataFrame) -> str:
    """The reason that leads most months (`churn_reasons_by_month`), counting only months
    with `MIN_N` leavers."""
    per_month = trend.groupby("month")["churned"].transform("sum")
    judged = trend[[enough(n) for n in per_month]]  # months with too few leavers name no leader
    leaders = judged.loc[judged.groupby("month")["churned"].idxmax(), "reason"] if len(judged) else judged
    if len(trend) and not len(judged):
        return f"Churn reasons by month: fewer than {MIN_N} leavers in every month, too few to read"
    if len(leaders):
        lead = leaders.value_counts()
        return f"{fmt.label(lead.index[0])} leads the reasons in {lead.iloc[0]} of {len(leaders)} months"
    return "Churn reasons by month"


# --- Customer value ------------------------------------------------------------------------------

def _quantile(q: pd.DataFrame, column: str, level: float) -> float:
    return dict(zip(q["quantile"].round(3), q[column]))[level]


def clv_takeaway(quantiles_by_group: dict[str, pd.DataFrame]) -> str:
    """The group with the highest median historical CLV (`clv_quantiles`) and its multiple
    of the lowest."""
    medians = {group: _quantile(q, "clv", 0.5) for group, q in quantiles_by_group.items() if not q.empty}
    if len(medians) >= 2:
        hi = max(medians, key=medians.get)
        lo = min(medians, key=medians.get)
        ratio = medians[hi] / medians[lo] if medians[lo] > 0 else float("nan")
        return (f"{fmt.label(hi)} median CLV {fmt.money(medians[hi])}"
                + (f" — {fmt.multiple(ratio)} {fmt.label(lo)}'s" if not math.isnan(ratio) else ""))
    if medians:
        g = next(iter(medians))
        return f"Median historical CLV {fmt.money(medians[g])}"
    return "Historical CLV"


def predicted_clv_takeaway(quantiles_by_group: dict[str, pd.DataFrame]) -> str:
    """The group with the highest median predicted CLV (`predicted_clv_quantiles`) and its
    multiple of the same customers' median CLV to date."""
    medians = {group: (_quantile(q, "clv_historical", 0.5), _quantile(q, "clv_predicted", 0.5))
               for group, q in quantiles_by_group.items() if not q.empty}
    if not medians:
        return "Predicted CLV"
    hist = sum(h for h, _ in medians.values())
    pred = sum(p for _, p in medians.values())
    hi = max(medians, key=lambda g: medians[g][1])
    title = (f"{fmt.label(hi)} median predicted CLV {fmt.money(medians[hi][1])}"
             + (f" — {fmt.multiple(medians[hi][1] / medians[hi][0])} what it has earned so far"
                if medians[hi][0] > 0 else ""))
    if len(medians) == 1 and hist > 0:
        title = (f"{fmt.label(hi)}: median predicted CLV {fmt.money(pred)} — {fmt.multiple(pred / hist)} "
                 "the margin earned so far")
    return title


def pareto_takeaway(top_share: float, top_value_share: float) -> str:
    """The share of value the most valuable `top_share` of customers hold (`pareto_summary`)."""
    return f"The top {top_share:.0%} of customers hold {fmt.percent(top_value_share, 0)} of value"


def value_tiers_takeaway(tiers: pd.DataFrame) -> str:
    """The top value tier's share of customers and of value (`value_tiers`)."""
    d = tiers.sort_values("tier_order")
    if len(d):
        top = d.iloc[0]
        return (f"{fmt.label(top.value_tier)}: {fmt.percent(top.share_of_customers, 0)} of customers, "
                f"{fmt.percent(top.share_of_value, 0)} of value")
    return "Value tiers"


def clv_cac_takeaway(df: pd.DataFrame) -> str:
    """The groups with the highest and lowest CLV : CAC (`clv_cac_ratio`)."""
    d = df.dropna(subset=["clv_cac_ratio"]).sort_values("clv_cac_ratio")
    if len(d) >= 2:
        hi, lo = d.iloc[-1], d.iloc[0]
        return (f"{fmt.label(hi.group)} has returned {fmt.multiple(hi.clv_cac_ratio)} its acquisition cost; "
                f"{fmt.label(lo.group)} {fmt.multiple(lo.clv_cac_ratio)}")
    if len(d) == 1:
        return f"CLV is {fmt.multiple(d.iloc[0].clv_cac_ratio)} the acquisition cost"
    return "CLV : acquisition cost"


# --- Service & signals ---------------------------------------------------------------------------

def service_trend_takeaway(fcr: pd.DataFrame, repeat: pd.DataFrame) -> str:
    """First-contact resolution over the period (resolved ÷ contacts, all months) against
    the 86% customers expect (`FCR_EXPECTATION`)."""
    if len(fcr) and not enough(fcr["contacts"].sum()):
        return f"First-contact resolution: {too_few(fcr['contacts'].sum()).replace('customers', 'contacts')}"
    if len(fcr):
        mean_fcr = fcr["resolved_first_contact"].sum() / fcr["contacts"].sum()
        gap = mean_fcr - FCR_EXPECTATION
        return (f"First-contact resolution {fmt.percent(mean_fcr, 0)} — "
                f"{fmt.points(abs(gap), 0).lstrip('+')} {'short of' if gap < 0 else 'above'} the 86% customers expect")
    if len(repeat):
        return "Repeat contacts (first-contact resolution is not recorded)"
    return "First-contact resolution"


def sla_takeaway(levels: pd.DataFrame) -> str:
    """The channel with the lowest response-SLA attainment (`service_levels`) among those
    with `MIN_N` contacts; "only" below `SLA_SHORTFALL`."""
    d = levels.dropna(subset=["sla_attainment"]).sort_values("sla_attainment")
    judged = d[[enough(n) for n in d["contacts"]]]
    if len(d) and judged.empty:
        return f"Response SLA: fewer than {MIN_N} contacts in every channel, too few to read"
    if len(judged):
        worst = judged.iloc[0]
        return (f"{fmt.label(worst.channel)} meets its {fmt.duration(worst.sla_seconds)} SLA on "
                f"{'only ' if worst.sla_attainment < SLA_SHORTFALL else ''}{fmt.percent(worst.sla_attainment, 0)} "
                f"of {fmt.count(worst.contacts)} contacts")
    return "Response SLA attainment"


def wait_times_takeaway(levels: pd.DataFrame) -> str:
    """The channel with the longest 90th-percentile wait (`service_levels`) among those
    with `MIN_N` contacts."""
    d = levels.sort_values("wait_p90_seconds")
    judged = d[[enough(n) for n in d["contacts"]]]
    if len(d) and judged.empty:
        return f"Wait times: fewer than {MIN_N} contacts in every channel, too few to read"
    if len(judged):
        slow = judged.iloc[-1]
        return f"1 in 10 {fmt.label(slow.channel)} contacts waits over {fmt.duration(slow.wait_p90_seconds)}"
    return "Wait times"


def early_warning_takeaway(unresolved: pd.DataFrame) -> str:
    """Churn of customers with the most unresolved contacts against those with none
    (`churn_by_service_history`, first and last bucket), only beyond noise."""
    title = "Churn by recent service history" if len(unresolved) else "Churn by recent service contacts"
    if len(unresolved) >= 2:
        none_rate = unresolved.iloc[0].churn_rate
        top = unresolved.iloc[-1]
        none_n = unresolved.iloc[0].customers
        if not (enough(top.customers) and enough(none_n)):
            title = (f"Churn by unresolved contacts: {fmt.count(min(top.customers, none_n))} customers in the "
                     f"smallest group (fewer than {MIN_N}), too few to compare")
        elif not rate_change_is_clear(top.churn_rate, top.customers, none_rate, none_n):
            title = f"Customers with {top.bucket} unresolved contacts churn no more than those with none, beyond noise"
        elif none_rate > 0:
            title = (f"Customers with {top.bucket} unresolved contacts churn at "
                     f"{fmt.multiple(top.churn_rate / none_rate)} the rate of those with none")
    return title


def note_signal_summary_takeaway(summary: pd.DataFrame) -> str:
    """The note signal with the highest churn lift over the signal-free rate, among those
    followed for at least `MIN_FOLLOWED_FOR_TAKEAWAY` customers, and the commonest signal
    (`note_signal_summary`, without ``any_signal``)."""
    d = summary[summary["signal"] != "any_signal"].iloc[::-1]
    known = d[(d["followed"] >= MIN_FOLLOWED_FOR_TAKEAWAY) & d["lift"].notna()]
    commonest = d.loc[d["share_of_notes"].idxmax()] if len(d) and d["notes"].sum() else None
    parts = []
    if len(known):
        top = known.loc[known["lift"].idxmax()]
        parts.append(f"Customers whose notes show {fmt.label(top.signal).lower()} churned at "
                     f"{fmt.multiple(top.lift)} the signal-free rate")
    if commonest is not None:
        parts.append(f"{fmt.label(commonest.signal).lower()} is the commonest signal "
                     f"({fmt.percent(commonest.share_of_notes, 0)} of notes)")
    title = "; ".join(parts) if parts else "No churn signals in the notes"
    return title[:1].upper() + title[1:]


# --- Retention ROI --------------------------------------------------------------------------------

def roi_waterfall_takeaway(result) -> str:
    """Value returned per unit of programme cost and the ROI (`analytics.roi.ProgrammeROI`);
    the net benefit alone when no cost was entered."""
    if math.isnan(result.roi):
        return f"Net benefit {fmt.money(result.net_benefit)} (no programme cost entered)"
    return (f"Every {fmt.currency_symbol()}1 spent on retention returned "
            f"{fmt.currency_symbol()}{result.retained_value / result.programme_cost:,.2f} "
            f"— ROI {result.roi * 100:,.0f}%")


def whatif_takeaway(whatif) -> str:
    """Extra revenue kept over the longest horizon by the churn cut
    (`analytics.roi.ChurnReductionWhatIf`)."""
    last = whatif.horizons[-1]
    return (f"Cutting monthly churn by {fmt.points(whatif.reduction_points, 2).lstrip('+')} keeps "
            f"{fmt.money(last.extra_revenue)} more revenue over {last.months} months")


def replace_or_keep_takeaway(result) -> str:
    """Cost of keeping the period's leavers against the range of replacing them
    (`analytics.roi.ReplaceOrKeep`)."""
    replace = [v for v in (result.replace_at_observed_cac, result.replace_at_multiple) if not pd.isna(v)]
    low, high = min(replace), max(replace)
    span = fmt.money(low) if low == high else f"{fmt.money(low)}–{fmt.money(high)}"
    return (f"Keeping {fmt.count(result.lost_customers)} leavers would cost {fmt.money(result.keep_cost)}; "
            f"replacing them {span}")


# --- Data quality ---------------------------------------------------------------------------------

def data_quality_chart_takeaway(report: pd.DataFrame) -> str:
    """Failing records and their cost to fix now vs if they cause failures
    (`data_quality_report`)."""
    total = int(report["failing"].sum())
    if total:
        return (f"{fmt.count(total)} failing records: {fmt.money(report['correction_cost'].sum())} to fix now, "
                f"{fmt.money(report['failure_cost'].sum())} if they cause failures")
    return "No failing records"


# --- At-risk customer 360 and the model card ----------------------------------------------------------

def score_history_takeaway(history: pd.DataFrame) -> str:
    """How one customer's churn probability moved between their first and last scoring
    (changes within 1 point are "held steady")."""
    first, last = float(history["churn_probability"].iloc[0]), float(history["churn_probability"].iloc[-1])
    verdict = direction(first, last, 0.01) if len(history) > 1 else "stands"
    return (f"Churn risk {verdict} at {fmt.percent(last)}" if verdict in ("stands", "held steady")
            else f"Churn risk {verdict} from {fmt.percent(first)} to {fmt.percent(last)}")


def customer_mrr_takeaway(revenue: pd.DataFrame) -> str:
    """How one customer's MRR moved from their first to their last month (changes within
    0.50 are "held steady")."""
    first, last = float(revenue["mrr"].iloc[0]), float(revenue["mrr"].iloc[-1])
    verdict = direction(first, last, 0.5)
    return (f"MRR {verdict} at {fmt.money(last, compact=False)}" if verdict == "held steady"
            else f"MRR {verdict} from {fmt.money(first, compact=False)} to {fmt.money(last, compact=False)}")


def calibration_takeaway(calibration: pd.DataFrame) -> str:
    """The largest gap between mean predicted risk and observed churn over the calibration
    bins; "within" when every bin is within `CALIBRATED_WITHIN`."""
    d = calibration.sort_values("mean_predicted")
    if not len(d):
        return "Calibration"
    gap = (d["observed_rate"] - d["mean_predicted"]).abs()
    worst = d.loc[gap.idxmax()]
    return (f"Predicted risk is within {fmt.points(gap.max()).lstrip('+')} of observed churn in every "
            f"tenth of customers" if gap.max() < CALIBRATED_WITHIN else
            f"Predicted risk misses observed churn by up to {fmt.points(gap.max()).lstrip('+')} "
            f"(predicted {fmt.percent(worst.mean_predicted)}, observed {fmt.percent(worst.observed_rate)})")


def lift_takeaway(lift: pd.DataFrame) -> str:
    """Lift and churner capture of the riskiest decile (and of the riskiest three)."""
    d = lift.sort_values("decile")
    if not len(d):
        return "Lift by decile"
    first = d.iloc[0]
    title = (f"The riskiest 10% churned at {fmt.multiple(first.lift)} the average rate and held "
             f"{fmt.percent(first.cumulative_capture, 0)} of churners")
    if len(d) >= 3:
        title += f"; the riskiest 30% held {fmt.percent(d.iloc[2].cumulative_capture, 0)}"
    return title


def importance_takeaway(importance: pd.DataFrame) -> str:
    """The driver group whose shuffling costs the most ROC AUC."""
    if not len(importance):
        return "Driver importance"
    first = importance.sort_values("auc_drop", ascending=False).iloc[0]
    return f"{fmt.label(first.group)} matters most: shuffling it costs {first.auc_drop:.3f} ROC AUC"


# --- purchase-log value (charts/purchase.py) -------------------------------------------------

TOP_BUYER_SHARE = 0.10


def top_share_of_value(values, share: float = TOP_BUYER_SHARE) -> float:
    """Share of the total held by the top `share` of customers (NaN when the total is 0)."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    total = v.sum()
    if total <= 0:
        return float("nan")
    return float(v[: max(1, int(np.ceil(len(v) * share)))].sum() / total)


def predicted_purchase_value_takeaway(values) -> str:
    """The predicted-CLV histogram's title: how much of the value the top 10% hold."""
    held = top_share_of_value(values)
    if np.isnan(held):
        return "No predicted value in this selection"
    return f"The top {TOP_BUYER_SHARE:.0%} of buyers hold {fmt.percent(held, 0)} of predicted value"


def p_alive_takeaway(repeat_p_alive, threshold: float) -> str:
    """The P(alive) chart's title: the share of repeat buyers at or above `threshold`."""
    p = np.asarray(repeat_p_alive, dtype=float)
    if not len(p):
        return "No repeat buyers in this selection"
    return f"{fmt.percent(float((p >= threshold).mean()), 0)} of repeat buyers are probably still buying"
