"""Benchmark the metric layer: every metric function against the same query written
directly in DuckDB SQL, on a large generated database.

    .venv/bin/python -m benchmarks.bench_metrics --db /tmp/retention-bench-1m.duckdb

When `--db` does not exist it is generated first (`--customers`, default 1,000,000; the
generator's own benchmark writes the same default path). Each function and its direct-SQL
counterpart run `--runs` times (median reported, after one warm-up run of each); the
filter is the last 12 months to the file's as-of date, no population filter.

Targets (issue 3): median <= 1 s on 2 cores for 1M customers / 20M touchpoints, and
<= 1.5x the direct SQL. The direct SQL mirrors what the function computes in the database
and fetches the result into pandas (`.df()`); where a function also does work outside
the database (Kaplan-Meier and the log-rank test in numpy, the funnel step table) the
SQL column covers the database part only, so the ratio includes that work. Prints
figures; asserts nothing. Other processes on the machine inflate both columns alike.

Rollups (analytics/rollups.py, docs/decisions/009-metric-rollups.md): the functions that
read a precomputed rollup are timed twice — as the dashboard runs them (rollup, when
fresh) and with the rollups switched off (live query) — and the ratio is the rollup path
against the hand SQL over the source tables. When the file has no fresh rollups they are
built first (read-write; `--rebuild-rollups` forces it) and the build time and the file's
growth are printed. `--only` takes substrings of case names.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import analytics.metrics as m
from analytics import rollups
from analytics.db import Database, DatabaseLocked, open_database
from analytics.filters import RetentionFilter
from analytics.metrics._common import month_start

DEFAULT_DB = Path("/tmp/retention-bench-1m.duckdb")


@dataclass
class Case:
    name: str
    call: Callable[[Database, RetentionFilter], object]
    sql: str | None  # direct DuckDB SQL with ? parameters
    params: Callable[[RetentionFilter], list] = lambda f: []
    note: str = ""
    uses_rollup: bool = False  # also timed with the rollups switched off


def _p_start_end(f: RetentionFilter) -> list:
    return [f.start, f.end]


SERVICE = "kind in ('service_request', 'complaint', 'billing_issue') and direction = 'inbound'"

CHURN_SQL = """
with c as (
  select signup_date s, churn_date ch from customers
  where (churn_date is null or churn_date >= signup_date)
    and signup_date <= $end and (churn_date is null or churn_date >= $start)
), p as (
  select greatest(m::date, $start) ps, least((m + interval 1 month - interval 1 day)::date, $end) pe
  from generate_series(date_trunc('month', $start::date), $end::date, interval 1 month) g(m)
)
select ps, pe,
  count(*) filter (where s < ps and (ch is null or ch >= ps)) active_start,
  count(*) filter (where s between ps and pe) new,
  count(*) filter (where ch between ps and pe) churned,
  count(*) filter (where s < ps and ch between ps and pe) churned_from_start,
  count(*) filter (where s <= pe and (ch is null or ch > pe)) active_end
from p cross join c group by all order by ps
"""

SUMMARY_SQL = """
select count(*) filter (where signup_date < $start and (churn_date is null or churn_date >= $start)) active_start,
  count(*) filter (where signup_date between $start and $end) new,
  count(*) filter (where churn_date between $start and $end) churned,
  count(*) filter (where signup_date < $start and churn_date between $start and $end) churned_from_start,
  count(*) filter (where signup_date <= $end and (churn_date is null or churn_date > $end)) active_end
from customers where churn_date is null or churn_date >= signup_date
"""

MOVEMENTS_SQL = """
with r as (
  select customer_id, (year(month) * 12 + month(month))::int m, mrr from monthly_revenue
  where month between (date_trunc('month', $start::date) - interval 1 month)::date and date_trunc('month', $end::date)::date
), k as (select year($start::date) * 12 + month($start::date) k0, year($end::date) * 12 + month($end::date) k1),
cur as (select r.* from r, k where m >= k0),
prev as (select customer_id, m + 1 m, mrr from r, k where m < k1),
p as (
  select coalesce(cur.customer_id, prev.customer_id) customer_id, coalesce(cur.m, prev.m) m,
         coalesce(cur.mrr, 0) cur, coalesce(prev.mrr, 0) prev
  from cur full outer join prev on cur.customer_id = prev.customer_id and cur.m = prev.m
), a as (
  select p.m, p.cur, (year(c.signup_date) * 12 + month(c.signup_date)) sm
  from p left join customers c on c.customer_id = p.customer_id where p.prev <= 0 and p.cur > 0
), s as (
  select m, sum(cur) filter (where sm is null or sm = m) new_mrr, sum(cur) filter (where sm <> m) reactivation_mrr
  from a group by m
)
select p.m, sum(prev) start_mrr, sum(cur) end_mrr,
  sum(cur - prev) filter (where prev > 0 and cur > prev) expansion,
  sum(prev - cur) filter (where cur > 0 and cur < prev) contraction,
  sum(prev) filter (where prev > 0 and cur <= 0) churned,
  any_value(s.new_mrr) new_mrr, any_value(s.reactivation_mrr) reactivation_mrr
