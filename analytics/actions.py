"""The retention team's action store: what was done about an at-risk customer, by whom, and
what happens next (issue 16; decision 021).

A writable store of the app's own, apart from the read-only analytics DuckDB file (the
scorer and the importer replace that file; nothing written here may go with it). SQLAlchemy
Core over a URL (`analytics.config.actions_url`): by default an embedded SQLite file next to
the analytics database, in WAL mode with a busy timeout so many sessions write at once; a
Postgres URL (``postgresql+psycopg://…``) for a team deployment goes through the same code
(the SQL here is dialect-neutral Core, every value a bound parameter; the unit tests run on
both). The schema is versioned with alembic migrations
(analytics/action_migrations/versions), run at `open_store`.

Definitions:

- **Action**: one row of ``customer_actions``, an append-only log — rows are never updated
  or deleted. Each row is the case's whole state after the action: ``status``, ``owner``
  and ``follow_up_date`` (carried forward from the previous row unless the action changes
  them), plus that action's own ``outcome`` and ``note``, ``created_at`` (UTC) and
  ``created_by``.
- **Case**: a customer with at least one action. Its **current state** is its latest row,
  latest = the highest ``id`` (the order the store accepted the rows); its **timeline** is
  all its rows, newest first. A customer without actions has no case (status "new").
- **Status**: one of `STATUSES` — new → attempted → reached → offer_made → saved / lost /
  not_now. Any status may follow any other (people correct mistakes); an unknown one is
  refused with a `ValueError` naming the valid ones.
- **Open case**: status new, attempted, reached or offer_made; or not_now *with* a
  follow-up date (a snooze: the case comes back on that date). saved, lost and not_now
  without a date are closed.
- **Audit log**: every write (record, assign, holdout) also appends one ``audit_log`` row —
  who, when (UTC), what (``action`` and a one-line ``detail``) and how many rows it wrote;
  `audit` appends the rows of what happens elsewhere (exports, imports, the sample
  generated; decision 023).
- **Holdout assignment** (decision 022): when a list is worked, each of its customers gets
  one ``holdout_assignments`` row per *programme period* (the calendar year of the list's
  as-of date, `programme_period`): held out (the control group, not contacted) or worked.
  The draw is `holdout_draw` — a hash of (period, customer id) below the configured share,
  so it is random across customers but the same on every run, in every session and in the
  sample generator. The first row of a (customer, period) stands: a customer once held out
  stays held out for that period, whatever the share is later set to.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

STATUSES: tuple[str, ...] = ("new", "attempted", "reached", "offer_made", "saved", "lost", "not_now")
OPEN_STATUSES: tuple[str, ...] = ("new", "attempted", "reached", "offer_made")
SNOOZE_STATUS = "not_now"  # open while it has a follow-up date
MAX_NAME_LENGTH = 200      # owner, created_by, outcome: String(200) in the schema
MAX_NOTE_LENGTH = 10_000
BUSY_TIMEOUT_MS = 30_000   # SQLite: a writer waits this long for another session's write
MIGRATIONS = Path(__file__).resolve().parent / "action_migrations"
VERSION_TABLE = "action_store_version"  # alembic's version table, named apart from other apps'
HEAD = "0002"
# Postgres: the advisory lock every store write takes first (`_writing`); any fixed bigint
# (this one is "RRACTION" in ASCII), the same in every process writing the store
PG_WRITE_LOCK = 0x5252414354494F4E


class _Keep:
    """The "leave it as it is" value of `record_action`'s owner and follow-up date."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


class ActionStoreError(Exception):
    """The action store cannot be opened or written (the message says why and what to do)."""


# --- schema (what migrations 0001 and 0002 create; the migrations own the DDL) --------------------------

metadata = sa.MetaData()
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only

