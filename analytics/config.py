"""Where the database lives and the small settings files the analytics read.

Resolution order for the database path (first hit wins):
1. the `RETENTION_DB` environment variable;
2. `[database] path` in `retention.toml` at the project root (or the file named by
   `RETENTION_CONFIG`);
3. the embedded sample, `data/sample.duckdb`.
Relative paths are taken from the project root so every command agrees.
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "sample.duckdb"
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "retention.toml"


def settings() -> dict:
    """The parsed `retention.toml` (empty when there is none); read again when it changes."""
    path = Path(os.environ.get("RETENTION_CONFIG", DEFAULT_CONFIG_PATH))
    if not path.is_file():
        return {}
    return _parsed(str(path), path.stat().st_mtime)


@functools.lru_cache(maxsize=8)
def _parsed(path: str, mtime: float) -> dict:  # mtime: a changed file is read again
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def _from_root(value: str | os.PathLike) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def database_path() -> Path:
    """The DuckDB file every command and the dashboard read (see module docstring)."""
    env = os.environ.get("RETENTION_DB")
    if env:
        return _from_root(env)
    configured = settings().get("database", {}).get("path")
    if configured:
        return _from_root(configured)
    return DEFAULT_DB_PATH
