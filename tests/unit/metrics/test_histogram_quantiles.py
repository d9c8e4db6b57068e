"""`histogram_quantiles` (the wait quantiles of `service_levels` from its cube): the
continuous quantile of the raw values — DuckDB's quantile_cont and numpy's "linear" — from
(value, count) pairs, on hand-worked cases (ties, n = 1, n = 2, nothing) and on random
integer waits."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.metrics._common import histogram_quantiles

QS = (0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0)


def _hist(raw):
    values, counts = np.unique(np.asarray(raw), return_counts=True)
    return values, counts


@pytest.mark.parametrize("raw, qs, expected", [
    ([7], (0.5, 0.9), [7.0, 7.0]),                       # n = 1: the value itself
    ([10, 20], (0.5, 0.9), [15.0, 19.0]),                # n = 2: positions 0.5 and 0.9
    ([5, 5, 5, 9], (0.5, 0.9), [5.0, 7.8]),              # ties: position 1.5 in the 5s; 2.7 = 5·0.3 + 9·0.7
    ([30, 30, 61, 600], (0.5, 0.9), [45.5, 438.3]),      # 1.5 -> (30 + 61)/2; 2.7 -> 61·0.3 + 600·0.7
    ([3, 1, 2], (0.0, 1.0), [1.0, 3.0]),                 # the ends are the min and the max
])
def test_hand_worked_quantiles(raw, qs, expected):
    values, counts = _hist(raw)
    assert histogram_quantiles(values, counts, qs) == pytest.approx(expected, rel=1e-12)


def test_nothing_gives_nan():
    assert all(math.isnan(q) for q in histogram_quantiles([], [], (0.5, 0.9)))


def test_a_tie_is_its_value_exactly():
    # lo·(1 − d) + hi·d with lo = hi can be off by a bit; the function returns the value
    assert histogram_quantiles([3.0], [10], (0.1, 0.9)) == [3.0, 3.0]


def test_equal_to_numpy_and_duckdb_on_raw_integer_waits():
    rng = np.random.default_rng(15)
    con = duckdb.connect()
    for trial in range(200):
        n = int(rng.integers(1, 40 if trial % 2 else 2_000))
        waits = rng.integers(0, int(rng.integers(1, 700)), n).astype("int32")  # many ties
        got = histogram_quantiles(*_hist(waits), QS)
        assert got == pytest.approx([np.quantile(waits, q) for q in QS], rel=1e-12, abs=0), trial
        frame = pd.DataFrame({"w": waits})  # noqa: F841  (read by DuckDB by name)
        duck = con.execute(f"select quantile_cont(w, {list(QS)}) from frame").fetchall()[0][0]
        # the same order statistics and weight; DuckDB may fuse the last multiply-add
        assert got == pytest.approx(duck, rel=1e-12, abs=0), trial
        for q, value in zip(QS, got):
            if float((n - 1) * q).is_integer():  # no interpolation: the very order statistic
                assert value == duck[QS.index(q)]