customer_actions = sa.Table(
    "customer_actions", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("owner", sa.String(MAX_NAME_LENGTH)),
    sa.Column("follow_up_date", sa.Date),
    sa.Column("outcome", sa.String(MAX_NAME_LENGTH)),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(MAX_NAME_LENGTH), nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("occurred_at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("row_count", sa.Integer, nullable=False),
)

holdout_assignments = sa.Table(
    "holdout_assignments", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("period", sa.String(20), nullable=False),
    sa.Column("held_out", sa.Boolean, nullable=False),
    sa.Column("share", sa.Float, nullable=False),
    sa.Column("assigned_on", sa.Date, nullable=False),
    sa.Column("list_as_of", sa.Date, nullable=False),
    sa.Column("assigned_by", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("customer_id", "period"),
)

ACTION_COLUMNS: dict[str, str] = {
    "id": "int64",
    "customer_id": "int64",
    "status": "string",
    "owner": "string",
    "follow_up_date": "datetime64[ns]",
    "outcome": "string",
    "note": "string",
    "created_at": "datetime64[ns]",
    "created_by": "string",
}
CASE_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "status": "string",
    "owner": "string",
    "follow_up_date": "datetime64[ns]",
    "outcome": "string",      # of the latest action
    "note": "string",         # of the latest action
    "updated_at": "datetime64[ns]",
    "updated_by": "string",
    "actions": "int64",       # rows in the case's timeline
}
HOLDOUT_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "period": "string",
    "held_out": "bool",
    "share": "float64",
    "assigned_on": "datetime64[ns]",
    "list_as_of": "datetime64[ns]",
    "assigned_by": "string",
}
AUDIT_COLUMNS: dict[str, str] = {
    "id": "int64", "occurred_at": "datetime64[ns]", "actor": "string", "action": "string", "detail": "string",
    "row_count": "int64",
}


# --- opening -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActionStore:
    """An open action store: a SQLAlchemy engine (a pool of connections; each thread, e.g.
    each Streamlit session, takes its own) and the URL it was opened at (`where`, password
    hidden). Close with `close()`."""

    engine: Engine
    where: str

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None) -> ActionStore:
    """Open the action store at `url` (None: `analytics.config.actions_url()`), creating it
    and running its migrations up to `HEAD` when needed (a no-op when already there).

    SQLite: the file's folder is created; WAL journal (readers never block the writer),
    `BUSY_TIMEOUT_MS` busy timeout (a writer waits for another instead of failing),
    synchronous=FULL (an acknowledged write survives a crash), and every write
    transaction starts with BEGIN IMMEDIATE so a read-then-append is one atomic step.
    Raises `ActionStoreError` with the reason, `ValueError` for a URL that is not one."""
    from analytics import config

    url = url or config.actions_url()
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(f"the action store URL {url!r} is not a database URL; write it like "
                         "sqlite:///data/actions.sqlite or postgresql+psycopg://host/db") from None
    where = parsed.render_as_string(hide_password=True)
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).expanduser().resolve()
        if path == config.database_path().resolve():
            raise ValueError(f"the action store {path} is the analytics database; the scorer and the importer "
                             "replace that file — point [actions] url at a file of its own")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ActionStoreError(f"cannot create the folder of the action store {path}: {err}") from err
    try:
        engine = sa.create_engine(parsed)
    except (sa.exc.ArgumentError, ImportError) as err:  # e.g. a Postgres URL without its driver installed
        raise ActionStoreError(f"cannot open the action store at {where}: {err}") from err
    if sqlite:
        _sqlite_settings(engine)
    store = ActionStore(engine, where)
    try:
        upgrade(store)
    except Exception:
        engine.dispose()
        raise
    return store


def _sqlite_settings(engine: Engine) -> None:
    # The pysqlite driver's own transaction handling is switched off and SQLAlchemy emits
    # BEGIN itself (the recipe of SQLAlchemy's SQLite docs, "Enabling Non-Legacy SQLite
    # Transactional Modes"), so a write can start with BEGIN IMMEDIATE: it takes the write
    # lock before reading the previous state, and a second writer waits (busy timeout)
    # instead of appending a state computed from a stale read.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("store_write") else "BEGIN")


@contextmanager
def _writing(store: ActionStore) -> Iterator[Connection]:
    """One write transaction, committed on success; database errors become
    `ActionStoreError`. Writers take turns, so a read-then-append is one atomic step: on
    SQLite the transaction is BEGIN IMMEDIATE (the database's write lock); on Postgres it
    first takes the transaction-scoped advisory lock `PG_WRITE_LOCK` (released at commit
    or rollback), which also serialises two servers migrating one store at once."""
    try:
        with store.engine.connect() as conn:
            conn.execution_options(store_write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_WRITE_LOCK)))
                yield conn
    except sa.exc.SQLAlchemyError as err:
        raise ActionStoreError(f"the action store at {store.where} refused the write: {_reason(err)}") from err


