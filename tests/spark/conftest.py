"""One generated sample, on DuckDB and on Spark (local[2]), for the equality tests.

The sample (1,500 customers, seed 5) is generated once, given deterministic churn scores
(see `_write_scores`: the at-risk list and margin at risk read them), exported to Parquet
with `python -m analytics.engine export-parquet`, and opened on both engines. One Spark
session serves the whole test session (building one takes ~10 s)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.db import Database, open_database, open_spark, spark_session
from analytics.engine import main as engine_main
from sample_data.generate import generate

SPARK_SETTINGS = {
    "master": "local[2]",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "1g",
    "log_level": "ERROR",
}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark():
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: `make test` installs one (openjdk-17-jre-headless)")
    session = spark_session(SPARK_SETTINGS)
    yield session
    session.stop()


def _write_scores(db: Database) -> None:
    """Churn scores for everyone active on the as-of date and a month before, made up
    deterministically from the customer id (the at-risk queries are under test here, not
    the model: tests/spark/test_scoring_on_spark.py scores for real). Written with DuckDB
    SQL, a fixture's privilege; the values are DOUBLE as the scorer writes them (`x * 1.0`
    would be a DECIMAL in DuckDB, and a DuckDB table keeps its column types on insert)."""
    con = db.cursor()
    con.execute("""
        create table churn_scores as
        with days as (select * from (values (date '2026-09-30'), (date '2026-08-31')) d(as_of_date))
        select c.customer_id, d.as_of_date,
               ((c.customer_id * 7919) % 1000) / 1000.0 as churn_probability,
               ((c.customer_id * 31) % 500)::double as clv_historical,
               ((c.customer_id * 31) % 500)::double + ((c.customer_id * 17) % 900) as clv_predicted,
               ((c.customer_id * 7919) % 1000) / 1000.0 * ((c.customer_id * 17) % 900) as expected_loss,
               row_number() over (partition by d.as_of_date
                                  order by ((c.customer_id * 7919) % 1000) desc, c.customer_id) as risk_rank,
               'Contract: monthly' as driver_1, 'Plan: basic' as driver_2, null::varchar as driver_3,
               'fixture-1' as model_version, timestamp '2026-10-01 06:00:00' as scored_at,
               'contract' as driver_group_1, 'plan' as driver_group_2, null::varchar as driver_group_3,
               ((c.customer_id * 17) % 900)::double as clv_future
        from customers c cross join days d
        where c.signup_date <= d.as_of_date and (c.churn_date is null or c.churn_date > d.as_of_date)
    """)
    con.execute("""create table model_runs as select 'fixture-1' as model_version,
                   timestamp '2026-10-01 06:00:00' as trained_at, date '2026-09-30' as as_of_date,
                   '{}' as card_json""")
    db.checkpoint()


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory) -> tuple[Path, Path]:
    """(the DuckDB file, the Spark config written by export-parquet)."""
    root = tmp_path_factory.mktemp("spark-sample")
    path = root / "sample.duckdb"
    generate(path, customers=1_500, seed=5)
    db = open_database(path, read_only=False)
    try:
        _write_scores(db)
    finally:
        db.close()
    config = root / "retention-spark.toml"
    assert engine_main(["export-parquet", "--db", str(path), "--out", str(root / "parquet"),
                        "--config", str(config)]) == 0
    return path, config


@pytest.fixture(scope="session")
def duck(sample_files) -> Iterator[Database]:
    db = open_database(sample_files[0], read_only=True)
    yield db
    db.close()


@pytest.fixture(scope="session")
def sparkdb(sample_files, spark) -> Database:
    import tomllib

    with sample_files[1].open("rb") as fh:
        engine = tomllib.load(fh)["engine"]
    return open_spark(engine["tables"], session=spark, config_path=sample_files[1])
