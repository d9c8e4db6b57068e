"""Benchmark: our BG/NBD fit (analytics.purchase_clv) vs lifetimes' BetaGeoFitter.

Simulates ``--n`` customers (default 100,000) from a BG/NBD process with
CDNOW-like parameters (seeded ``np.random.default_rng``), fits both
implementations on the same (frequency, recency, T) arrays, and prints the
best-of-``--repeats`` wall time of each, their ratio and the fitted parameters.

lifetimes is *not* a project dependency (it is archived); install it only for
this benchmark, outside the project venv's site-packages. lifetimes 0.11.3
(plus autograd and dill) imports and runs as-is with the project's numpy 2.4,
pandas 2.3 and scipy 1.17, so ``--no-deps`` into a throwaway target dir is
enough, no patching or separate venv needed::

    cd /work/main
    .venv/bin/pip install --no-deps --target /tmp/ltlib lifetimes==0.11.3 autograd dill
    PYTHONPATH=/tmp/ltlib .venv/bin/python -m benchmarks.bench_bgnbd

Without lifetimes on the path (e.g. under ``make bench``) only our fit is timed
and a note says how to get the comparison; the exit code is 0 either way.

Notes on what is timed:

* lifetimes' ``fit`` also computes the autograd Hessian / standard errors at the
  optimum (it always does); ours stops at the MLE. Both start from their own
  default initial values and use their default tolerances.
* Ours uses L-BFGS-B with a closed-form gradient; lifetimes uses scipy's
  default (BFGS) with autograd's reverse-mode gradient.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np

from analytics.purchase_clv import BetaGeoModel

#: CDNOW estimates (Fader, Hardie & Lee 2005a), time unit = weeks.
TRUE_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def simulate_bgnbd(
    n: int, rng: np.random.Generator, max_age_weeks: float = 78.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (frequency, recency, T) for ``n`` customers from the BG/NBD process.

    Each customer has age ``T ~ U(1, max_age_weeks)``, purchase rate
    ``lambda ~ Gamma(r, rate=alpha)`` and drop-out probability
    ``p ~ Beta(a, b)``. Repeat purchases form a Poisson(lambda) process; the
    customer dies right after repeat purchase ``J ~ Geometric(p)``. With
    ``N ~ Poisson(lambda T)`` events in ``(0, T]``, the observed frequency is
    ``x = min(N, J)`` and, since Poisson arrival times given ``N`` are sorted
    uniforms, the ``x``-th arrival is ``t_x = T * Beta(x, N - x + 1)``.
    """
    r, alpha, a, b = TRUE_PARAMS.values()
    big_t = rng.uniform(1.0, max_age_weeks, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    n_events = rng.poisson(lam * big_t)
    death_after = rng.geometric(p)
    x = np.minimum(n_events, death_after)
    has_repeat = x > 0
    recency = np.zeros(n)
    recency[has_repeat] = big_t[has_repeat] * rng.beta(x[has_repeat], n_events[has_repeat] - x[has_repeat] + 1)
    return x.astype(float), recency, big_t


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best wall time over ``repeats`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="customers to simulate")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per implementation (best is kept)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x, t_x, big_t = simulate_bgnbd(args.n, rng)
    print(
        f"simulated {args.n:,} customers (seed {args.seed}): "
        f"{np.mean(x > 0):.1%} repeaters, mean x {x.mean():.2f}, mean T {big_t.mean():.1f} weeks"
    )

    ours_s, ours = best_time(lambda: BetaGeoModel().fit(x, t_x, big_t), args.repeats)
    try:
        from lifetimes import BetaGeoFitter
    except ImportError:
        print(f"ours (analytics.purchase_clv.BetaGeoModel.fit): {ours_s:8.3f} s  (best of {args.repeats})")
        print(ours.params_.to_string())  # type: ignore[attr-defined]
        print(
            "lifetimes is not importable, so no comparison; see this script's docstring "
            "(pip install --no-deps --target /tmp/ltlib lifetimes==0.11.3 autograd dill).",
            file=sys.stderr,
        )
        return 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_s, theirs = best_time(lambda: BetaGeoFitter().fit(x, t_x, big_t), args.repeats)

    ours_p = ours.params_  # type: ignore[attr-defined]
    theirs_p = theirs.params_  # type: ignore[attr-defined]
    print(f"{'param':>6} {'true':>9} {'ours':>9} {'lifetimes':>10}")
    for name, true in TRUE_PARAMS.items():
        print(f"{name:>6} {true:9.4f} {ours_p[name]:9.4f} {theirs_p[name]:10.4f}")
    rel = np.max(np.abs(ours_p.to_numpy() / theirs_p[ours_p.index].to_numpy() - 1.0))
    print(f"max relative parameter difference ours vs lifetimes: {rel:.2e}")
    print(f"ours (analytics.purchase_clv.BetaGeoModel.fit): {ours_s:8.3f} s  (best of {args.repeats})")
    print(f"lifetimes 0.11.3 BetaGeoFitter.fit:             {theirs_s:8.3f} s  (best of {args.repeats})")
    print(f"speed-up (lifetimes / ours): {theirs_s / ours_s:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