@contextmanager
def _reading(store: ActionStore) -> Iterator[Connection]:
    try:
        with store.engine.connect() as conn:
            yield conn
    except sa.exc.SQLAlchemyError as err:
        raise ActionStoreError(f"cannot read the action store at {store.where}: {_reason(err)}") from err


def _reason(err: sa.exc.SQLAlchemyError) -> str:
    return str(getattr(err, "orig", None) or err).splitlines()[0]


# --- migrations ----------------------------------------------------------------------------------

def _alembic_config(conn: Connection):
    from alembic.config import Config

    cfg = Config()  # built in code: no alembic.ini for the user to keep
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    cfg.attributes["version_table"] = VERSION_TABLE
    return cfg


def upgrade(store: ActionStore, revision: str = "head") -> None:
    """Run the store's migrations up to `revision` in one write transaction (a no-op at
    head). A store written by a newer version of the app (a revision this code does not
    know) is refused with `ActionStoreError` rather than touched."""
    from alembic import command
    from alembic.util import CommandError

    try:
        with _writing(store) as conn:
            command.upgrade(_alembic_config(conn), revision)
    except CommandError as err:
        raise ActionStoreError(f"cannot migrate the action store at {store.where}: {err} (was it written by a "
                               "newer version of Retention Radar?)") from err


def schema_version(store: ActionStore) -> str | None:
    """The store's migration revision (`HEAD` after `open_store`; None before any)."""
    from alembic.runtime.migration import MigrationContext

    with _reading(store) as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


# --- checking input ------------------------------------------------------------------------------

def check_status(status: str) -> str:
    """`status` as stored ("Offer made" and "offer-made" are "offer_made"); `ValueError`
    naming the valid statuses when it is not one of them."""
    name = str(status).strip().lower().replace(" ", "_").replace("-", "_")
    if name not in STATUSES:
        raise ValueError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    return name


def _customer_id(value) -> int:
    if isinstance(value, bool):
        raise ValueError(f"a customer id is a whole number, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"a customer id is a whole number, got {value!r}") from None
    if number != value and not (isinstance(value, str) and value.strip() == str(number)):
        raise ValueError(f"a customer id is a whole number, got {value!r}")
    return number


def _text(value, what: str, limit: int, required: bool = False) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = ""
    else:
        text = str(value).strip()
    if not text:
        if required:
            raise ValueError(f"{what} is required")
        return None
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters long; at most {limit}")
    return text


def _day(value) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"a follow-up date is a day like 2025-03-31, got {value!r}") from None


def _now() -> datetime:
    # naive UTC: SQLite keeps no time zone, and the same value must read back on Postgres
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- writing -------------------------------------------------------------------------------------

def _latest_rows(conn: Connection, customer_ids: list[int] | None) -> dict[int, dict]:
    """customer_id -> the case's latest row (and its action count), for `customer_ids` (None: all)."""
    a = customer_actions
    latest = sa.select(a.c.customer_id, sa.func.max(a.c.id).label("latest_id"),
                       sa.func.count(a.c.id).label("actions")).group_by(a.c.customer_id)
    if customer_ids is not None:
        latest = latest.where(a.c.customer_id.in_(customer_ids))
    latest = latest.subquery()
    rows = conn.execute(sa.select(a, latest.c.actions).join(latest, a.c.id == latest.c.latest_id)).mappings()
    return {int(r["customer_id"]): dict(r) for r in rows}


def _audit(conn: Connection, actor: str, action: str, detail: str, row_count: int) -> None:
    conn.execute(sa.insert(audit_log).values(occurred_at=_now(), actor=actor, action=action, detail=detail,
                                             row_count=row_count))


AUDIT_KINDS: tuple[str, ...] = ("record_action", "assign", "export", "import", "generate_sample")
MAX_ACTION_LENGTH = 50  # audit_log.action: String(50)


