"""Tables of rosters by post, shift handovers and patrol rounds (issue 20).

Rounds are recorded before they are walked (one row per route and local start time, a unique
key), so the sweep that flags a missed round starts from the record, and a restart or a second
worker makes no second round.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from facility_dispatch.kernel.db import Base


class PostRow(Base):
    __tablename__ = "roster_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    skill: Mapped[str | None] = mapped_column(String(32))
    wanted_skills: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    shifts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class RosterLineRow(Base):
    __tablename__ = "roster_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("roster_posts.id"), index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    pattern: Mapped[list[str]] = mapped_column(JSON, default=list)
    anchor: Mapped[date]
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    off_on_holidays: Mapped[bool] = mapped_column(Boolean, default=False)


class CoverRow(Base):
    """A person put on one slot by hand (a substitute for an absence, or an extra)."""

    __tablename__ = "roster_covers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("roster_posts.id"))
    day: Mapped[date]
    shift: Mapped[str] = mapped_column(String(32))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("post_id", "day", "shift", "technician_id", name="uq_roster_covers_once"),
    )


class GapFlagRow(Base):
    """A gap told once (``roster.gap``): a slot short of people, found ahead."""

    __tablename__ = "roster_gap_flags"

    post_id: Mapped[int] = mapped_column(ForeignKey("roster_posts.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    shift: Mapped[str] = mapped_column(String(32), primary_key=True)
    flagged_at: Mapped[datetime]


class PublishedRow(Base):
    """A rostered shift written to the shifts table, once, so that dispatch sees who is on."""

    __tablename__ = "roster_published"

    post_id: Mapped[int] = mapped_column(ForeignKey("roster_posts.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    shift: Mapped[str] = mapped_column(String(32), primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"))


class HolidayRow(Base):
    """A date of a site's calendar: a public holiday (国庆, 春节...), or a make-up working day
    (调休) with ``workday``; a date in the site's zone."""

    __tablename__ = "site_holidays"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    workday: Mapped[bool] = mapped_column(Boolean, default=False)  # a make-up working day


class HandoverRow(Base):
    __tablename__ = "shift_handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("roster_posts.id"))
    outgoing: Mapped[str] = mapped_column(String(100))
    incoming_technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    written_at: Mapped[datetime]
    acknowledge_by: Mapped[datetime]
    open_orders: Mapped[list[str]] = mapped_column(JSON, default=list)
    incidents: Mapped[str] = mapped_column(Text, default="")
    keys: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    flagged_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_shift_handovers_site", "site", "written_at"),)


class RouteRow(Base):
    __tablename__ = "patrol_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str | None] = mapped_column(String(32))
    times: Mapped[list[str]] = mapped_column(JSON, default=list)
    window_s: Mapped[float] = mapped_column(default=7200.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class CheckpointRow(Base):
    __tablename__ = "patrol_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("patrol_routes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    building: Mapped[str | None] = mapped_column(String(100))
    asset: Mapped[str | None] = mapped_column(String(64))
    skill: Mapped[str] = mapped_column(String(32))
    token: Mapped[str] = mapped_column(String(32), unique=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class RoundRow(Base):
    __tablename__ = "patrol_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("patrol_routes.id"))
    key: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime]
    due_by: Mapped[datetime]
    started_at: Mapped[datetime | None]
    started_by: Mapped[str | None] = mapped_column(String(100))
    finished_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    findings: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("route_id", "key", name="uq_patrol_rounds_once"),
        Index("ix_patrol_rounds_due", "due_by"),
    )


class VisitRow(Base):
    """A checkpoint scanned on a round, with its items' results."""

    __tablename__ = "patrol_visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("patrol_rounds.id"), index=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("patrol_checkpoints.id"))
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(100))
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("round_id", "checkpoint_id", name="uq_patrol_visits_once"),)
