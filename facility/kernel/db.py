"""The relational database: engine, the declarative base, UTC times, sessions.

SQLite is the embedded default and PostgreSQL the production database; both take the same
models and the same Alembic migrations (:mod:`facility_dispatch.schema`, in the root, which
knows every stage's tables). Every table module registers on :data:`Base`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which has no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime()}


def make_engine(url: str, statement_timeout_ms: int = 15_000, pool_size: int = 10) -> Engine:
    """An engine with the settings each backend needs to be safe under concurrent writers."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool_size, immediate=True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"options": f"-c statement_timeout={statement_timeout_ms}"},
    )


def _sqlite_engine(url: str, pool_size: int, immediate: bool) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=pool_size
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # WAL lets the API read while ingest writes; busy_timeout queues writers instead of
        # failing them; foreign keys are off by default in SQLite.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event says how to begin

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A writer takes the write lock when it begins, so writers queue on busy_timeout. A
        # deferred transaction that reads first and then writes cannot be queued: SQLite
        # fails it at once ("database is locked") if another writer got in between.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Sessions:
    """Sessions to read and sessions to write, from one object.

    ``sessions()`` reads; ``sessions.begin()`` writes and commits. On SQLite they use two
    engines: readers begin deferred and never block anyone (WAL), writers begin immediate.
    On PostgreSQL both are the same.
    """

    def __init__(self, read: sessionmaker[Any], write: sessionmaker[Any]) -> None:
        self._read = read
        self._write = write

    def __call__(self) -> Session:
        session: Session = self._read()
        return session

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self._write.begin() as session:
            yield session

    def listen(self, name: str, hook: Callable[..., None]) -> None:
        """Run ``hook`` on the writing sessions' event ``name`` (SQLAlchemy's session events:
        ``before_commit``, ``after_soft_rollback``...), once however often it is asked."""
        if not event.contains(self._write, name, hook):
            event.listen(self._write, name, hook)


def make_sessions(engine: Engine) -> Sessions:
    write = sessionmaker(engine, expire_on_commit=False)
    if engine.dialect.name != "sqlite":
        return Sessions(write, write)
    reader = _sqlite_engine(engine.url.render_as_string(hide_password=False), 10, immediate=False)
    return Sessions(sessionmaker(reader, expire_on_commit=False), write)