def audit(store: ActionStore, actor: str, action: str, detail: str, row_count: int = 0) -> None:
    """Append one audit row of something done outside the store — an export (``export``:
    which file, how many rows), an import (``import``), the sample generated
    (``generate_sample``) — in its own transaction. `action` is a short kind (at most
    `MAX_ACTION_LENGTH` characters); `row_count` a whole number >= 0."""
    who = _text(actor, "who acted (actor)", MAX_NAME_LENGTH, required=True)
    kind = _text(action, "the audited action", MAX_ACTION_LENGTH, required=True)
    rows = int(row_count)
    if rows < 0:
        raise ValueError(f"an audited row count is 0 or more, got {row_count!r}")
    with _writing(store) as conn:
        _audit(conn, who, kind, _text(detail, "the audit detail", MAX_NOTE_LENGTH), rows)


def record_action(store: ActionStore, customer_id: int, *, by: str, status: str | None = None, owner=KEEP,
                  follow_up_date=KEEP, outcome: str | None = None, note: str | None = None) -> int:
    """Append one action to the customer's case and return its row id.

    `status` None keeps the current one ("new" for a customer without a case). `owner`
    and `follow_up_date` left as `KEEP` carry the current values forward; None (or "")
    clears them. `outcome` and `note` belong to this action only. `by` is who recorded
    it. The previous state is read and the row appended in one write transaction, so two
    sessions writing the same case at once do not lose either's change (writers take
    turns: SQLite's BEGIN IMMEDIATE, Postgres's advisory lock; `_writing`). Also writes an
    audit row."""
    cid = _customer_id(customer_id)
    who = _text(by, "who recorded the action (by)", MAX_NAME_LENGTH, required=True)
    new_status = None if status is None else check_status(status)
    new_owner = owner if owner is KEEP else _text(owner, "the owner", MAX_NAME_LENGTH)
    new_follow_up = follow_up_date if follow_up_date is KEEP else _day(follow_up_date)
    outcome = _text(outcome, "the outcome", MAX_NAME_LENGTH)
    note = _text(note, "the note", MAX_NOTE_LENGTH)
    with _writing(store) as conn:
        previous = _latest_rows(conn, [cid]).get(cid, {})
        row = {
            "customer_id": cid,
            "status": new_status or previous.get("status") or "new",
            "owner": previous.get("owner") if new_owner is KEEP else new_owner,
            "follow_up_date": previous.get("follow_up_date") if new_follow_up is KEEP else new_follow_up,
            "outcome": outcome,
            "note": note,
            "created_at": _now(),
            "created_by": who,
        }
        row_id = conn.execute(sa.insert(customer_actions).values(**row)).inserted_primary_key[0]
        _audit(conn, who, "record_action", f"customer {cid}: status {row['status']}", 1)
    return int(row_id)


def assign(store: ActionStore, customer_ids: Iterable[int], owner: str, by: str) -> int:
    """Give each customer's case to `owner` (bulk assign from a filtered list): one action
    per customer with the new owner, status and follow-up date carried forward ("new" for
    a customer without a case), all in one transaction with one audit row. Returns how
    many actions were written (duplicates in `customer_ids` count once)."""
    ids = list(dict.fromkeys(_customer_id(c) for c in customer_ids))
    new_owner = _text(owner, "the owner to assign to", MAX_NAME_LENGTH, required=True)
    who = _text(by, "who assigns (by)", MAX_NAME_LENGTH, required=True)
    if not ids:
        return 0
    with _writing(store) as conn:
        previous = _latest_rows(conn, ids)
        now = _now()
        rows = [{"customer_id": cid, "status": previous.get(cid, {}).get("status") or "new", "owner": new_owner,
                 "follow_up_date": previous.get(cid, {}).get("follow_up_date"), "outcome": None, "note": None,
                 "created_at": now, "created_by": who} for cid in ids]
        conn.execute(sa.insert(customer_actions), rows)
        _audit(conn, who, "assign", f"{len(ids)} customers assigned to {new_owner}", len(ids))
    return len(ids)


# --- reading -------------------------------------------------------------------------------------

