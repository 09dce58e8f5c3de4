"""Tables of the maintenance side: sites, people, rosters, work orders and their history.

One active order per (site, asset, fault) is a database constraint (a partial unique index):
alarms arriving at once on two threads or two workers, or again after a restart, join the
order that exists instead of opening a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from facility_dispatch.kernel.db import Base

ACTIVE_SQL = "status NOT IN ('closed', 'cancelled')"


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # its English name, when the office gives one (else English is cut out of ``name``)
    name_en: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    supervisor: Mapped[str | None] = mapped_column(String(200))
    contacts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    service_levels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    buildings: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the supply the site's rules judge against (SPEC section 2: sag, swell and frequency)
    nominal_voltage_v: Mapped[float] = mapped_column(Float, default=220.0, server_default="220")
    nominal_frequency_hz: Mapped[float] = mapped_column(Float, default=50.0, server_default="50")


class TechnicianRow(Base):
    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    seniority: Mapped[str] = mapped_column(String(16))
    sites: Mapped[list[str]] = mapped_column(JSON, default=list)
    certifications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    employer: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    contacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Apprise URLs where notifications reach this person (``mailto://``, ``wecombot://``),
    and ``tel:`` numbers people call (shown, never sent to)."""
    role: Mapped[str] = mapped_column(String(16), default="technician")
    """``technician`` or ``supervisor`` (told of escalations at the sites they work)."""


class ShiftRow(Base):
    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    site: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_shifts_time", "starts_at", "ends_at"),)


class AbsenceRow(Base):
    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(100))


class WorkOrderRow(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    site: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(16))
    building: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    reporter: Mapped[str | None] = mapped_column(String(200))
    fault: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(2))
    skill: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    respond_by: Mapped[datetime]
    resolve_by: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    hold_since: Mapped[datetime | None]
    response_breached_at: Mapped[datetime | None]
    resolution_breached_at: Mapped[datetime | None]
    escalation: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None]
    plan_id: Mapped[int | None] = mapped_column(Integer, index=True)
    due_at: Mapped[datetime | None]
    interrupts: Mapped[str | None] = mapped_column(String(32))
    cost: Mapped[float] = mapped_column(default=0.0)
    contractor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The maintenance contractor lift work was dispatched to (contractor_sql.ContractorRow)."""

    __table_args__ = (
        Index(
            "uq_work_orders_active_fault",
            "site",
            "asset",
            "fault",
            unique=True,
            sqlite_where=text(f"{ACTIVE_SQL} AND fault IS NOT NULL AND asset IS NOT NULL"),
            postgresql_where=text(f"{ACTIVE_SQL} AND fault IS NOT NULL AND asset IS NOT NULL"),
        ),
        Index("ix_work_orders_status", "status", "priority"),
        Index("ix_work_orders_site", "site", "created_at"),
    )


class AssigneeRow(Base):
    __tablename__ = "work_order_assignees"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class TimelineRow(Base):
    __tablename__ = "work_order_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChecklistRow(Base):
    __tablename__ = "work_order_checklist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    target_at: Mapped[datetime | None]
    target_missed_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(16))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class CounterRow(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class NotificationRow(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    site: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("work_order_id", "kind", name="uq_notifications_once"),)


class PlanRow(Base):
    __tablename__ = "maintenance_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    site: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(16))
    every: Mapped[str | None] = mapped_column(String(32))
    cron: Mapped[str | None] = mapped_column(String(64))
    meter_metric: Mapped[str | None] = mapped_column(String(64))
    meter_every: Mapped[float | None]
    starts_at: Mapped[datetime]
    lead_time_s: Mapped[float] = mapped_column(default=0.0)
    priority: Mapped[str] = mapped_column(String(2))
    skill: Mapped[str] = mapped_column(String(32))
    checklist: Mapped[list[str]] = mapped_column(JSON, default=list)
    template: Mapped[str | None] = mapped_column(String(64))
    interrupts: Mapped[str | None] = mapped_column(String(16))
    duration_s: Mapped[float] = mapped_column(default=3600.0)
    notice_before_s: Mapped[float] = mapped_column(default=86400.0)
    levels: Mapped[str | None] = mapped_column(String(32))  # a ladder: tsg-t5002
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class OccurrenceRow(Base):
    """One due time of a plan on one asset: generated once, or recorded as skipped."""

    __tablename__ = "plan_occurrences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("maintenance_plans.id"))
    asset: Mapped[str] = mapped_column(String(64), default="")
    key: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # generating | generated | skipped
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # works that stop the asset: its out-of-service slot (due_at to ends_at) and its group
    ends_at: Mapped[datetime | None]
    site: Mapped[str | None] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(100))  # as the asset registry's
    level: Mapped[str | None] = mapped_column(String(16))  # of a levels plan: yearly ...

    __table_args__ = (
        UniqueConstraint("plan_id", "asset", "key", name="uq_plan_occurrences_once"),
        Index("ix_plan_occurrences_due", "plan_id", "asset", "due_at"),
        Index("ix_plan_occurrences_slots", "site", "building", "due_at"),
    )


class MeterStateRow(Base):
    __tablename__ = "plan_meters"

    plan_id: Mapped[int] = mapped_column(ForeignKey("maintenance_plans.id"), primary_key=True)
    asset: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_value: Mapped[float | None]
    usage: Mapped[float] = mapped_column(default=0.0)
    cycles: Mapped[int] = mapped_column(Integer, default=0)


class PartRow(Base):
    __tablename__ = "parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    unit_cost: Mapped[float] = mapped_column(default=0.0)


class StockRow(Base):
    """A part's stock at one site. ``on_hand`` counts what is on the shelf, reserved included."""

    __tablename__ = "part_stock"

    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    on_hand: Mapped[float] = mapped_column(default=0.0)
    reserved: Mapped[float] = mapped_column(default=0.0)
    reorder_point: Mapped[float] = mapped_column(default=0.0)
    low_since: Mapped[datetime | None]


class PartMovementRow(Base):
    """The stock ledger: every receipt, reservation, use and return, never edited."""

    __tablename__ = "part_movements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), index=True)
    site: Mapped[str] = mapped_column(String(64))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # receive reserve release consume return
    quantity: Mapped[float]
    from_reserved: Mapped[float] = mapped_column(default=0.0)
    unit_cost: Mapped[float] = mapped_column(default=0.0)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class NoticeRow(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    building: Mapped[str | None] = mapped_column(String(100))
    service: Mapped[str] = mapped_column(String(16))  # water | elevator | power
    planned: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    title_zh: Mapped[str] = mapped_column(Text)
    body_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("maintenance_plans.id"))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    asset: Mapped[str | None] = mapped_column(String(64))
    publish_at: Mapped[datetime | None]
    """When residents see it (planned works: notice_before ahead); null: at once (older rows)."""
    published_at: Mapped[datetime | None]