from p left join s on s.m = p.m group by p.m order by p.m
"""

REVENUE_RETENTION_SQL = """
with q as (
  select i, qs, qe,
         (year(qs - 1) * 12 + month(qs - 1))::int sm, (year(qe) * 12 + month(qe))::int em
  from (select row_number() over () i, greatest(q, $start::date)::date qs,
               least((q + interval 3 month - interval 1 day)::date, $end::date) qe
        from generate_series(date_trunc('quarter', $start::date), $end::date, interval 3 month) g(q))
), r as (
  select customer_id, (year(month) * 12 + month(month))::int m, mrr from monthly_revenue
  where month between (date_trunc('month', $start::date) - interval 1 month)::date and date_trunc('month', $end::date)::date
), c as (
  select customer_id, signup_date, churn_date from customers
  where churn_date is null or churn_date >= signup_date
), book as (
  select c.customer_id, q.i, r.mrr s, c.churn_date <= q.qe gone
  from q join r on r.m = q.sm join c on c.customer_id = r.customer_id
  where r.mrr > 0 and c.signup_date < q.qs and (c.churn_date is null or c.churn_date >= q.qs)
), fin as (select r.customer_id, q.i, r.mrr e from r join q on r.m = q.em),
j as (select book.i, s, case when gone then 0 else coalesce(e, 0) end e
      from book left join fin on book.customer_id = fin.customer_id and book.i = fin.i)
select i, count(*), sum(s), sum(e), sum(least(s, e)), sum(e - s) filter (where e > s),
  sum(s - e) filter (where e > 0 and e < s), sum(s) filter (where e <= 0)
from j group by i order by i
"""

COHORT_SQL = """
with c as (
  select date_trunc('month', signup_date) cohort, signup_date s, churn_date ch,
    (year($end::date) - year(signup_date)) * 12 + month($end::date) - month(signup_date) k_obs,
    (year(churn_date) - year(signup_date)) * 12 + month(churn_date) - month(signup_date) k_life
  from customers
  where signup_date >= date_trunc('month', $start::date) and signup_date <= $end
    and (churn_date is null or churn_date >= signup_date)
), k as (
  select cohort,
    greatest(case when (s + to_months(k_obs))::date <= $end then k_obs else k_obs - 1 end, 0) observed,
    case when ch is null then 100000
         else greatest(case when (s + to_months(k_life))::date < ch then k_life else k_life - 1 end, 0) end lifetime
  from c
)
select cohort, observed, least(lifetime, observed) lifetime, count(*) n from k group by all
"""

COHORT_REVENUE_SQL = """
with c as (
  select customer_id, date_trunc('month', signup_date)::date cohort from customers
  where signup_date >= date_trunc('month', $start::date) and signup_date <= $end
    and (churn_date is null or churn_date >= signup_date)
)
select cohort, (year(r.month) - year(cohort)) * 12 + month(r.month) - month(cohort) age, sum(mrr)
from monthly_revenue r join c using (customer_id)
where r.month <= date_trunc('month', $end::date) and r.month >= cohort group by all
"""

KM_SQL = """
with c as (
  select contract_type, signup_date,
         case when churn_date <= $end then churn_date else $end::date end exit_date,
         (churn_date is not null and churn_date <= $end)::int event,
         (select coalesce(max(value) filter (where key = 'history_start')::date,
                          (select min(signup_date) from customers)) from schema_info) history_start
  from customers where signup_date <= $end and (churn_date is null or churn_date >= signup_date))