def _frame(rows: list[dict] | list[tuple], columns: dict[str, str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(columns))
    for name, dtype in columns.items():
        if dtype.startswith("datetime"):
            df[name] = pd.to_datetime(df[name])
        else:
            df[name] = df[name].astype(dtype)
    return df.reset_index(drop=True)


def current_cases(store: ActionStore, customer_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """The current state (latest row) of each case, one row per customer with actions —
    of `customer_ids`, or of every case when None — ordered by customer id. Columns
    `CASE_COLUMNS`: ``outcome`` and ``note`` are the latest action's, ``updated_at`` /
    ``updated_by`` its time and author, ``actions`` the length of the timeline. Customers
    without a case are absent (their status is "new")."""
    ids = None if customer_ids is None else list(dict.fromkeys(_customer_id(c) for c in customer_ids))
    if ids == []:
        return _frame([], CASE_COLUMNS)
    with _reading(store) as conn:
        latest = _latest_rows(conn, ids)
    rows = [{**{k: r[k] for k in ("customer_id", "status", "owner", "follow_up_date", "outcome", "note")},
             "updated_at": r["created_at"], "updated_by": r["created_by"], "actions": r["actions"]}
            for _, r in sorted(latest.items())]
    return _frame(rows, CASE_COLUMNS)


def last_logged_day(store: ActionStore) -> date | None:
    """The UTC day of the newest logged action, or None when the store holds none."""
    with _reading(store) as conn:
        when = conn.execute(sa.select(sa.type_coerce(sa.func.max(customer_actions.c.created_at), sa.String))).scalar()
    return None if when is None else pd.Timestamp(when).date()


def timeline(store: ActionStore, customer_id: int) -> pd.DataFrame:
    """Every action of the customer's case, newest first (columns `ACTION_COLUMNS`; empty
    without a case)."""
    cid = _customer_id(customer_id)
    a = customer_actions
    with _reading(store) as conn:
        rows = conn.execute(sa.select(a).where(a.c.customer_id == cid).order_by(a.c.id.desc())).mappings().all()
    return _frame([dict(r) for r in rows], ACTION_COLUMNS)


def is_open(status: str, follow_up_date) -> bool:
    """The definition of an open case (module docstring)."""
    return status in OPEN_STATUSES or (status == SNOOZE_STATUS and _day(follow_up_date) is not None)


def open_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """The rows of a `current_cases` frame that are open cases (module docstring)."""
    keep = [is_open(s, d) for s, d in zip(cases["status"], cases["follow_up_date"])]
    return cases[pd.Series(keep, index=cases.index, dtype=bool)].reset_index(drop=True)


def my_list(store: ActionStore, owner: str, expected_losses: pd.DataFrame | None = None) -> pd.DataFrame:
    """`owner`'s open cases (`CASE_COLUMNS` plus ``expected_loss``), ordered by follow-up
    date (earliest first; cases without one after the dated ones), then expected loss
    (largest first; unknown last), then customer id. `expected_losses` has columns
    ``customer_id`` and ``expected_loss`` (e.g. from the latest scoring); without it, or
    for a customer it lacks, the expected loss is NaN."""
    who = _text(owner, "the owner", MAX_NAME_LENGTH, required=True)
    a = customer_actions
    with _reading(store) as conn:
        # customers whose case ever had this owner; the current owner is checked on the latest row
        ids = [int(c) for c in conn.execute(sa.select(a.c.customer_id).where(a.c.owner == who).distinct()).scalars()]
    cases = current_cases(store, ids) if ids else _frame([], CASE_COLUMNS)
    cases = open_cases(cases[cases["owner"] == who])
    if expected_losses is None:
        cases["expected_loss"] = float("nan")
    else:
        missing = {"customer_id", "expected_loss"} - set(expected_losses.columns)
        if missing:
            raise ValueError(f"expected_losses lacks column(s) {sorted(missing)}")
        losses = expected_losses[["customer_id", "expected_loss"]].drop_duplicates("customer_id")
        losses = losses.astype({"customer_id": "int64", "expected_loss": "float64"})
        cases = cases.merge(losses, on="customer_id", how="left")
    cases["expected_loss"] = cases["expected_loss"].astype("float64")
    return cases.sort_values(["follow_up_date", "expected_loss", "customer_id"], ascending=[True, False, True],
                             na_position="last", kind="mergesort").reset_index(drop=True)


def audit_entries(store: ActionStore, limit: int = 200, actor: str | None = None,
                  action: str | None = None) -> pd.DataFrame:
    """The latest `limit` audit rows, newest first (columns `AUDIT_COLUMNS`), of one
    `actor` and/or one `action` kind when given (exact match; None = all)."""
    query = sa.select(audit_log)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action == action)
    with _reading(store) as conn:
        rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit)).mappings().all()
    return _frame([dict(r) for r in rows], AUDIT_COLUMNS)


