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


def config_path() -> Path:
    """The settings file: `RETENTION_CONFIG` (relative to the project root), else
    `retention.toml` at the project root."""
    env = os.environ.get("RETENTION_CONFIG")
    return _from_root(env) if env else DEFAULT_CONFIG_PATH


def settings() -> dict:
    """The parsed `retention.toml` (empty when there is none); read again when it changes."""
    path = config_path()
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


ENGINES = ("duckdb", "spark")


def engine_settings() -> dict:
    """The `[engine]` table: ``kind`` ("duckdb", the default, or "spark"), ``tables``
    (`[engine.tables]`: table name -> Parquet path or catalog table name) and ``spark``
    (`[engine.spark]`: master, log_level and spark.* settings) and ``output`` (the folder
    tables written on Spark — scores, model runs — go to as `<table>.parquet`; None = next
    to the Parquet inputs, see `analytics.db.open_spark`). For example::

        [engine]
        kind = "spark"
        output = "data/spark"                         # optional
        [engine.tables]
        customers = "data/spark/customers.parquet"
        ...
        [engine.spark]
        master = "local[2]"
        "spark.sql.shuffle.partitions" = 4

    A DuckDB engine reads `database_path()`; `RETENTION_DB` set in the environment also
    selects DuckDB (it names a DuckDB file)."""
    engine = dict(settings().get("engine", {}))
    kind = str(engine.get("kind", "duckdb")).lower()
    if os.environ.get("RETENTION_DB"):
        kind = "duckdb"
    if kind not in ENGINES:
        raise ValueError(f"{config_path()}: [engine] kind = {kind!r}; use one of {', '.join(ENGINES)}")
    output = engine.get("output")
    if output is not None and not isinstance(output, str):
        raise ValueError(f"{config_path()}: [engine] output = {output!r}; give a folder path in quotes")
    return {"kind": kind, "tables": dict(engine.get("tables", {})), "spark": dict(engine.get("spark", {})),
            "output": output}


DEFAULT_ACTIONS_FILE = "actions.sqlite"


def actions_url() -> str:
    """Where the retention team's action store lives (analytics.actions; decision 021), a
    SQLAlchemy URL. First hit wins:

    1. the `RETENTION_ACTIONS_URL` environment variable;
    2. `[actions] url` in `retention.toml`, e.g. ``url = "postgresql+psycopg://host/retention"``;
    3. an embedded SQLite file, ``actions.sqlite``, next to the analytics database.

    A relative SQLite path is taken from the project root. The store is never the analytics
    DuckDB file: the scorer and the importer replace that file, and the actions must survive."""
    from sqlalchemy.engine import make_url

    url = os.environ.get("RETENTION_ACTIONS_URL") or settings().get("actions", {}).get("url")
    if not url:
        return f"sqlite:///{database_path().parent / DEFAULT_ACTIONS_FILE}"
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"the action store URL {url!r} (RETENTION_ACTIONS_URL or [actions] url) is not a database "
                         "URL; write it like sqlite:///data/actions.sqlite or postgresql+psycopg://host/db") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not Path(parsed.database).is_absolute():
        parsed = parsed.set(database=str(_from_root(parsed.database)))
    return parsed.render_as_string(hide_password=False)


DEFAULT_FIRST_ATTEMPT_SLA_DAYS = 2.0


def first_attempt_sla_days() -> float:
    """The retention team's first-attempt SLA (analytics.team_outcomes): a case should get
    its first contact attempt within this many days of being opened. `[actions]
    first_attempt_sla_days` in `retention.toml`, default 2; a number above 0."""
    value = settings().get("actions", {}).get("first_attempt_sla_days", DEFAULT_FIRST_ATTEMPT_SLA_DAYS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{config_path()}: [actions] first_attempt_sla_days = {value!r}; give a number of days "
                         "above 0, e.g. 2")
    return float(value)


