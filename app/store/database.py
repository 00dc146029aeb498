"""Database engine, sessions and migrations for SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

_log = logging.getLogger(__name__)
_MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x47540003  # PostgreSQL advisory lock: one engine at a time migrates a shared database


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, echo: bool = False, read_only: bool = False) -> Engine:
    """Create an engine with the settings each backend needs.

    SQLite: WAL (readers never block the writer), ``synchronous=FULL`` (an accepted emergency request
    survives a power cut), a busy timeout, and ``BEGIN IMMEDIATE`` for writers so that a transaction takes
    the write lock up front instead of failing half-way when it upgrades from a read. Readers get their own
    engine with a deferred ``BEGIN`` (a consistent snapshot that never waits for a writer).
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=16,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's is deferred)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if read_only:
                cur.execute("PRAGMA query_only=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        _plain_savepoints(engine)
        return engine
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _plain_savepoints(engine: Engine) -> None:
    """Savepoints straight on the driver's connection. Every unit of a group commit
    (app/store/group_commit.py) is a SAVEPOINT and a RELEASE; SQLAlchemy compiles each of those afresh (a
    savepoint's name is not a cacheable statement), which cost about half of a unit's fixed overhead."""

    def plain(verb: str) -> Callable[[Connection, str], None]:
        def run(conn: Connection, name: str) -> None:
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(f'{verb} "{name}"')

        return run

    # Instance attributes shadow the dialect's methods (this engine's dialect only).
    for method, verb in (
        ("do_savepoint", "SAVEPOINT"),
        ("do_release_savepoint", "RELEASE SAVEPOINT"),
        ("do_rollback_to_savepoint", "ROLLBACK TO SAVEPOINT"),
    ):
        setattr(engine.dialect, method, plain(verb))


class Database:
    """The writer and reader engines on one database (the same engine unless it is SQLite)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.write = make_engine(url, echo=echo)
        self.read = make_engine(url, echo=echo, read_only=True) if url.startswith("sqlite") else self.write
        self.writer = make_sessionmaker(self.write)
        self.reader = make_sessionmaker(self.read)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.write)

    def migrate(self) -> None:
        migrate(self.write)

    def dispose(self) -> None:
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (the engine runs this on every start).

    ``heads``: features add their tables on their own branches off the initial schema, and each branch
    is applied; a later merge revision may join them.

    On PostgreSQL, engines that start together (several engines sharing one database) migrate one after
    another: the whole upgrade is one transaction under a transaction-scoped advisory lock, so the second
    engine waits, then finds the schema current and does nothing. Without it they would race to create
    the same tables and all but one would fail to start.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    _log.info("database schema is current (%s)", engine.url.render_as_string(hide_password=True))


def schema_is_current(engine: Engine) -> bool:
    """True when the database holds every head revision of this version's migrations (and no other)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with engine.connect() as conn:
        current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    return current == heads
