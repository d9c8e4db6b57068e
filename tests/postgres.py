"""A throw-away PostgreSQL cluster for tests of the action store on Postgres (decision 021).

Debian's `postgresql` package (installed by `make test`'s system-test-deps) brings initdb
and pg_ctl under /usr/lib/postgresql/<version>/bin. `PostgresCluster.start` makes a cluster
in a fresh temp dir (trust auth, superuser ``postgres``), listening only on a unix socket in
that dir on a free port number, and `new_database` gives each test a database of its own.
Postgres refuses to run as root: as root (CI), the cluster runs as the unprivileged user
``nobody`` (runuser) and the temp dir is chown'ed to it.

Under `make test` (RETENTION_TEST_POSTGRES=required) a cluster that cannot be started, or a
missing psycopg driver, fails the tests with the reason; run by hand without that variable,
the Postgres cases are skipped with the reason instead.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

REQUIRED_ENV = "RETENTION_TEST_POSTGRES"  # "required": the Makefile's test target sets it
UNPRIVILEGED_USER = "nobody"
SUPERUSER = "postgres"


def unavailable(reason: str):
    """Fail (under `make test`) or skip (by hand) a Postgres test that cannot run."""
    if os.environ.get(REQUIRED_ENV) == "required":
        pytest.fail(f"the Postgres tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"Postgres not available ({reason}); `make test` installs and requires it")


def postgres_bin() -> Path | None:
    """The bin folder of the newest Debian PostgreSQL install, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """One running cluster; `url(db)` is a SQLAlchemy URL (psycopg 3 over the unix socket)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="retention-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "postgres.log"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # postgres will not run as root
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            self._as_user = ["runuser", "-u", UNPRIVILEGED_USER, "--"]
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.socket_dir.mkdir()
        if self._as_user:
            os.chown(self.socket_dir, pwd.getpwnam(UNPRIVILEGED_USER).pw_uid, pwd.getpwnam(UNPRIVILEGED_USER).pw_gid)

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run([*self._as_user, *args], capture_output=True, text=True, timeout=timeout,
                              cwd=self.root)
        if done.returncode != 0:
            log = self.log.read_text()[-1500:] if self.log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-1500:]} {log}".strip())

    def start(self) -> PostgresCluster:
        # a throw-away cluster: no fsync (its durability is not what the tests check)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--no-locale", "--no-sync")
        options = (f"-k {self.socket_dir} -p {self.port} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg
        from psycopg import sql

        name = f"test_{next(self._names)}"
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def start_cluster() -> PostgresCluster:
    """Start a cluster, or fail/skip (`unavailable`) saying why it cannot run."""
    try:
        import psycopg  # noqa: F401  (the driver of postgresql+psycopg URLs)
    except ImportError:
        unavailable("the psycopg driver is not installed (requirements.txt pins psycopg[binary]; run make install)")
    bin_dir = postgres_bin()
    if bin_dir is None:
        unavailable("no PostgreSQL server under /usr/lib/postgresql (Debian package postgresql; make test installs it)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        unavailable("running as root and runuser is missing: PostgreSQL refuses to run as root")
    cluster = PostgresCluster(bin_dir)
    try:
        return cluster.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as err:
        cluster.stop()
        unavailable(f"the cluster did not start: {err}")