select contract_type, date_diff('day', signup_date, greatest(signup_date, history_start)) entry,
       date_diff('day', signup_date, exit_date) duration, event, count(*)
from c where signup_date >= history_start or exit_date > history_start
group by all
"""

TENURE_BAND_SQL = """
with c as (
  select churn_date ch,
    (year($start::date) - year(signup_date)) * 12 + month($start::date) - month(signup_date) k
  , signup_date s from customers
  where (churn_date is null or churn_date >= signup_date) and signup_date < $start
    and (churn_date is null or churn_date >= $start)
), t as (
  select ch, greatest(case when (s + to_months(k))::date <= $start then k else k - 1 end, 0) mo from c
)
select case when mo < 3 then '0-3' when mo < 6 then '3-6' when mo < 12 then '6-12'
            when mo < 24 then '12-24' else '24+' end band,
       count(*), count(*) filter (where ch <= $end)
from t group by 1
"""

FUNNEL_SQL = """
with req as (
  select touchpoint_id, customer_id, occurred_at, channel from touchpoints
  where kind = 'cancellation_request' and occurred_at >= $start and occurred_at < $end::date + 1
), calls as (
  select related_touchpoint_id rid, min(occurred_at) first_at, arg_min(agent, occurred_at) agent,
    bool_or(coalesce(outcome, 'not_reached') <> 'not_reached') reached,
    bool_or(outcome in ('offer_declined', 'offer_accepted')) offered,
    bool_or(outcome = 'offer_accepted') accepted
  from touchpoints where kind = 'retention_call' and related_touchpoint_id is not null
    and occurred_at < $end::date + 1 group by 1
), j as (
  select coalesce(calls.agent, '(none)') agent, calls.first_at is not null attempted,
    coalesce(reached, false) reached, coalesce(offered, false) offered, coalesce(accepted, false) accepted,
    epoch(calls.first_at) - epoch(req.occurred_at) secs,
    calls.first_at <= req.occurred_at + interval 24 hour within_sla,
    calls.first_at is not null or req.occurred_at + interval 24 hour < $end::date + 1 due,
    req.occurred_at::date + 90 <= $end judged,
    c.churn_date is null or c.churn_date > req.occurred_at::date + 90 stays
  from req left join calls on calls.rid = req.touchpoint_id join customers c on c.customer_id = req.customer_id
)
select case when attempted then agent else '(no attempt)' end, count(*), count(*) filter (where attempted),
  count(*) filter (where reached), count(*) filter (where offered), count(*) filter (where accepted),
  count(*) filter (where judged), count(*) filter (where accepted and judged),
  count(*) filter (where accepted and judged and stays), count(*) filter (where judged and stays),
  quantile_cont(secs / 3600, 0.5), quantile_cont(secs / 3600, 0.9),
  count(*) filter (where due), count(*) filter (where within_sla)
from j group by 1
"""

PROACTIVE_SQL = """
with f as (
  select f.customer_id, f.flagged_on, c.churn_date from at_risk_flags f join customers c using (customer_id)
  where f.flagged_on between $start and $end
), o as (
  select customer_id, occurred_at, outcome from touchpoints
  where kind = 'proactive_outreach' and occurred_at < $end::date + 1
), h as (
  select f.customer_id, f.flagged_on, f.churn_date, count(o.occurred_at) > 0 contacted,
    bool_or(o.outcome is not null and o.outcome <> 'not_reached') reached
  from f left join o on o.customer_id = f.customer_id and o.occurred_at >= f.flagged_on
    and o.occurred_at < f.flagged_on + interval 30 day
  group by all
)
select count(*), count(*) filter (where contacted), count(*) filter (where reached),
  count(*) filter (where flagged_on + 90 <= $end),
  count(*) filter (where reached and flagged_on + 90 <= $end),
  count(*) filter (where reached and flagged_on + 90 <= $end and (churn_date is null or churn_date > flagged_on + 90))
