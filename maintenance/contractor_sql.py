"""Tables of contractors, their technicians, and the safety manager's sign-offs of orders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facility_dispatch.kernel.db import Base


class ContractorRow(Base):
    __tablename__ = "contractors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    phone_24h: Mapped[str] = mapped_column(String(40))
    contract_start: Mapped[date] = mapped_column(Date)
    contract_end: Mapped[date] = mapped_column(Date)
    sites: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    response_minutes: Mapped[int | None] = mapped_column(Integer)
    receiver: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class ContractorTechnicianRow(Base):
    __tablename__ = "contractor_technicians"

    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractors.id"), primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), primary_key=True)
    licence: Mapped[str] = mapped_column(String(64))


class SignOffRow(Base):
    """One per order, never updated: the signed record and its digest."""

    __tablename__ = "work_order_sign_offs"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), primary_key=True)
    signed_at: Mapped[datetime]
    signer: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