def audit_actors_and_actions(store: ActionStore) -> tuple[list[str], list[str]]:
    """The distinct actors and action kinds in the audit log, sorted (for its filters)."""
    with _reading(store) as conn:
        actors = conn.execute(sa.select(audit_log.c.actor).distinct().order_by(audit_log.c.actor)).scalars().all()
        kinds = conn.execute(sa.select(audit_log.c.action).distinct().order_by(audit_log.c.action)).scalars().all()
    return list(actors), list(kinds)


# --- the holdout (control group) of a worked list: decision 022 -------------------------------

HOLDOUT_SALT = "retention-radar holdout"  # changing it redraws every group: never do it mid-period


def programme_period(list_as_of) -> str:
    """The programme period a list belongs to: the calendar year of its as-of date ("2026").
    A customer's holdout assignment holds for the whole period."""
    day = _day(list_as_of)
    if day is None:
        raise ValueError("a list's as-of date is required for its holdout")
    return f"{day.year:04d}"


def holdout_draw(customer_ids: Iterable[int], period: str, share: float) -> list[bool]:
    """Held out or not, per customer id: ``u < share`` with ``u`` uniform in [0, 1) from
    the first 8 bytes of SHA-256(``HOLDOUT_SALT|period|customer_id``). Random across
    customers (each is held out with probability `share`, independently), yet the same on
    every call — so two sessions, a rerun and the sample generator draw the same groups."""
    check_share(share)
    out = []
    for cid in customer_ids:
        digest = hashlib.sha256(f"{HOLDOUT_SALT}|{period}|{int(cid)}".encode()).digest()
        out.append(int.from_bytes(digest[:8], "big") / 2.0 ** 64 < share)
    return out


def check_share(share) -> float:
    """`share` as a float in [0, 1) (0 = no holdout); `ValueError` otherwise."""
    try:
        value = float(share)
    except (TypeError, ValueError):
        raise ValueError(f"the holdout share is a number in [0, 1), e.g. 0.1; got {share!r}") from None
    if not 0 <= value < 1:
        raise ValueError(f"the holdout share is a number in [0, 1), e.g. 0.1; got {share!r}")
    return value


def _period_assignments(conn: Connection, period: str) -> dict[int, bool]:
    h = holdout_assignments
    rows = conn.execute(sa.select(h.c.customer_id, h.c.held_out).where(h.c.period == period))
    return {int(c): bool(held) for c, held in rows}


def assign_holdout(store: ActionStore, customer_ids: Iterable[int], list_as_of, *, share: float, by: str,
                   on=None) -> pd.DataFrame:
    """Record the holdout of a worked list and return each listed customer's group.

    Every customer of `customer_ids` without an assignment in the list's programme period
    (`programme_period(list_as_of)`) gets one now: held out with probability `share`
    (`holdout_draw`), dated `on` (default today, UTC) and stamped with the list's as-of
    date and `by`. Customers already assigned in the period keep their group. Returns a
    frame ``customer_id``, ``held_out`` (bool) for the unique ids, in their first order.
    One write transaction with one audit row, only when someone new is assigned."""
    ids = list(dict.fromkeys(_customer_id(c) for c in customer_ids))
    share = check_share(share)
    who = _text(by, "who works the list (by)", MAX_NAME_LENGTH, required=True)
    as_of = _day(list_as_of)
    period = programme_period(as_of)
    day = _day(on) if on is not None else _now().date()
    with _reading(store) as conn:
        known = _period_assignments(conn, period)
    if any(c not in known for c in ids):
        try:
            with _writing(store) as conn:
                known = _period_assignments(conn, period)  # again, inside the write lock
                new = [c for c in ids if c not in known]
                if new:
                    held = holdout_draw(new, period, share)
                    now = _now()
                    conn.execute(sa.insert(holdout_assignments), [
                        {"customer_id": c, "period": period, "held_out": h, "share": share, "assigned_on": day,
                         "list_as_of": as_of, "assigned_by": who, "created_at": now} for c, h in zip(new, held)])
                    _audit(conn, who, "holdout", f"list of {as_of}: {len(new)} customers assigned, {sum(held)} held "
                           f"out (share {share:.0%}, period {period})", len(new))
                    known.update(zip(new, held))
        except ActionStoreError:
            # another writer assigned some of them first and the unique key refused ours
            # (writers take turns, so only a writer outside this code could): its rows stand
            with _reading(store) as conn:
                known = _period_assignments(conn, period)
            if any(c not in known for c in ids):
                raise
    return pd.DataFrame({"customer_id": pd.Series(ids, dtype="int64"),
                         "held_out": pd.Series([known[c] for c in ids], dtype="bool")})