from h
"""

CLV_CTE = """
with rev as (
  select customer_id, sum(mrr) s from monthly_revenue where month <= date_trunc('month', $end::date) group by 1
), buy as (
  select customer_id, sum(amount) s from touchpoints
  where kind = 'purchase' and amount > 0 and occurred_at < $end::date + 1 group by 1
), v as (
  select c.customer_id, c.segment, c.acquisition_channel, coalesce(c.acquisition_cost, 0) cac,
    coalesce(rev.s, 0) rec, coalesce(buy.s, 0) pur, coalesce(c.margin_rate, 0) margin,
    (coalesce(rev.s, 0) + coalesce(buy.s, 0)) * coalesce(c.margin_rate, 0) clv
  from customers c left join rev using (customer_id) left join buy using (customer_id)
  where c.signup_date <= $end
)
"""
RANKED = """, r as (
  select *, row_number() over (order by clv desc, customer_id) - 1 rk, count(*) over () n from v
)"""

CASES: list[Case] = [
    Case("churn_by_period (month)", lambda db, f: m.churn_by_period(db, f, "month"), CHURN_SQL),
    Case("churn_summary", m.churn_summary, SUMMARY_SQL),
    Case("active_customers", m.active_customers,
         "select count(*) from customers where signup_date <= $end and (churn_date is null or churn_date > $end)"
         " and (churn_date is null or churn_date >= signup_date)"),
    Case("mrr_by_month", m.mrr_by_month,
         "select month, sum(mrr), count(*) filter (where mrr > 0) from monthly_revenue where month between"
         " date_trunc('month', $start::date) and date_trunc('month', $end::date) group by 1 order by 1"),
    Case("mrr_movements", m.mrr_movements, MOVEMENTS_SQL, uses_rollup=True),
    Case("revenue_retention (quarter)", lambda db, f: m.revenue_retention(db, f, "quarter"), REVENUE_RETENTION_SQL),
    Case("cohort_retention (logo)", lambda db, f: m.cohort_retention(db, f, "logo"), COHORT_SQL,
         note="SQL: counts; the triangle is built in pandas"),
    Case("cohort_retention (revenue)", lambda db, f: m.cohort_retention(db, f, "revenue"), COHORT_REVENUE_SQL),
    Case("kaplan_meier (contract)", lambda db, f: m.kaplan_meier(db, f, by="contract_type"), KM_SQL,
         note="SQL: the aggregated entries and durations; the product-limit in numpy on top"),
    Case("median_lifetime (contract)", lambda db, f: m.median_lifetime(db, f, by="contract_type"), KM_SQL,
         note="SQL: the aggregated entries and durations; the product-limit in numpy on top"),
    Case("survival_logrank (contract)", lambda db, f: m.survival_logrank(db, f, "contract_type"), KM_SQL,
         note="SQL: the aggregated entries and durations; the log-rank test in numpy on top"),
    Case("churn_by_dimension (tenure)", lambda db, f: m.churn_by_dimension(db, f, "tenure_band"), TENURE_BAND_SQL),
    Case("churn_by_dimension (segment)", lambda db, f: m.churn_by_dimension(db, f, "segment"),
         "select segment, count(*), count(*) filter (where churn_date <= $end) from customers"
         " where (churn_date is null or churn_date >= signup_date) and signup_date < $start"
         " and (churn_date is null or churn_date >= $start) group by 1"),
    Case("tenure_at_churn", m.tenure_at_churn,
         "select (year(churn_date) - year(signup_date)) * 12 + month(churn_date) - month(signup_date)"
         " - (day(churn_date) < day(signup_date))::int k, count(*) from customers"
         " where churn_date between $start and $end and churn_date >= signup_date group by 1"),
    Case("churn_reasons", m.churn_reasons,
         "select coalesce(churn_reason, 'unknown'), count(*) from customers where churn_date between $start and $end"
         " and churn_date >= signup_date group by 1 order by 2 desc"),
    Case("churn_reasons_by_month", m.churn_reasons_by_month,
         "select date_trunc('month', churn_date), coalesce(churn_reason, 'unknown'), count(*) from customers"
         " where churn_date between $start and $end and churn_date >= signup_date group by all"),
    Case("retention_funnel", m.retention_funnel, FUNNEL_SQL.replace("case when attempted then agent else '(no attempt)' end", "'all'")),
    Case("retention_funnel_summary (agent)", lambda db, f: m.retention_funnel_summary(db, f, by="agent"), FUNNEL_SQL),
    Case("saved_customers", m.saved_customers,
         "select count(distinct r.customer_id) from touchpoints r join touchpoints k on k.related_touchpoint_id = r.touchpoint_id"
         " join customers c on c.customer_id = r.customer_id where r.kind = 'cancellation_request'"
         " and r.occurred_at >= $start and r.occurred_at < $end::date + 1 and k.kind = 'retention_call'"
         " and k.outcome = 'offer_accepted' and k.occurred_at < $end::date + 1"
         " and (c.churn_date is null or c.churn_date > $end)"),
    Case("proactive_funnel", m.proactive_funnel, PROACTIVE_SQL),
    Case("customer_clv", m.customer_clv, CLV_CTE + RANKED + " select * from r order by rk",
         note="1 row per customer into pandas", uses_rollup=True),
    Case("clv_quantiles", m.clv_quantiles,
         CLV_CTE + " select count(*), quantile_cont(clv, [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]) from v",
         uses_rollup=True),
    Case("clv_pareto", m.clv_pareto, CLV_CTE + RANKED + " select count(*), sum(clv), sum(clv) filter (where rk < n * 0.2) from r",
         uses_rollup=True),
    Case("value_tiers", m.value_tiers,
         CLV_CTE + RANKED + " select case when rk < n * 0.1 then 'platinum' when rk < n * 0.3 then 'gold'"
         " when rk < n * 0.6 then 'silver' else 'bronze' end, count(*), sum(clv), min(clv), max(clv), avg(clv)"
         " from r group by 1", uses_rollup=True),
    Case("clv_cac_ratio (segment)", m.clv_cac_ratio, CLV_CTE + " select segment, count(*), sum(clv), sum(cac) from v group by 1",
         uses_rollup=True),
    Case("first_contact_resolution", m.first_contact_resolution,
         f"select date_trunc('month', occurred_at), channel, count(*), count(*) filter (where first_contact_resolution)"
         f" from touchpoints where {SERVICE} and first_contact_resolution is not null"
         " and occurred_at >= $start and occurred_at < $end::date + 1 group by all"),
    Case("repeat_contact_rate", m.repeat_contact_rate,
         f"with t as (select customer_id, subject, channel, occurred_at from touchpoints where {SERVICE}"
         " and occurred_at >= $start::date - 7 and occurred_at < $end::date + 1),"
         " w as (select *, lag(occurred_at) over (partition by customer_id, subject order by occurred_at) p from t)"
         " select date_trunc('month', occurred_at), channel, count(*), count(*) filter (where p >= occurred_at - interval 7 day)"
         " from w where occurred_at >= $start group by all", uses_rollup=True),
    Case("service_levels", m.service_levels,
         f"select channel, count(*), count(*) filter (where wait_seconds <= case channel when 'phone' then 60"
         " when 'chat' then 120 when 'store' then 600 else 86400 end),"
         " quantile_cont(wait_seconds, 0.5), quantile_cont(wait_seconds, 0.9)"
         f" from touchpoints where {SERVICE} and wait_seconds is not null"
         " and occurred_at >= $start and occurred_at < $end::date + 1 group by 1"),
    Case("satisfaction_trend", m.satisfaction_trend,
         "select date_trunc('month', occurred_at), count(*) filter (where csat between 1 and 5),"
         " avg(csat) filter (where csat between 1 and 5), count(*) filter (where csat >= 4 and csat <= 5),"
         " count(*) filter (where nps between 0 and 10), count(*) filter (where nps between 9 and 10),"
         " count(*) filter (where nps between 7 and 8), count(*) filter (where nps between 0 and 6)"
         " from touchpoints where kind = 'survey' and occurred_at >= $start and occurred_at < $end::date + 1 group by 1"),
    Case("churn_by_service_history", m.churn_by_service_history,
         "with c as (select customer_id, churn_date from customers where signup_date <= $end::date - 90"
         " and (churn_date is null or churn_date > $end::date - 90)),"
         f" n as (select customer_id, count(*) n from touchpoints where {SERVICE}"
         " and occurred_at >= $end::date - 180 and occurred_at < $end::date - 90 group by 1)"
         " select least(coalesce(n, 0), 4), count(*), count(*) filter (where churn_date <= $end) from c"
         " left join n using (customer_id) group by 1"),
    Case("data_quality_report", m.data_quality_report, None, note="SQL: counts only (DQ_SQL)", uses_rollup=True),
    Case("targets_vs_actuals", lambda db, f: m.targets_vs_actuals(db, f, f"{f.end.year}Q{(f.end.month - 1) // 3 + 1}"),
         None, note="composite of churn_summary, revenue_retention, saved_customers"),
]

DQ_SQL = r"""
with c as (select * from customers),
flags as (
  select count(*) filter (where email is null or not regexp_matches(email, '\S')) missing_email,
    count(*) filter (where phone is null or not regexp_matches(phone, '\S')) missing_phone,
    count(*) filter (where regexp_matches(email, '\S') and not regexp_matches(email, '^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$')) invalid_email,
    count(*) filter (where regexp_matches(phone, '\S') and not regexp_matches(phone, '^\s*05\d-\d{7}\s*$')) invalid_phone,
    count(*) filter (where churn_date < signup_date) churn_before_signup,
    count(*) filter (where signup_date > $end or churn_date > $end) future_dates,
    count(*) filter (where churn_date is not null and churn_reason is null) no_reason
  from c
), n as (
  select customer_id, lower(full_name) nm,
    case when regexp_matches(email, '\S') then lower(regexp_replace(email, '^\s+|\s+$', '')) end em,
    case when regexp_matches(phone, '^\s*05\d-\d{7}\s*$') then regexp_replace(phone, '^\s+|\s+$', '') end ph
  from c
), ga as (select nm, em, min(customer_id) o from n where em is not null group by all having count(*) > 1),
gb as (select nm, ph, min(customer_id) o from n where ph is not null group by all having count(*) > 1),
dups as (
  select count(*) n from (
    select n.customer_id from n join ga using (nm, em) where n.customer_id > ga.o
    union select n.customer_id from n join gb using (nm, ph) where n.customer_id > gb.o)
), after as (
  select count(*) n from touchpoints t join customers c using (customer_id)
  where c.churn_date >= c.signup_date and t.occurred_at::date > c.churn_date
), orphans as (select count(*) n from touchpoints t anti join customers c using (customer_id)),
tp as (select count(*) n, count(*) filter (where occurred_at >= $end::date + 1) future from touchpoints),
rv as (select count(*) n, count(*) filter (where mrr < 0) neg, count(*) filter (where month > $end) future from monthly_revenue)
select * from flags, dups, after, orphans, tp, rv
"""


def _sql_runner(con, sql: str, flt: RetentionFilter):
    text = sql.replace("$start", "?::date").replace("$end", "?::date")
    # Positional parameters in order of appearance.
    order = []
    rest = sql
    while True:
        i_s, i_e = rest.find("$start"), rest.find("$end")
        candidates = [(i, k) for i, k in ((i_s, "start"), (i_e, "end")) if i >= 0]
        if not candidates:
            break
        i, key = min(candidates)
        order.append(flt.start if key == "start" else flt.end)
        rest = rest[i + len(key) + 1:]
    return lambda: con.execute(text, order).df()


def _median_time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (all threads of this process: DuckDB's
    workers included). CPU time does not grow when other processes compete for the
    cores, so on a busy machine it is the steadier figure: on 2 idle cores the wall time
    lies between CPU / 2 (perfectly parallel) and CPU."""
    fn()  # warm-up: caches, Ibis compile paths
    walls, cpus = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _ensure_rollups(path: Path, rebuild: bool) -> str:
    """Build the rollups when they are missing or stale (or `rebuild`); a line saying
    what was done: build time and file growth, or the recorded build time."""
    db = open_database(path)
    try:
        fresh = rollups.fresh_rollups(db, *rollups.ROLLUPS) is not None
        recorded = db.cursor().execute(
            f'select sum(build_seconds) from "{rollups.INFO_TABLE}"').fetchone()[0] if fresh else None
    finally:
        db.close()
    if fresh and not rebuild:
        return f"rollups: fresh (built earlier in {recorded:.1f} s of queries; --rebuild-rollups to time a build)"
    size_before = path.stat().st_size
    try:
        db = open_database(path, read_only=False)
    except DatabaseLocked as err:
        return f"rollups: NOT built, the file is locked ({err}); the rollup column shows the live path"
    try:
        t0 = time.perf_counter()
        build = rollups.build_rollups(db)
        db.cursor().execute("checkpoint")
        seconds = time.perf_counter() - t0
    finally:
        db.close()
    if build.skipped:
        return f"rollups: not built: {build.skipped}"
    growth = (path.stat().st_size - size_before) / 2**20
    parts = ", ".join(f"{name.removeprefix('rollup_')} {build.seconds[name]:.1f} s" for name in rollups.ROLLUPS)
    return (f"rollups: built in {seconds:.1f} s (incl. checkpoint; {parts}); file grew {growth:+.1f} MiB "
            f"to {path.stat().st_size / 2**20:.0f} MiB")


