"""The event log: every alarm and work-order change, numbered, for live views and resumes.

Events are written in the same transaction as the change they describe, so a reader that
resumes from an event id (SSE ``Last-Event-ID``) sees every committed change once and in order,
across restarts of the service. Waiting readers in this process are woken at once; readers in
another worker notice within their poll interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from facility.db import Base, Sessions


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

    def record(
        self, session: Session, type_: str, at: datetime, payload: dict[str, Any], site: str | None
    ) -> None:
        """Add an event to ``session``'s transaction; call :meth:`notify` after the commit."""
        session.add(EventRow(at=at, type=type_, site=site, payload=payload))

    def publish(self, type_: str, at: datetime, payload: dict[str, Any], site: str | None) -> None:
        """An event that is its own change (a device going offline, say): written and told."""
        with self._sessions.begin() as session:
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

    def since(self, after_id: int, limit: int = 500, site: str | None = None) -> list[Event]:
        with self._sessions() as session:
            stmt = select(EventRow).where(EventRow.id > after_id)
            if site:
                stmt = stmt.where(EventRow.site == site)
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


def retention() -> timedelta:
    return timedelta(days=30)
