"""Tables of notifications: the outbox, the watches that repeat and escalate, and a few named
values (the event cursor, the current config) kept in the database so that any worker that
becomes the leader carries on where the last one stopped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from facility_dispatch.kernel.db import Base


class OutboxRow(Base):
    """One message to one URL of one receiver. ``key`` (event, round, receiver, url) is
    unique: recording the same message again, after a restart or by a second leader, fails
    instead of sending twice."""

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=0)
    work_order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    site: Mapped[str | None] = mapped_column(String(64))
    receiver: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    url_redacted: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)


class WatchRow(Base):
    """An event followed until its order is acknowledged: one per (order, route), so an order
    opened and assigned in one go is repeated once, not twice."""

    __tablename__ = "notification_watches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(40))
    route: Mapped[int] = mapped_column(Integer)
    work_order_id: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    next_round: Mapped[int] = mapped_column(Integer, default=1)
    done_at: Mapped[datetime | None]
    done_because: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        UniqueConstraint("work_order_id", "route", name="uq_notification_watches_order_route"),
        Index("ix_notification_watches_open", "done_at"),
    )


class NotifyValueRow(Base):
    """``cursor``: the last event routed; ``config``: the notifications file in force."""

    __tablename__ = "notify_values"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