def _as_read(table: sa.Table, columns: dict[str, str]) -> list:
    """`columns` of `table` for a bulk read into pandas: date and time columns come as the
    driver gives them (ISO text in SQLite) and are parsed by `_frame` in one vectorised
    step — SQLAlchemy's per-row date parsing cost ~50 µs a row (0.3 s for the 6,000
    holdout rows of the sample)."""
    return [sa.type_coerce(table.c[name], sa.String).label(name) if dtype.startswith("datetime")
            else table.c[name] for name, dtype in columns.items()]


def holdout_groups(store: ActionStore, period: str | None = None) -> pd.DataFrame:
    """Every holdout assignment (of `period`, or of all periods), columns `HOLDOUT_COLUMNS`,
    ordered by period then customer id."""
    h = holdout_assignments
    select = sa.select(*_as_read(h, HOLDOUT_COLUMNS)).order_by(h.c.period, h.c.customer_id)
    if period is not None:
        select = select.where(h.c.period == str(period))
    with _reading(store) as conn:
        rows = conn.execute(select).all()
    return _frame([tuple(r) for r in rows], HOLDOUT_COLUMNS)


def held_out_periods(store: ActionStore, customer_id: int) -> list[str]:
    """The programme periods in which the customer is in the control group (held out),
    oldest first; empty when never held out."""
    cid = _customer_id(customer_id)
    h = holdout_assignments
    with _reading(store) as conn:
        rows = conn.execute(sa.select(h.c.period).where((h.c.customer_id == cid) & h.c.held_out.is_(True))
                            .order_by(h.c.period)).scalars().all()
    return [str(r) for r in rows]


def action_log(store: ActionStore, customer_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Every logged action (of `customer_ids`, or all), columns `ACTION_COLUMNS`, in the
    order the store accepted them (id)."""
    a = customer_actions
    select = sa.select(*_as_read(a, ACTION_COLUMNS)).order_by(a.c.id)
    ids = None if customer_ids is None else list(dict.fromkeys(_customer_id(c) for c in customer_ids))
    rows: list[tuple] = []
    with _reading(store) as conn:
        if ids is None:
            rows = [tuple(r) for r in conn.execute(select)]
        else:
            for i in range(0, len(ids), 5000):  # bound parameters per statement stay under SQLite's limit
                rows += [tuple(r) for r in conn.execute(select.where(a.c.customer_id.in_(ids[i:i + 5000])))]
    rows.sort(key=lambda r: r[0])  # the id
    return _frame(rows, ACTION_COLUMNS)


def programme_action_log(store: ActionStore) -> pd.DataFrame:
    """`action_log` of the customers with a holdout assignment (any period): what the
    measured programme reads, selected in the store rather than by sending every
    assigned id as a parameter."""
    a, h = customer_actions, holdout_assignments
    select = (sa.select(*_as_read(a, ACTION_COLUMNS))
              .where(a.c.customer_id.in_(sa.select(h.c.customer_id).distinct().scalar_subquery()))
              .order_by(a.c.id))
    with _reading(store) as conn:
        rows = [tuple(r) for r in conn.execute(select)]
    return _frame(rows, ACTION_COLUMNS)
