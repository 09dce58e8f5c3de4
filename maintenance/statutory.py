"""Statutory items kept in the database, and the reminders the scheduler's leader sends.

The arithmetic is :mod:`facility_dispatch.maintenance.compliance`; this records the due dates,
moves them when an item is recorded done, and sends each reminder once: the reminder's row
(key, due date, stage) is written in the same transaction as the notification and the event,
so a second sweep, or a second leader, finds it sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from facility_dispatch.kernel.clock import Clock
from facility_dispatch.kernel.db import Base, Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.maintenance import compliance
from facility_dispatch.maintenance.compliance import Obligation, Reminder
from facility_dispatch.maintenance.errors import InvalidRequestError, NotFoundError
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.sql import NotificationRow

SITE_ITEMS = frozenset({"drill"})
ASSET_ITEMS = frozenset({"inspection", "certificate"})
LABELS = {
    "inspection": "periodic inspection (定期检验)",
    "self_test": "self-test (自行检测)",
    "drill": "emergency rescue drill (应急救援演练)",
    "certificate": "certificate expiry",
    "operator_certificate": "operator certificate (特种设备作业人员证) expiry",
}


class StatutoryItemRow(Base):
    __tablename__ = "statutory_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(64))  # "" for the site's own (the drill)
    item: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date] = mapped_column(Date)
    last_done_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (Index("uq_statutory_items", "site", "asset", "item", unique=True),)


class StatutoryReminderRow(Base):
    """A reminder sent: at most one per item, due date and stage."""

    __tablename__ = "statutory_reminders"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class Standing:
    """An obligation as the compliance list shows it today."""

    obligation: Obligation
    stage: str
    days_left: int


def _key(site: str, asset: str, item: str) -> str:
    return f"{item}:{site}:{asset}"


def _obligation(row: StatutoryItemRow) -> Obligation:
    return Obligation(
        _key(row.site, row.asset, row.item),
        row.site,
        row.asset,
        row.item,
        row.due_on,
        row.last_done_on,
        LABELS.get(row.item, row.item),
    )


class Compliance:
    """The statutory items of every site: due dates, records of them done, reminders."""

    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        people: People,
        clock: Clock,
        timezone: str,
        *,
        lead_days: int = 30,
        zone_of: Callable[[str], str | None] = lambda site: None,
        installed_on: Callable[[str, str], date | None] = lambda site, asset: None,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._people = people
        self._clock = clock
        self._timezone = timezone
        self._zone_of = zone_of
        self._installed_on = installed_on
        self.lead_days = lead_days

    @staticmethod
    def _check(asset: str, item: str) -> None:
        if item in SITE_ITEMS and asset:
            raise InvalidRequestError(f"asset: a {item} is the site's, name no asset")
        if item in ASSET_ITEMS and not asset:
            raise InvalidRequestError(f"asset: a {item} is an asset's, name the asset")
        if item not in SITE_ITEMS | ASSET_ITEMS:
            raise InvalidRequestError(
                f"item: {item} is not kept here; one of "
                f"{', '.join(sorted(SITE_ITEMS | ASSET_ITEMS))}"
            )

    def _row(self, session: Session, site: str, asset: str, item: str) -> StatutoryItemRow | None:
        return session.scalars(
            select(StatutoryItemRow).where(
                StatutoryItemRow.site == site,
                StatutoryItemRow.asset == asset,
                StatutoryItemRow.item == item,
            )
        ).first()

    def set_due(
        self, site: str, asset: str, item: str, due_on: date, actor: str, note: str | None = None
    ) -> Obligation:
        """Set an item's due date (from the inspection report, the certificate)."""
        self._check(asset, item)
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = self._row(session, site, asset, item)
            if row is None:
                row = StatutoryItemRow(site=site, asset=asset, item=item)
                session.add(row)
            row.due_on, row.note, row.updated_at, row.updated_by = due_on, note, now, actor
            session.flush()
            obligation = _obligation(row)
            self._events.record(session, "compliance.due_set", now, self._payload(obligation), site)
        self._events.notify()
        return obligation

    def record_done(
        self,
        site: str,
        asset: str,
        item: str,
        done_on: date,
        actor: str,
        next_due: date | None = None,
        note: str | None = None,
    ) -> Obligation:
        """An inspection or a drill held, a certificate renewed: the due date moves on
        (a year, six months; a renewed certificate to the date it gives)."""
        self._check(asset, item)
        due = next_due or compliance.next_due(item, done_on)
        if due is None:
            raise InvalidRequestError(f"next_due: a renewed {item} needs its new expiry date")
        if due <= done_on:
            raise InvalidRequestError("next_due: must be after done_on")
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = self._row(session, site, asset, item)
            if row is None:
                row = StatutoryItemRow(site=site, asset=asset, item=item)
                session.add(row)
            row.due_on, row.last_done_on = due, done_on
            row.note, row.updated_at, row.updated_by = note, now, actor
            session.flush()
            obligation = _obligation(row)
            self._events.record(session, "compliance.done", now, self._payload(obligation), site)
        self._events.notify()
        return obligation

    def obligations(self, site: str | None = None) -> list[Obligation]:
        """Every item with a due date: the recorded ones and the technicians' certificates."""
        with self._sessions() as session:
            stmt = select(StatutoryItemRow).order_by(StatutoryItemRow.due_on, StatutoryItemRow.id)
            if site:
                stmt = stmt.where(StatutoryItemRow.site == site)
            found = [self._named(_obligation(r)) for r in session.scalars(stmt)]
        technicians, _ = self._people.technicians(site=site, limit=100_000)
        for technician in technicians:
            for certificate in technician.certifications:
                try:
                    expires = date.fromisoformat(str(certificate.get("expires_on")))
                except ValueError:
                    continue
                number = str(certificate.get("number", ""))
                for place in technician.sites if site is None else (site,):
                    found.append(
                        Obligation(
                            f"operator_certificate:{technician.id}:{certificate.get('kind')}:"
                            f"{number}"[:200],
                            place,
                            technician.name,
                            "operator_certificate",
                            expires,
                            None,
                            f"{certificate.get('kind')} {number}".strip(),
                        )
                    )
                    break  # one reminder per certificate, under the technician's first site
        return sorted(found, key=lambda o: (o.due_on, o.site, o.asset, o.item))

    def _named(self, obligation: Obligation) -> Obligation:
        """An inspection says whose it is this year: the inspection body's or a self-test, by
        the lift's age (its register's install date)."""
        if obligation.item != "inspection":
            return obligation
        kind = compliance.inspection_kind(
            self._installed_on(obligation.site, obligation.asset), obligation.due_on
        )
        return replace(obligation, label=kind)

    def _today(self, site: str) -> date:
        return compliance.local_day(self._clock.now(), self._zone_of(site) or self._timezone)

    def standings(self, site: str | None = None) -> list[Standing]:
        """Each item's stage today in its site's local day: ok, due_soon or overdue."""
        out = []
        days: dict[str, date] = {}
        for obligation in self.obligations(site):
            today = days.setdefault(obligation.site, self._today(obligation.site))
            out.append(
                Standing(
                    obligation,
                    compliance.stage(obligation.due_on, today, self.lead_days),
                    (obligation.due_on - today).days,
                )
            )
        return out

    def get(self, site: str, asset: str, item: str) -> Obligation:
        with self._sessions() as session:
            row = self._row(session, site, asset, item)
            if row is None:
                raise NotFoundError(f"no {item} recorded for {site}/{asset or '(site)'}")
            return _obligation(row)

    def sweep(self) -> int:
        """Send the reminders that fall due, once each; the number sent."""
        obligations = self.obligations()
        if not obligations:
            return 0
        today_of = {o.site: self._today(o.site) for o in obligations}
        with self._sessions() as session:
            sent = {
                (r.key, r.due_on, r.stage)
                for r in session.scalars(
                    select(StatutoryReminderRow).where(
                        StatutoryReminderRow.due_on >= min(o.due_on for o in obligations)
                    )
                )
            }
        count = 0
        for reminder in compliance.reminders(obligations, today_of, self.lead_days, sent):
            if self._send(reminder):
                count += 1
        if count:
            self._events.notify()
        return count

    def _send(self, reminder: Reminder) -> bool:
        obligation, now = reminder.obligation, self._clock.now()
        try:
            with self._sessions.begin() as session:
                session.add(
                    StatutoryReminderRow(
                        key=obligation.key, due_on=obligation.due_on, stage=reminder.stage, at=now
                    )
                )
                session.flush()  # a reminder sent already (another leader) stops here
                session.add(
                    NotificationRow(
                        at=now,
                        site=obligation.site,
                        role="supervisor",
                        work_order_id=None,
                        kind=f"compliance_{reminder.stage}",
                        message=self._message(reminder),
                    )
                )
                self._events.record(
                    session,
                    f"compliance.{reminder.stage}",
                    now,
                    {**self._payload(obligation), "days_left": reminder.days_left},
                    obligation.site,
                )
        except IntegrityError:
            return False
        return True

    @staticmethod
    def _message(reminder: Reminder) -> str:
        o = reminder.obligation
        who = f"{o.site}/{o.asset}" if o.asset else o.site
        what = LABELS.get(o.label if o.item == "inspection" else o.item, o.item) + (
            f" {o.label}" if o.item == "operator_certificate" else ""
        )
        if reminder.stage == "overdue":
            return f"{who}: {what} overdue since {o.due_on.isoformat()}"
        return f"{who}: {what} due on {o.due_on.isoformat()} ({reminder.days_left} days)"

    @staticmethod
    def _payload(obligation: Obligation) -> dict[str, Any]:
        return {
            "site": obligation.site,
            "asset": obligation.asset or None,
            "item": obligation.item,
            "due_on": obligation.due_on.isoformat(),
            "last_done_on": obligation.last_done_on.isoformat()
            if obligation.last_done_on
            else None,
        }
