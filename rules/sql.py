"""Alarms, silences and the learned baselines of deviation rules in the relational database.

One open alarm per (site, asset, fault) is a database constraint (a partial unique index),
not only a rule of the code: two workers, or a retry after a crash, cannot open it twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Mapped, mapped_column

from facility_dispatch.kernel.db import Base, Sessions
from facility_dispatch.rules.engine import SavedBaseline
from facility_dispatch.rules.silences import Silence

OPEN_STATES = ("pending", "firing")


class AlarmRow(Base):
    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    site: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    fault: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    ack_note: Mapped[str | None] = mapped_column(Text)
    silenced: Mapped[bool] = mapped_column(Boolean, default=False)
    silence_id: Mapped[int | None] = mapped_column(ForeignKey("silences.id"))
    inhibited_by: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"))
    work_order_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index(
            "uq_alarms_open_episode",
            "site",
            "asset",
            "fault",
            unique=True,
            sqlite_where=text("state IN ('pending', 'firing')"),
            postgresql_where=text("state IN ('pending', 'firing')"),
        ),
        Index("ix_alarms_state_site", "state", "site"),
        Index("ix_alarms_asset", "site", "asset", "started_at"),
    )


class SilenceRow(Base):
    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    work_order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    fault: Mapped[str | None] = mapped_column(String(64))


def silence_of(row: SilenceRow) -> Silence:
    return Silence(
        row.id,
        row.site,
        row.asset,
        row.kind,
        row.starts_at,
        row.ends_at,
        row.reason,
        row.created_by,
        row.work_order_id,
        row.fault,
    )


class SqlSilences:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def add(
        self,
        site: str,
        asset: str | None,
        kind: str | None,
        starts_at: datetime,
        ends_at: datetime | None,
        reason: str,
        created_by: str,
        created_at: datetime,
        work_order_id: int | None = None,
        fault: str | None = None,
    ) -> Silence:
        with self._sessions.begin() as session:
            row = SilenceRow(
                site=site,
                fault=fault,
                asset=asset,
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                created_by=created_by,
                created_at=created_at,
                work_order_id=work_order_id,
            )
            session.add(row)
            session.flush()
            return silence_of(row)

    def end(self, silence_id: int, at: datetime) -> Silence | None:
        with self._sessions.begin() as session:
            row = session.get(SilenceRow, silence_id)
            if row is None:
                return None
            if row.ends_at is None or row.ends_at > at:
                row.ends_at = max(at, row.starts_at)
            return silence_of(row)

    def end_for_work_order(self, work_order_id: int, at: datetime) -> list[Silence]:
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(SilenceRow).where(
                    SilenceRow.work_order_id == work_order_id, SilenceRow.ends_at.is_(None)
                )
            ).all()
            for row in rows:
                row.ends_at = max(at, row.starts_at)
            return [silence_of(r) for r in rows]

    def current(self, at: datetime) -> list[Silence]:
        """Silences active now or starting later (the ones that may still mute something)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(SilenceRow).where((SilenceRow.ends_at.is_(None)) | (SilenceRow.ends_at > at))
            )
            return [silence_of(r) for r in rows]

    def query(
        self, site: str | None, active_at: datetime | None, limit: int, offset: int
    ) -> tuple[list[Silence], int]:
        with self._sessions() as session:
            stmt = select(SilenceRow)
            if site:
                stmt = stmt.where(SilenceRow.site == site)
            if active_at is not None:
                stmt = stmt.where(
                    SilenceRow.starts_at <= active_at,
                    (SilenceRow.ends_at.is_(None)) | (SilenceRow.ends_at > active_at),
                )
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.scalars(stmt.order_by(SilenceRow.id.desc()).limit(limit).offset(offset))
            return [silence_of(r) for r in rows], total


class BaselineRow(Base):
    """What one asset's deviation leaf has learned (Baseline.snapshot): one row per asset and
    leaf, so bounded by assets x deviation rules; rewritten in place."""

    __tablename__ = "rule_baselines"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    asset: Mapped[str] = mapped_column(String(64), primary_key=True)
    leaf: Mapped[str] = mapped_column(String(400), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    last_ms: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[Any] = mapped_column(JSON)


class SqlBaselines:
    """The learned baselines across restarts: written in batches, read once at start."""

    BATCH = 300  # x 3 key columns: under the 999 variables of an old SQLite

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def save(self, baselines: list[SavedBaseline]) -> None:
        """Store these (each replaces the row of its asset and leaf), ``BATCH`` rows a
        transaction: portable across SQLite and PostgreSQL without a dialect's upsert."""
        for start in range(0, len(baselines), self.BATCH):
            batch = baselines[start : start + self.BATCH]
            keys = [(b.site, b.asset, b.leaf) for b in batch]
            with self._sessions.begin() as session:
                session.execute(
                    delete(BaselineRow).where(
                        tuple_(BaselineRow.site, BaselineRow.asset, BaselineRow.leaf).in_(keys)
                    )
                )
                session.add_all(
                    BaselineRow(
                        site=b.site,
                        asset=b.asset,
                        leaf=b.leaf,
                        kind=b.kind,
                        last_ms=b.last_ms,
                        state=b.state,
                    )
                    for b in batch
                )

    def load(self) -> list[SavedBaseline]:
        with self._sessions() as session:
            rows = session.scalars(select(BaselineRow))
            return [
                SavedBaseline(r.site, r.asset, r.kind, r.leaf, r.last_ms, dict(r.state or {}))
                for r in rows
            ]

    def forget(self, keys: list[tuple[str, str, str]]) -> None:
        """Drop the rows of leaves no rule has any more (site, asset, leaf)."""
        for start in range(0, len(keys), self.BATCH):
            batch = keys[start : start + self.BATCH]
            with self._sessions.begin() as session:
                session.execute(
                    delete(BaselineRow).where(
                        tuple_(BaselineRow.site, BaselineRow.asset, BaselineRow.leaf).in_(batch)
                    )
                )
