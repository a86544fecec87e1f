"""Database engine, sessions and schema migrations.

SQLite (the default) runs in WAL mode so that readers never wait for the solver
processes writing progress, with a busy timeout for writers. Every commit is
fsynced (``synchronous=FULL``): a plan the service has acknowledged survives a
power cut (the cost is in ``benchmarks/RESULTS.md``, "Durability"). A new
database file is created readable by its owner only (0600); SQLite gives its
``-wal`` and ``-shm`` files the mode of the database file. Transactions that
write open with ``BEGIN IMMEDIATE`` (:meth:`Database.write`): a read transaction
that later tries to write can fail at once under WAL when another writer got in
first, whereas an immediate one waits its turn. Any other SQLAlchemy URL
(PostgreSQL included) is used as it is.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("homecare.api.db")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: ``PRAGMA synchronous`` of every SQLite connection. FULL syncs the WAL at each commit, so that
#: an acknowledged write is on disk; NORMAL (faster) may lose the last commits in a power cut.
SQLITE_SYNCHRONOUS = "FULL"
#: Mode of a new SQLite database file (and so of its -wal and -shm files): the owner's only.
SQLITE_FILE_MODE = 0o600
#: Pooled connections. A request holds a read connection until its answer is sent and,
#: for the audit log, briefly a write one; under load many requests wait for a worker
#: thread in between. SQLite connections are cheap: beyond the pool, SQLite opens as
#: many as needed (no overflow limit); a server database gets a bounded pool.
POOL_SIZE = 40
SERVER_POOL_OVERFLOW = 80


def make_engine(url: str) -> Engine:
    """Create an engine; a SQLite file gets WAL mode, foreign keys and a busy timeout.

    Parameters
    ----------
    url
        A SQLAlchemy database URL.

    Returns
    -------
    Engine
        The engine.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=SERVER_POOL_OVERFLOW)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        _create_private(Path(parsed.database).expanduser())
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=-1,
                           connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below start transactions, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("homecare_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _create_private(path: Path) -> None:
    """Create an empty SQLite file readable by its owner only, unless it exists.

    SQLite creates the ``-wal`` and ``-shm`` files with the mode of the
    database file, so they are private too. An existing file keeps its mode
    (its owner chose it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
    log.info("created database file %s (mode %o)", path, SQLITE_FILE_MODE)


class Database:
    """An engine with a session factory for reads and one for writes.

    Parameters
    ----------
    url
        A SQLAlchemy database URL.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(homecare_write=True)
        self._write = sessionmaker(writer, expire_on_commit=False)
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps
        # in steps of up to 100 ms: threads of this process queue on a lock instead.
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.engine.dialect.name == "sqlite"

    def session(self) -> Session:
        """Return a new session for reading (the caller closes it)."""
        return self._read()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """Open a write transaction: committed on success, rolled back on error.

        Yields
        ------
        Session
            A session whose transaction holds the write lock from its first statement.
        """
        if self._write_lock is None:
            with self._write() as session, session.begin():
                yield session
            return
        with self._write_lock, self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config(url: str | None = None) -> Any:
    """Return an Alembic configuration for the migrations shipped in this package.

    Parameters
    ----------
    url
        Database URL, used when Alembic runs on its own (``alembic -x``-less runs).

    Returns
    -------
    alembic.config.Config
        The configuration; no ``alembic.ini`` is needed.
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(db: Database, revision: str = "head") -> None:
    """Upgrade the database schema to ``revision`` with the shipped Alembic migrations.

    Parameters
    ----------
    db
        The database.
    revision
        Target revision (default: the newest).
    """
    from alembic import command

    cfg = alembic_config()
    with db.engine.execution_options(homecare_write=True).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    log.info("database %s at revision %s", db.engine.url.render_as_string(hide_password=True), revision)
