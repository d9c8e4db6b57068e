"""The agents directory: who the owner codes on cases and accounts are (issue 16; issue 17,
"Owners shown as names"; decision 023).

An **agent** has an ``id`` — the value stored as a case's owner and as a customer's
``account_owner`` (e.g. ``ret-003``) — a display ``name``, an ``email`` (how a signed-in
user is recognised as that agent) and an optional ``role`` (analytics.access; "agent" when
none is named).

Where the directory comes from (first non-empty wins):

1. ``[[team.agents]]`` entries in retention.toml::

       [[team.agents]]
       id = "ret-003"
       name = "Noa Levi"
       email = "noa@example.com"
       role = "team_lead"        # optional

2. an ``agents`` table in the analytics database, with columns ``agent_id`` (or ``id``),
   ``name`` and optionally ``email`` and ``role``;
3. none: owners are shown as stored, and assigning takes free text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from analytics.access import check_role
from analytics.db import Database
from analytics.metrics._common import execute

AGENT_COLUMNS: dict[str, str] = {"id": "string", "name": "string", "email": "string", "role": "string"}
AGENTS_TABLE = "agents"


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(AGENT_COLUMNS))
    return df.astype(AGENT_COLUMNS).reset_index(drop=True)


def directory_from_settings(entries: Iterable[Mapping], where: str = "[[team.agents]]") -> pd.DataFrame:
    """The directory (`AGENT_COLUMNS`, one row per agent, in the order given) from config
    entries. An entry needs an ``id``; its ``name`` defaults to the id. A repeated id, an
    entry that is not a table, or an unknown role is a `ValueError` naming it."""
    rows, seen = [], set()
    for n, entry in enumerate(entries or [], start=1):
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} entry {n} is not a table; write id = \"…\", name = \"…\", email = \"…\"")
        agent_id = str(entry.get("id") or "").strip()
        if not agent_id:
            raise ValueError(f"{where} entry {n} has no id (the owner code stored on cases, e.g. \"ret-003\")")
        if agent_id in seen:
            raise ValueError(f"{where}: the id {agent_id!r} appears twice")
        seen.add(agent_id)
        role = entry.get("role")
        rows.append({"id": agent_id, "name": str(entry.get("name") or agent_id).strip(),
                     "email": (str(entry["email"]).strip() or None) if entry.get("email") else None,
                     "role": check_role(role) if role else None})
    return _frame(rows)


def directory_from_database(db: Database) -> pd.DataFrame:
    """The directory from the analytics database's ``agents`` table (module docstring), or
    an empty one when there is no such table or it lacks an id and a name column."""
    if not db.has_table(AGENTS_TABLE):
        return _frame([])
    t = db.table(AGENTS_TABLE)
    columns = set(t.columns)
    id_column = "agent_id" if "agent_id" in columns else "id" if "id" in columns else None
    if id_column is None or "name" not in columns:
        return _frame([])
    picked = {"id": t[id_column].cast("string"), "name": t["name"].cast("string")}
    for optional in ("email", "role"):
        if optional in columns:
            picked[optional] = t[optional].cast("string")
    df = execute(db, t.select(**picked).order_by("id"))
    for optional in ("email", "role"):
        if optional not in df.columns:
            df[optional] = None
    df = df.dropna(subset=["id"]).drop_duplicates("id")
    df["name"] = df["name"].where(df["name"].notna(), df["id"])
    df["role"] = [check_role(r) if isinstance(r, str) and r.strip() else None for r in df["role"]]
    return _frame(df[list(AGENT_COLUMNS)].to_dict("records"))


def agent_directory(entries: Iterable[Mapping] | None, db: Database | None = None) -> pd.DataFrame:
    """The directory: the config entries when there are any, else the database's table
    (module docstring)."""
    configured = directory_from_settings(entries or [])
    if not configured.empty or db is None:
        return configured
    return directory_from_database(db)


def owner_name(directory: pd.DataFrame, owner) -> str:
    """The display name of an owner code: the directory's name for that id, else the code
    as stored ("" for none)."""
    if owner is None or (isinstance(owner, float) and pd.isna(owner)) or owner is pd.NA:
        return ""
    code = str(owner)
    hit = directory.loc[directory["id"] == code, "name"]
    return str(hit.iloc[0]) if len(hit) else code


def agent_for_email(directory: pd.DataFrame, email: str | None) -> dict | None:
    """The directory row of the agent with this e-mail (case-insensitive), or None."""
    if not email:
        return None
    mail = email.strip().casefold()
    hit = directory[directory["email"].fillna("").str.strip().str.casefold() == mail]
    return hit.iloc[0].to_dict() if len(hit) else None


def directory_roles(directory: pd.DataFrame) -> dict[str, str]:
    """E-mail -> role ("agent" when the entry names none) for the agents with an e-mail."""
    return {str(e): (r if isinstance(r, str) and r else "agent")
            for e, r in zip(directory["email"], directory["role"]) if isinstance(e, str) and e}
