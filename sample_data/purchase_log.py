"""A purchase-only database: customers who buy without subscriptions (no churn dates, no
monthly revenue), their purchases as ``purchase`` touchpoints with an ``amount``.

Purchases follow the BG/NBD story (Fader, Hardie & Lee 2005a): each customer's first
purchase is their signup day; while alive they buy as a Poisson process with weekly rate
λ ~ Gamma(r, rate α), and after each purchase drop out with probability p ~ Beta(a, b).
Amounts follow Gamma-Gamma: ν ~ Gamma(q, rate γ) per customer, each amount ~ Gamma(p_s,
rate ν). Defaults are the published CDNOW estimates quoted in the product brief (BG/NBD
r=0.243, α=4.414, a=0.793, b=2.426; Gamma-Gamma p=6.25, q=3.74, γ=15.44). Every draw comes
from one seeded `np.random.Generator`.

    python -m sample_data.purchase_log --customers 2000 --seed 3 --out /tmp/purchases.duckdb
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics.schema import REQUIRED_TABLES, SCHEMA_VERSION, TABLES, create_table_sql

SEGMENTS = ("online", "store")
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}


def write_purchase_log_database(path: str | Path, customers: int = 600, seed: int = 11,
                                as_of: date = date(2024, 12, 31), history_weeks: int = 78,
                                margin_rate: float = 0.3, params: dict[str, float] | None = None) -> Path:
    """Write the database at `path` (replacing it) and return the path. Customers sign up
    (first purchase) uniformly over the `history_weeks` weeks before `as_of`; purchases
    after `as_of` are not written."""
    k = {**CDNOW, **(params or {})}
    rng = np.random.default_rng(seed)
    start = as_of - timedelta(weeks=history_weeks)
    horizon_days = (as_of - start).days
    signup_offset = rng.integers(0, horizon_days + 1, customers)
    lam = rng.gamma(k["r"], 1.0 / k["alpha"], customers)  # per week
    drop = rng.beta(k["a"], k["b"], customers)
    nu = rng.gamma(k["q"], 1.0 / k["v"], customers)
    cust_rows, touch_rows = [], []
    for i in range(customers):
        cid = i + 1
        signup = start + timedelta(days=int(signup_offset[i]))
        cust_rows.append((cid, f"Buyer {cid}", SEGMENTS[i % len(SEGMENTS)], signup, margin_rate))
        day = float(signup_offset[i])
        while day <= horizon_days:
            amount = round(float(rng.gamma(k["p"], 1.0 / nu[i])), 2)
            touch_rows.append((len(touch_rows) + 1, cid, start + timedelta(days=int(day)), amount))
            if rng.random() < drop[i]:
                break
            day += rng.exponential(7.0 / lam[i]) if lam[i] > 0 else horizon_days + 1
    path = Path(path)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        for table in REQUIRED_TABLES:
            con.execute(create_table_sql(table, TABLES[table]))
        con.executemany("insert into schema_info values (?, ?)",
                        [("schema_version", SCHEMA_VERSION), ("as_of_date", as_of.isoformat()),
                         ("history_start", start.isoformat())])
        # inserted from frames: row-by-row executemany takes seconds for a few thousand rows
        new_customers = pd.DataFrame(cust_rows, columns=["customer_id", "full_name", "segment", "signup_date",
                                                         "margin_rate"])
        purchases = pd.DataFrame(touch_rows, columns=["touchpoint_id", "customer_id", "occurred_at", "amount"])
        purchases["occurred_at"] = pd.to_datetime(purchases["occurred_at"])
        con.register("new_customers", new_customers)
        con.register("purchases", purchases)
        con.execute("insert into customers (customer_id, full_name, segment, signup_date, margin_rate, region, plan) "
                    "select customer_id, full_name, segment, signup_date, margin_rate, 'all', 'none' "
                    "from new_customers")
        con.execute("insert into touchpoints (touchpoint_id, customer_id, occurred_at, amount, kind, channel, "
                    "direction) select touchpoint_id, customer_id, occurred_at, amount, 'purchase', 'web', "
                    "'inbound' from purchases")
    finally:
        con.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write_purchase_log_database(args.out, args.customers, args.seed))


if __name__ == "__main__":
    main()
