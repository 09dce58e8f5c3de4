"""Tables of the residents' side: requests, complaint reviews, phone reveals, rate-limit buckets.

A request's tracking token is kept only as its SHA-256 (like the API tokens): the database
alone does not give anyone a resident's tracking page. The phone is kept in full, for the
dispatcher's call back; every answer but an admin's masks it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facility_dispatch.kernel.db import Base


class RequestRow(Base):
    __tablename__ = "resident_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    building: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    decision: Mapped[str] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    work_order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None]
    followed_up_at: Mapped[datetime | None]
    follow_up_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_resident_requests_site", "site", "created_at"),
        Index("ix_resident_requests_decision", "decision", "created_at"),
    )


class ReviewRow(Base):
    __tablename__ = "complaint_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("resident_requests.id"), unique=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    supervisor: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(Text)


class PhoneRevealRow(Base):
    """Each time a request's phone was shown in full: who, in which role, when (never the
    number). A table of its own, not only the ``request.phone_revealed`` event, because the
    event log is pruned after ``FACILITY_EVENTS_RETENTION_DAYS`` while the phone is kept as long
    as its request: the record of who saw a number must last as long as the number does. It
    goes with its request, in the residents' retention prune."""

    __tablename__ = "phone_reveals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("resident_requests.id"), index=True)
    site: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class RateBucketRow(Base):
    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(index=True)
