"""Every page renders over the Parquet export on Spark (`[engine] kind = "spark"`), as
`make run RETENTION_CONFIG=retention-spark.toml` serves it: AppTest runs each page in
this process, where `open_engine` reuses the test session's SparkSession."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP

PAGES = sorted(p.name for p in (Path(APP).parents[1] / "pages").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_spark(monkeypatch, sample_files, spark, page) -> None:
    monkeypatch.delenv("RETENTION_DB", raising=False)
    monkeypatch.setenv("RETENTION_CONFIG", str(sample_files[1]))
    at = AppTest.from_file(APP, default_timeout=240)
    at.switch_page(f"../pages/{page}")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    if page == "model.py":
        # the fixture's scores come with a placeholder model card (conftest._write_scores),
        # which the Model page rightly refuses, on DuckDB as on Spark
        errors = [e for e in errors if not e.startswith("The stored model card cannot be read")]
    assert not errors
