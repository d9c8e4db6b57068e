"""AppTest: after a page run the server prepares, in idle time, the query plans of a
first filter (dashboard/prepare.py), so that filter builds and compiles nothing."""

from __future__ import annotations

import shutil

from analytics import plans
from dashboard import data, prepare
from tests.app.apptest import metric_values, no_exception, run_page


def test_the_first_filter_finds_every_plan_prepared(monkeypatch, sample_db_path, tmp_path) -> None:
    path = shutil.copy(sample_db_path, tmp_path / "prepared.duckdb")  # caches of its own
    monkeypatch.setenv("RETENTION_PREPARE_FILTERS", "1")
    at = run_page(monkeypatch, path, "overview.py")
    no_exception(at)
    everyone = metric_values(at)["Active customers"]
    assert prepare.wait_until_prepared(timeout=120)
    cache = plans.plan_cache(data.database())
    assert len(cache.keys()) > 20  # the page's plans and those prepared for a next filter
    misses, hits = cache.misses, cache.hits

    at.sidebar.multiselect(key="flt_segments").select("consumer")
    at.run()
    no_exception(at)
    assert metric_values(at)["Active customers"] != everyone  # the filter applied
    assert cache.misses == misses  # nothing built or compiled on the first filter
    assert cache.hits > hits + 10
    assert prepare.wait_until_prepared(timeout=120)


def test_switched_off_it_prepares_nothing(monkeypatch, sample_db_path, tmp_path) -> None:
    path = shutil.copy(sample_db_path, tmp_path / "unprepared.duckdb")
    monkeypatch.setenv("RETENTION_PREPARE_FILTERS", "0")
    at = run_page(monkeypatch, path, "overview.py")
    no_exception(at)
    cache = plans.plan_cache(data.database())
    kept = len(cache.keys())
    at.sidebar.multiselect(key="flt_segments").select("consumer")
    at.run()
    no_exception(at)
    assert cache.misses > 0 and len(cache.keys()) > kept  # the filter built its own plans