def access_settings() -> dict:
    """The `[access]` table: who gets which role once signed in (analytics.access; decision
    023). For example::

        [access]
        group_claim = "groups"            # the ID-token claim holding the user's groups
        default_role = ""                 # a signed-in user matched by nothing: no access
        [access.emails]
        "dana@example.com" = "admin"
        [access.groups]
        "retention-managers" = "manager"
        "retention-agents" = "agent"

    Without sign-in configured (no `[auth]` in .streamlit/secrets.toml) none of this is read:
    the app runs as one local admin."""
    access = settings().get("access", {})
    if not isinstance(access, dict):
        raise ValueError(f"{config_path()}: [access] must be a table")
    return access


def team_agents() -> list[dict]:
    """The `[[team.agents]]` entries (the agents directory, analytics.agents): id, name,
    email and an optional role each; [] when there are none."""
    agents = settings().get("team", {}).get("agents", [])
    if not isinstance(agents, list):
        raise ValueError(f"{config_path()}: write the agents as [[team.agents]] tables (id, name, email)")
    return agents


# The measured programme (decision 022): the holdout share of a worked list, the follow-up
# window, and the unit costs the measured ROI prices logged actions and offers at (the
# defaults are analytics.roi's DEFAULT_COST_PER_ACTION / DEFAULT_COST_PER_OFFER).
PROGRAMME_DEFAULTS: dict[str, float] = {
    "holdout_share": 0.10,
    "follow_up_days": 90,
    "cost_per_action": 20.0,
    "cost_per_offer": 100.0,
}


def programme_settings() -> dict[str, float]:
    """`[actions]` holdout_share (a share in [0, 1): 0.1 holds out 10 % of a worked list;
    0 = no holdout), follow_up_days (whole days >= 1) and cost_per_action / cost_per_offer
    (>= 0, in the display currency), each defaulting to `PROGRAMME_DEFAULTS`. A bad value
    is a `ValueError` naming the file and the setting."""
    table = settings().get("actions", {})
    out: dict[str, float] = {}
    for name, default in PROGRAMME_DEFAULTS.items():
        value = table.get(name, default)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        if ok and name == "holdout_share":
            ok = 0 <= value < 1
        elif ok and name == "follow_up_days":
            ok = value >= 1 and int(value) == value
        elif ok:
            ok = value >= 0
        if not ok:
            wanted = {"holdout_share": "a share in [0, 1), e.g. 0.1", "follow_up_days": "whole days >= 1, e.g. 90"}
            raise ValueError(f"{config_path()}: [actions] {name} = {value!r}; use "
                             f"{wanted.get(name, 'an amount >= 0')}")
        out[name] = int(value) if name == "follow_up_days" else float(value)
    return out


LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")
DEFAULT_BRAND_NAME = "Retention Radar"


def brand_settings() -> dict:
    """The `[brand]` table: the company's ``name``, ``logo`` (a PNG, JPEG or GIF file,
    relative to the project root) and ``colours`` (hex codes, the first is the accent),
    for the deck, the PDF and Presentation mode, e.g.::

        [brand]
        name = "Acme Telecom"
        logo = "config/acme.png"
        colours = ["#0B3D91", "#F2A900"]

    Returns ``{"name", "logo" (Path or None), "colours" (tuple of "#RRGGBB")}``; a
    missing table gives the defaults (our name, no logo, no colours). A bad value raises
    a one-line ValueError naming the setting."""
    brand = settings().get("brand", {})
    name = brand.get("name", DEFAULT_BRAND_NAME)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{config_path()}: [brand] name = {name!r}; give the company name in quotes")
    logo = brand.get("logo")
    logo_path = None
    if logo is not None:
        logo_path = _from_root(str(logo))
        if logo_path.suffix.lower() not in LOGO_SUFFIXES:
            raise ValueError(f"{config_path()}: [brand] logo = {logo!r}; use a PNG, JPEG or GIF file")
        if not logo_path.is_file():
            raise ValueError(f"{config_path()}: [brand] logo = {logo!r}; no such file ({logo_path})")
    colours = brand.get("colours", [])
    if isinstance(colours, str):
        colours = [colours]
    checked = []
    for c in colours:
        text = str(c).strip()
        digits = text.lstrip("#")
        if len(digits) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in digits):
            raise ValueError(f"{config_path()}: [brand] colours has {c!r}; write colours as hex codes like \"#0B3D91\"")
        checked.append("#" + digits.upper())
    return {"name": name.strip(), "logo": logo_path, "colours": tuple(checked)}