def _live(fn: Callable[[], object]) -> Callable[[], object]:
    def call():
        with rollups.disabled():
            return fn()
    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--customers", type=int, default=1_000_000, help="size when --db must be generated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=None, help="substrings of case names to run")
    parser.add_argument("--rebuild-rollups", action="store_true", help="rebuild (and time) the rollups first")
    args = parser.parse_args()

    if not args.db.exists():
        print(f"generating {args.customers:,} customers into {args.db} ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "sample_data.generate", "--customers", str(args.customers),
             "--seed", str(args.seed), "--out", str(args.db), "--quiet"],
            check=True,
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rollup_line = _ensure_rollups(args.db, args.rebuild_rollups)
    db = open_database(args.db)
    info = db.schema_info()
    as_of = date.fromisoformat(info["as_of_date"])
    flt = RetentionFilter(as_of - timedelta(days=364), as_of)
    con = db.cursor()
    counts = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0]  # noqa: S608 - fixed names
              for t in ("customers", "touchpoints", "monthly_revenue")}
    print(f"db {args.db}: {counts['customers']:,} customers, {counts['touchpoints']:,} touchpoints, "
          f"{counts['monthly_revenue']:,} revenue rows; filter {flt.start}..{flt.end} "
          f"(revenue months from {month_start(flt.start)}); {os.cpu_count()} CPUs, load {load:.1f}; "
          f"median of {args.runs} runs")
    print(rollup_line)
    header = (f"{'metric':36s} {'function':>9s} {'live':>9s} {'SQL':>9s} {'ratio':>6s} {'live/SQL':>8s}  "
              f"{'<=1s':4s} {'<=1.5x':6s} {'fn CPU':>8s} {'SQL CPU':>8s} note")
    print(header)
    print("-" * len(header))
    print("(function = as the dashboard runs it, from the rollup when one is fresh; live = the same "
          "call with the rollups switched off; ratio = function / SQL)")
    cases = [c for c in CASES if not args.only or any(s in c.name for s in args.only)]
    if not args.only or any("data_quality" in s for s in args.only):
        next(c for c in CASES if c.name == "data_quality_report").sql = DQ_SQL
    over_time, over_ratio = [], []
    for case in cases:
        f_time, f_cpu = _median_time(lambda: case.call(db, flt), args.runs)
        l_time = _median_time(_live(lambda: case.call(db, flt)), args.runs)[0] if case.uses_rollup else None
        s_time, s_cpu = (
            _median_time(_sql_runner(con, case.sql, flt), args.runs) if case.sql else (float("nan"), float("nan"))
        )
        ratio = f_time / s_time if case.sql else float("nan")
        ok_time = f_time <= 1.0
        ok_ratio = ratio <= 1.5 if case.sql else None
        if not ok_time:
            over_time.append(case.name)
        if ok_ratio is False:
            over_ratio.append(case.name)
        live_text = f"{l_time:8.3f}s" if l_time is not None else f"{'-':>9s}"
        sql_text = f"{s_time:8.3f}s" if case.sql else f"{'-':>9s}"
        ratio_text = f"{ratio:6.2f}" if case.sql else f"{'-':>6s}"
        live_ratio = f"{l_time / s_time:8.2f}" if case.sql and l_time is not None else f"{'-':>8s}"
        s_cpu_text = f"{s_cpu:7.3f}s" if case.sql else f"{'-':>8s}"
        print(f"{case.name:36s} {f_time:8.3f}s {live_text} {sql_text} {ratio_text} {live_ratio}  "
              f"{'yes' if ok_time else 'NO':4s} "
              f"{'-' if ok_ratio is None else ('yes' if ok_ratio else 'NO'):6s} {f_cpu:7.3f}s {s_cpu_text} "
              f"{case.note}", flush=True)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average at the end: {load_after:.1f} on {os.cpu_count()} CPUs")
    print(f"over 1 s: {', '.join(over_time) or 'none'}")
    print(f"over 1.5x direct SQL: {', '.join(over_ratio) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
