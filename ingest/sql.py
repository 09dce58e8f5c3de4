"""SQLAlchemy tables and repositories of ingestion: the asset registry and the dead letters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from facility_dispatch.kernel.clock import from_ms
from facility_dispatch.kernel.db import Base, Sessions
from facility_dispatch.kernel.readings import DeadLetter

if TYPE_CHECKING:
    from facility_dispatch.ingest.register import RegisterEntry


class AssetRow(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    building: Mapped[str | None] = mapped_column(String(100))
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    online: Mapped[bool | None] = mapped_column(Boolean)
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics_at: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the register (issue 19): what the lift's registration certificate (使用登记证) says
    maker: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    install_date: Mapped[date | None] = mapped_column(Date)
    registration_code: Mapped[str | None] = mapped_column(String(64))
    floor: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        Index("uq_assets_site_asset", "site", "asset", unique=True),
        Index("ix_assets_kind", "site", "kind"),
    )


class DeadLetterRow(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime]
    topic: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    payload_head: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_dead_letters_reason", "reason", "id"),)


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """An asset as the registry keeps it."""

    site: str
    asset: str
    kind: str
    registered: bool
    online: bool | None
    first_seen: datetime | None
    last_seen: datetime | None
    metrics: dict[str, Any]
    name: str | None = None
    building: str | None = None
    maker: str | None = None
    model: str | None = None
    install_date: date | None = None
    registration_code: str | None = None
    floor: str | None = None


REGISTER_FIELDS = ("name", "maker", "model", "install_date", "registration_code", "building",
                   "floor")  # fmt: skip
"""The register data a planner keeps on an asset (the rest the devices report)."""


def _record(row: AssetRow) -> AssetRecord:
    return AssetRecord(
        row.site,
        row.asset,
        row.kind,
        row.registered,
        row.online,
        row.first_seen,
        row.last_seen,
        dict(row.metrics or {}),
        row.name,
        row.building,
        row.maker,
        row.model,
        row.install_date,
        row.registration_code,
        row.floor,
    )


@dataclass(frozen=True, slots=True)
class AssetUpdate:
    """What ingestion learnt about an asset since the last flush."""

    site: str
    asset: str
    kind: str
    last_seen: datetime | None
    online: bool | None
    metrics: dict[str, Any]


class SqlAssetRegistry:
    """Assets in the relational database."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def all(self) -> list[AssetRecord]:
        with self._sessions() as session:
            return [_record(r) for r in session.scalars(select(AssetRow))]

    def get(self, site: str, asset: str) -> AssetRecord | None:
        with self._sessions() as session:
            row = session.scalars(
                select(AssetRow).where(AssetRow.site == site, AssetRow.asset == asset)
            ).first()
            return _record(row) if row else None

    def query(
        self,
        site: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[AssetRecord], int]:
        with self._sessions() as session:
            stmt = select(AssetRow)
            if site:
                stmt = stmt.where(AssetRow.site == site)
            if kind:
                stmt = stmt.where(AssetRow.kind == kind)
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            stmt = stmt.order_by(AssetRow.site, AssetRow.asset).offset(offset)
            if limit is not None:
                stmt = stmt.limit(limit)
            return [_record(r) for r in session.scalars(stmt)], total

    def register(
        self, site: str, asset: str, kind: str, name: str | None, building: str | None
    ) -> AssetRecord:
        """Register (or update) an asset by hand; under the strict policy only these are taken."""
        with self._sessions.begin() as session:
            row = session.scalars(
                select(AssetRow).where(AssetRow.site == site, AssetRow.asset == asset)
            ).first()
            if row is None:
                row = AssetRow(site=site, asset=asset, kind=kind, metrics={}, metrics_at={})
                session.add(row)
            row.kind = kind
            row.registered = True
            row.name = name
            row.building = building
            session.flush()
            return _record(row)

    def set_register(self, entries: Sequence[RegisterEntry]) -> list[AssetRecord]:
        """Write the register data of each entry, in one transaction: all are taken or none.

        An asset not yet known is registered with it; a known one keeps its kind unless the
        entry names another (as :meth:`register` does)."""
        with self._sessions.begin() as session:
            keys = {(e.site, e.asset) for e in entries}
            rows = {
                (r.site, r.asset): r
                for r in session.scalars(
                    select(AssetRow).where(AssetRow.site.in_({s for s, _ in keys}))
                )
                if (r.site, r.asset) in keys
            }
            written = []
            for entry in entries:
                row = rows.get((entry.site, entry.asset))
                if row is None:
                    row = AssetRow(site=entry.site, asset=entry.asset, metrics={}, metrics_at={})
                    session.add(row)
                    rows[(entry.site, entry.asset)] = row
                row.kind = entry.kind
                row.registered = True
                for name in REGISTER_FIELDS:
                    setattr(row, name, getattr(entry, name))
                written.append(row)
            # one flush: 5,000 new rows in 0.9 s on SQLite, 1.8 s on PostgreSQL (2.2 s, 4.2 s
            # with a flush a row)
            session.flush()
            return [_record(row) for row in written]

    def apply(self, updates: Iterable[AssetUpdate]) -> None:
        """Create assets first seen, and fold in last_seen, presence and latest metrics."""
        updates = list(updates)
        if not updates:
            return
        with self._sessions.begin() as session:
            keys = {(u.site, u.asset) for u in updates}
            sites = {s for s, _ in keys}
            rows = {
                (r.site, r.asset): r
                for r in session.scalars(select(AssetRow).where(AssetRow.site.in_(sites)))
                if (r.site, r.asset) in keys
            }
            for update in updates:
                row = rows.get((update.site, update.asset))
                if row is None:
                    row = AssetRow(
                        site=update.site,
                        asset=update.asset,
                        kind=update.kind,
                        registered=False,
                        first_seen=update.last_seen,
                        metrics={},
                        metrics_at={},
                    )
                    session.add(row)
                    rows[(update.site, update.asset)] = row
                if update.last_seen and (row.last_seen is None or update.last_seen > row.last_seen):
                    row.last_seen = update.last_seen
                if update.online is not None:
                    row.online = update.online
                if update.metrics:
                    row.metrics = {**(row.metrics or {}), **update.metrics}


class SqlDeadLetters:
    """Dead letters, newest kept up to a bound so a flood cannot fill the disk."""

    def __init__(self, sessions: Sessions, keep: int = 100_000) -> None:
        self._sessions = sessions
        self._keep = keep

    def add(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        with self._sessions.begin() as session:
            session.add_all(
                DeadLetterRow(
                    received_at=from_ms(d.received_ms),
                    topic=d.topic[:300],
                    reason=d.reason.value,
                    detail=d.detail,
                    payload_head=d.payload_head,
                )
                for d in letters
            )
            session.flush()
            newest = session.scalar(select(func.max(DeadLetterRow.id))) or 0
            if newest > self._keep:
                session.execute(
                    delete(DeadLetterRow).where(DeadLetterRow.id <= newest - self._keep)
                )

    def list(
        self, reason: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[DeadLetterRow], int]:
        with self._sessions() as session:
            stmt = select(DeadLetterRow)
            if reason:
                stmt = stmt.where(DeadLetterRow.reason == reason)
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.scalars(
                stmt.order_by(DeadLetterRow.id.desc()).limit(limit).offset(offset)
            ).all()
            return list(rows), total
