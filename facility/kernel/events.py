"""The event log: every alarm and work-order change, numbered, for live views and resumes.

Events are written in the same transaction as the change they describe (the log is an outbox:
an event exists if and only if its change committed), and they are numbered in commit order,
so a reader that resumes from an event id (SSE ``Last-Event-ID``) sees every committed change
once and in order, across restarts of the service.

Commit order is the point. PostgreSQL hands out ids at insert, and transactions commit in any
order: with ids taken early, a reader could move past id 41 while 40 was still uncommitted and
never see it. So a transaction's events are inserted only as it commits, under a
transaction-level advisory lock that is held until the commit: ids are taken, and become
visible, strictly in order. On SQLite writers are serialized already (``BEGIN IMMEDIATE``).
Waiting readers in this process are woken at once; readers in another worker notice within
their poll interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, Integer, String, delete, func, select, text
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from facility_dispatch.kernel.db import Base, Sessions

_PENDING: Final = "facility_dispatch.events.pending"
_COMMITTING: Final = "facility_dispatch.events.committing"
log = logging.getLogger("facility_dispatch.events")
"""Each committed event, one line at INFO: what an operator watching the terminal wants to see
(an alarm fired, an order assigned), rather than the access log (DEBUG)."""
_QUIET: Final = ("asset.",)
"""Event types logged at DEBUG: a fleet coming online is hundreds of presence events."""
_SHOWN: Final = ("number", "site", "asset", "fault", "severity", "priority", "status", "actor")
_ORDER_LOCK: Final = 0x46_44_45_56  # "FDEV": the event log's advisory lock


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(40), index=True)
    site: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: datetime
    type: str
    site: str | None
    payload: dict[str, Any]


class EventLog:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._changed = threading.Condition()
        self._listeners: list[Callable[[], None]] = []
        sessions.listen("before_commit", _insert_in_commit_order)
        sessions.listen("after_soft_rollback", _forget_rolled_back)
        sessions.listen("after_commit", _log_committed)

    def record(
        self, session: Session, type_: str, at: datetime, payload: dict[str, Any], site: str | None
    ) -> None:
        """Add an event to ``session``'s transaction; call :meth:`notify` after the commit.
        It is numbered and inserted as the transaction commits (see the module's docstring)."""
        within = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(_PENDING, []).append(
            (within, EventRow(at=at, type=type_, site=site, payload=payload))
        )

    def publish(self, type_: str, at: datetime, payload: dict[str, Any], site: str | None) -> None:
        """An event that is its own change (a device going offline, say): written and told."""
        with self._sessions.begin() as session:
            self.record(session, type_, at, payload, site)
        self.notify()

    def publish_all(self, events: list[tuple[str, datetime, dict[str, Any], str | None]]) -> None:
        """Events that are their own changes, (type, at, payload, site) each, in one
        transaction: a burst of them costs one commit."""
        if not events:
            return
        with self._sessions.begin() as session:
            for type_, at, payload, site in events:
                self.record(session, type_, at, payload, site)
        self.notify()

    def notify(self) -> None:
        with self._changed:
            self._changed.notify_all()
        for listener in list(self._listeners):
            listener()

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Called (from any thread) after events were committed: the SSE bridge uses it.
        Returns the function that removes the listener again."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def since(
        self,
        after_id: int,
        limit: int = 500,
        site: str | None = None,
        sites: Collection[str] | None = None,
    ) -> list[Event]:
        """Events after ``after_id``, oldest first; of ``site`` only, or of ``sites`` only (a
        collection: what a caller limited to sites may see; events of no site are left out)."""
        with self._sessions() as session:
            stmt = select(EventRow).where(EventRow.id > after_id)
            if site:
                stmt = stmt.where(EventRow.site == site)
            if sites is not None:
                stmt = stmt.where(EventRow.site.in_(sorted(sites)))
            rows = session.scalars(stmt.order_by(EventRow.id).limit(limit))
            return [Event(r.id, r.at, r.type, r.site, dict(r.payload)) for r in rows]

    def last_id(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.max(EventRow.id))) or 0)

    def wait(self, timeout: float) -> None:
        with self._changed:
            self._changed.wait(timeout)

    def prune(self, before: datetime) -> int:
        with self._sessions.begin() as session:
            result = session.execute(delete(EventRow).where(EventRow.at < before))
            return int(getattr(result, "rowcount", 0) or 0)


def _insert_in_commit_order(session: Session) -> None:
    pending: list[tuple[Any, EventRow]] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        # the transaction's own changes first, so that the lock is the last one it takes
        # (holding it, it only inserts events: no deadlock with a writer of the same rows)
        session.flush()
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ORDER_LOCK})
    session.add_all(row for _, row in pending)
    if log.isEnabledFor(logging.INFO):
        session.info[_COMMITTING] = [row for _, row in pending]


def describe(type_: str, payload: dict[str, Any]) -> str:
    """One line for the log: the event's type, then the facts that say what happened."""
    facts = [f"{name}={payload[name]}" for name in _SHOWN if payload.get(name) is not None]
    note = payload.get("note")
    if isinstance(note, str) and note:
        facts.append(f"note={note[:200]!r}")
    return " ".join([type_, *facts])


def _log_committed(session: Session) -> None:
    for row in session.info.pop(_COMMITTING, None) or ():
        # a device coming and going is the asset's business, not the dispatcher's: DEBUG
        level = logging.DEBUG if row.type.startswith(_QUIET) else logging.INFO
        log.log(level, "%s", describe(row.type, row.payload))


def _forget_rolled_back(session: Session, rolled_back: SessionTransaction) -> None:
    """A savepoint that rolled back takes its events with it, as it takes its rows."""
    pending: list[tuple[Any, EventRow]] | None = session.info.get(_PENDING)
    if not pending:
        return
    kept = []
    for within, row in pending:
        ancestor = within
        while ancestor is not None and ancestor is not rolled_back:
            ancestor = ancestor.parent
        if ancestor is None:
            kept.append((within, row))
    session.info[_PENDING] = kept
