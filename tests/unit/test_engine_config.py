"""The engine seam's configuration (decision 017): `[engine]` is read as documented, the
export writes a config that reads back to the same tables, and a bad engine section is a
one-line `DatabaseError`, before any Spark session is started."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from analytics import config
from analytics.db import DatabaseError, DuckDBDatabase, EngineConfigError, SparkDatabase, open_engine, open_spark
from analytics.engine import export_parquet, spark_config_text
from tests.builders import build_database


@pytest.fixture
def config_file(monkeypatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("RETENTION_DB", raising=False)
    path = tmp_path / "retention.toml"
    monkeypatch.setenv("RETENTION_CONFIG", str(path))
    return path


def test_duckdb_is_the_default_engine(config_file: Path) -> None:
    config_file.write_text('[database]\npath = "x.duckdb"\n')
    assert config.engine_settings() == {"kind": "duckdb", "tables": {}, "spark": {}, "output": None}


def test_spark_section_is_read_with_tables_and_settings(config_file: Path) -> None:
    config_file.write_text('[engine]\nkind = "Spark"\n[engine.tables]\ncustomers = "data/c.parquet"\n'
                           '[engine.spark]\nmaster = "local[2]"\n"spark.sql.shuffle.partitions" = 4\n')
    engine = config.engine_settings()
    assert engine["kind"] == "spark"
    assert engine["tables"] == {"customers": "data/c.parquet"}
    assert engine["spark"] == {"master": "local[2]", "spark.sql.shuffle.partitions": 4}


def test_retention_db_in_the_environment_means_a_duckdb_file(config_file: Path, monkeypatch) -> None:
    config_file.write_text('[engine]\nkind = "spark"\n')
    monkeypatch.setenv("RETENTION_DB", "elsewhere.duckdb")
    assert config.engine_settings()["kind"] == "duckdb"


def test_unknown_engine_is_a_one_line_database_error(config_file: Path) -> None:
    config_file.write_text('[engine]\nkind = "snowflake"\n')
    with pytest.raises(EngineConfigError, match="kind = 'snowflake'; use one of duckdb, spark"):
        open_engine()


def test_missing_table_locations_are_named_before_spark_starts(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"lacks schema_info, touchpoints, monthly_revenue"):
        open_spark({"customers": str(tmp_path / "c.parquet")}, config_path=tmp_path / "spark.toml")


def test_open_engine_opens_the_duckdb_file_by_default(config_file: Path, tmp_path: Path) -> None:
    db_path = build_database(tmp_path / "tiny.duckdb")
    config_file.write_text(f'[database]\npath = "{db_path}"\n')
    db = open_engine()
    try:
        assert isinstance(db, DuckDBDatabase) and db.read_only
        assert db.has_table("customers") and not db.has_table("churn_scores")
        assert "schema_info" in db.table_names()
    finally:
        db.close()


def test_export_writes_every_table_and_a_config_that_names_them(tmp_path: Path) -> None:
    db_path = build_database(tmp_path / "tiny.duckdb")
    tables = export_parquet(db_path, tmp_path / "pq")
    assert set(tables) == {"customers", "touchpoints", "monthly_revenue", "schema_info"}
    assert all(path.is_file() for path in tables.values())
    text = spark_config_text(tables, currency="€")
    parsed = tomllib.loads(text)
    assert parsed["engine"]["kind"] == "spark"
    assert {k: Path(v) for k, v in parsed["engine"]["tables"].items()} == {k: p.resolve() for k, p in tables.items()}
    assert parsed["engine"]["spark"]["master"] == "local[2]"
    assert parsed["display"]["currency"] == "€"


def test_engine_output_folder_is_read(config_file: Path) -> None:
    config_file.write_text('[engine]\nkind = "spark"\noutput = "data/spark-out"\n')
    assert config.engine_settings()["output"] == "data/spark-out"


def test_engine_output_that_is_not_a_path_is_a_one_line_error(config_file: Path) -> None:
    config_file.write_text('[engine]\nkind = "spark"\noutput = 3\n')
    with pytest.raises(EngineConfigError, match=r"\[engine\] output = 3; give a folder path in quotes"):
        open_engine()


def test_writing_on_spark_without_an_output_folder_says_where_to_set_it(tmp_path: Path) -> None:
    """Catalog tables only and no `[engine] output`: nothing to write next to, so a write
    is refused with the setting to add, before Spark is asked anything (no backend here)."""
    db = SparkDatabase(tmp_path / "spark.toml", backend=None, read_only=False, output=None)
    with pytest.raises(EngineConfigError, match=r"nowhere to write churn_scores on Spark: set \[engine\] output"):
        db.write_table("churn_scores", None)
    assert not any(tmp_path.iterdir())
