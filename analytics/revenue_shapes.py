"""Monthly revenue rows (`monthly_revenue`: customer_id, month, mrr) from the two other
shapes an export may hold revenue in. Pure pandas; used by `analytics.load`.

The data model's rule (docs/data-model.md): a month has a row for every customer active
on its first day, or who signed up during it. The same rule, per subscription period:

- **Subscription periods** (customer, start, end, mrr): a period runs from `start` up to
  but not including `end` (`end` empty = still running). A month (first day `ms`) counts
  the periods active on `ms` (start ≤ ms < end); when none is, the periods starting in
  the month. The month's MRR is their sum (two concurrent subscriptions add up). So a
  plan change on the 15th bills the old price that month and the new one from the next;
  a period ending on the 1st of a month bills nothing for that month. Months run up to
  the as-of date's month; a period starting after the as-of date gives no rows.
- **Invoices / transactions** (customer, date, amount): the month's MRR is the sum of the
  amounts invoiced in it (up to the as-of date). A month without an invoice has no row;
  an annual invoice counts in the month it is dated (not spread over the year).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

COLUMNS = ["customer_id", "month", "mrr"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": pd.Series(dtype="Int64"), "month": pd.Series(dtype="datetime64[ns]"),
                         "mrr": pd.Series(dtype=float)})


def monthly_from_subscriptions(periods: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per (customer, month) from periods with columns customer_id, start, end
    (NaT = open), mrr — see the module docstring for the rule. Sorted by customer, month."""
    as_of_ts = pd.Timestamp(as_of)
    p = periods[periods["start"] <= as_of_ts]
    if not len(p):
        return _empty()
    # months as year × 12 + month − 1, so a period's months are a run of integers
    first_key = p["start"].dt.year * 12 + p["start"].dt.month - 1
    last_day = (p["end"] - pd.Timedelta(days=1)).fillna(as_of_ts).clip(upper=as_of_ts)
    last_key = last_day.dt.year * 12 + last_day.dt.month - 1
    n_months = (last_key - first_key + 1).clip(lower=0)
    rows = p.loc[p.index.repeat(n_months)].copy()
    key = first_key.loc[rows.index] + rows.groupby(level=0).cumcount()
    rows["month"] = pd.to_datetime(pd.DataFrame({"year": key // 12, "month": key % 12 + 1, "day": 1}))
    rows = rows.reset_index(drop=True)
    on_first_day = (rows["start"] <= rows["month"]) & (rows["end"].isna() | (rows["end"] > rows["month"]))
    rows["on_first_day"] = on_first_day
    any_first = rows.groupby(["customer_id", "month"])["on_first_day"].transform("any")
    # a month counts the periods active on its first day; without any, those starting in it
    counted = rows[rows["on_first_day"] | ~any_first]
    out = counted.groupby(["customer_id", "month"], as_index=False)["mrr"].sum()
    out["customer_id"] = out["customer_id"].astype("Int64")
    return out.sort_values(["customer_id", "month"]).reset_index(drop=True)[COLUMNS]


def monthly_from_invoices(invoices: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per (customer, month with an invoice): mrr = sum of the month's amounts
    (invoices dated up to the as-of date). Columns in: customer_id, date, amount."""
    inv = invoices[invoices["date"] <= pd.Timestamp(as_of)]
    if not len(inv):
        return _empty()
    month = inv["date"].dt.to_period("M").dt.to_timestamp()
    out = (inv.assign(month=month).groupby(["customer_id", "month"], as_index=False)["amount"].sum()
           .rename(columns={"amount": "mrr"}))
    out["customer_id"] = out["customer_id"].astype("Int64")
    return out.sort_values(["customer_id", "month"]).reset_index(drop=True)[COLUMNS]
