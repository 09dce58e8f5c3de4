"""The alarm service: stores the engine's decisions, mutes what must not dispatch, tells others.

The engine decides; this records. A fired alarm is checked against silences and root-cause
inhibition (alertmanager's chain of muters) before anyone is told to dispatch; a muted alarm is
kept and shown, linked to its silence or to the alarm that inhibits it, and is dispatched later
if it outlives its mute (the works end, the power comes back, the lift is still stuck).

If the database is away, decisions wait in order in memory and are written when it returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from facility_dispatch.ingest import topics
from facility_dispatch.kernel.clock import Clock, from_ms, rfc3339
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.rules.events import (
    AlarmChange,
    AlarmDiscarded,
    AlarmEscalated,
    AlarmFired,
    AlarmPending,
    AlarmResolved,
    OpenAlarm,
)
from facility_dispatch.rules.inhibition import FiringAlarm, inhibitor, source_faults
from facility_dispatch.rules.loader import RuleSet
from facility_dispatch.rules.models import RuleSpec
from facility_dispatch.rules.silences import Silence, silencing
from facility_dispatch.rules.sql import OPEN_STATES, AlarmRow, SqlSilences

log = logging.getLogger(__name__)

Happening = Literal["fired", "escalated", "resolved", "unmuted", "acknowledged"]


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    id: int
    rule_id: str
    site: str
    asset: str
    kind: str
    fault: str
    severity: str
    state: str
    description: str
    value: Any
    started_at: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    silenced: bool
    silence_id: int | None
    inhibited_by: int | None
    work_order_id: int | None

    @property
    def muted(self) -> bool:
        return self.silenced or self.inhibited_by is not None

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("started_at", "fired_at", "resolved_at", "acknowledged_at"):
            data[name] = rfc3339(data[name])
        return data


def record_of(row: AlarmRow) -> AlarmRecord:
    return AlarmRecord(
        row.id,
        row.rule_id,
        row.site,
        row.asset,
        row.kind,
        row.fault,
        row.severity,
        row.state,
        row.description,
        row.value,
        row.started_at,
        row.fired_at,
        row.resolved_at,
        row.acknowledged_at,
        row.acknowledged_by,
        row.silenced,
        row.silence_id,
        row.inhibited_by,
        row.work_order_id,
    )


AlarmListener = Callable[[Happening, AlarmRecord], None]


class AlarmNotFoundError(LookupError):
    pass


class AlarmConflictError(Exception):
    """An acknowledgement that cannot be taken (already acknowledged, or discarded)."""


class AlarmService:
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        silences: SqlSilences,
        clock: Clock,
        ruleset: Callable[[], RuleSet],
        publish: Callable[[str, bytes, bool], object] | None = None,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._silences = silences
        self._clock = clock
        self._ruleset = ruleset
        self._publish = publish
        self._listeners: list[AlarmListener] = []
        self._backlog: list[AlarmChange] = []
        self._lock = threading.Lock()
        self._silence_cache: list[Silence] = []
        self.refresh_silences()

    def on_alarm(self, listener: AlarmListener) -> None:
        self._listeners.append(listener)

    def rules(self) -> tuple[RuleSpec, ...]:
        """The rules in force now (the console draws their limits on the charts)."""
        return self._ruleset().rules

    def rule(self, rule_id: str) -> RuleSpec | None:
        """The rule of the rules in force now (the console shows its description in the
        visitor's language and draws its limits on the charts)."""
        return self._ruleset().by_id(rule_id)

    # -- recording the engine's decisions ---------------------------------------------------

    def apply(self, changes: Iterable[AlarmChange]) -> list[AlarmRecord]:
        """Record changes (with any that waited for the database), then tell the listeners."""
        with self._lock:
            self._backlog.extend(changes)
            if not self._backlog:
                return []
            pending = list(self._backlog)
            try:
                told, touched = self._write(pending)
            except Exception:
                log.warning("alarms not written (database unavailable?); %d wait", len(pending))
                return []
            del self._backlog[: len(pending)]
        self._after_commit(told, touched)
        return [record for _, record in told]

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    def _write(
        self, changes: list[AlarmChange]
    ) -> tuple[list[tuple[Happening, AlarmRecord]], set[tuple[str, str, str]]]:
        told: list[tuple[Happening, AlarmRecord]] = []
        touched: set[tuple[str, str, str]] = set()
        rules = self._ruleset()
        now = self._clock.now()
        with self._sessions.begin() as session:
            for change in changes:
                touched.add((change.site, change.kind, change.asset))
                row = self._open_row(session, change.site, change.asset, change.fault)
                at = from_ms(change.at_ms)
                if isinstance(change, AlarmDiscarded):
                    if row is not None and row.state == "pending":
                        self._event(session, "alarm.discarded", row, at)
                        session.delete(row)
                    continue
                if isinstance(change, AlarmResolved):
                    if row is None:
                        continue
                    row.state = "resolved"
                    row.resolved_at = at
                    session.flush()
                    self._event(session, "alarm.resolved", row, at)
                    told.append(("resolved", record_of(row)))
                    continue
                if row is None:
                    spec = rules.by_id(change.rule_id)
                    row = AlarmRow(
                        rule_id=change.rule_id,
                        site=change.site,
                        asset=change.asset,
                        kind=change.kind,
                        fault=change.fault,
                        severity=change.severity,
                        state="pending",
                        description=spec.description if spec else "",
                        value=change.value,
                        started_at=from_ms(change.started_ms),
                        silenced=False,
                    )
                    session.add(row)
                if isinstance(change, AlarmPending):
                    session.flush()
                    self._event(session, "alarm.pending", row, at)
                    continue
                row.rule_id = change.rule_id
                row.severity = change.severity
                row.value = change.value
                if isinstance(change, AlarmEscalated):
                    session.flush()
                    self._event(session, "alarm.escalated", row, at)
                    told.append(("escalated", record_of(row)))
                    continue
                assert isinstance(change, AlarmFired)
                row.state = "firing"
                row.fired_at = at
                session.flush()
                self._mute(session, row, now, rules)
                self._event(session, "alarm.fired", row, at)
                told.append(("fired", record_of(row)))
                self._inhibit_others(session, row, rules, at, touched)
        return told, touched

    @staticmethod
    def _open_row(session: Session, site: str, asset: str, fault: str) -> AlarmRow | None:
        return session.scalars(
            select(AlarmRow).where(
                AlarmRow.site == site,
                AlarmRow.asset == asset,
                AlarmRow.fault == fault,
                AlarmRow.state.in_(OPEN_STATES),
            )
        ).first()

    def _firing_at(self, session: Session, site: str, faults: set[str]) -> list[FiringAlarm]:
        """The alarms firing at a site with one of ``faults``: only those that could inhibit
        the alarm in hand, not every alarm of the site (a busy site has hundreds)."""
        if not faults:
            return []
        rows = session.execute(
            select(AlarmRow.id, AlarmRow.site, AlarmRow.asset, AlarmRow.kind, AlarmRow.fault).where(
                AlarmRow.site == site, AlarmRow.state == "firing", AlarmRow.fault.in_(faults)
            )
        )
        return [FiringAlarm(*r) for r in rows]

    def _mute(self, session: Session, row: AlarmRow, now: datetime, rules: RuleSet) -> None:
        silence = silencing(self._silence_cache, row.site, row.asset, row.kind, now, row.fault)
        row.silenced = silence is not None
        row.silence_id = silence.id if silence else None
        firing = self._firing_at(session, row.site, source_faults(row.kind, rules.inhibit))
        source = inhibitor(self._firing(row), firing, rules.inhibit)
        row.inhibited_by = source.id if source else None

    @staticmethod
    def _firing(row: AlarmRow) -> FiringAlarm:
        return FiringAlarm(row.id, row.site, row.asset, row.kind, row.fault)

    def _inhibit_others(
        self,
        session: Session,
        source: AlarmRow,
        rules: RuleSet,
        at: datetime,
        touched: set[tuple[str, str, str]],
    ) -> None:
        """A root cause that fires after its consequences mutes them too."""
        if not any(r.source.fault == source.fault for r in rules.inhibit):
            return
        others = session.scalars(
            select(AlarmRow).where(
                AlarmRow.site == source.site,
                AlarmRow.state == "firing",
                AlarmRow.id != source.id,
                AlarmRow.inhibited_by.is_(None),
            )
        ).all()
        for other in others:
            found = inhibitor(self._firing(other), [self._firing(source)], rules.inhibit)
            if found is not None:
                other.inhibited_by = source.id
                self._event(session, "alarm.inhibited", other, at)
                touched.add((other.site, other.kind, other.asset))

    def _event(self, session: Session, type_: str, row: AlarmRow, at: datetime) -> None:
        self._events.record(session, type_, at, record_of(row).public(), row.site)

    def _after_commit(
        self, told: list[tuple[Happening, AlarmRecord]], touched: set[tuple[str, str, str]]
    ) -> None:
        self._events.notify()
        for site, kind, asset in touched:
            self.publish_state(site, kind, asset)
        for happening, record in told:
            if happening == "fired" and record.muted:
                continue
            for listener in self._listeners:
                try:
                    listener(happening, record)
                except Exception:
                    log.exception("alarm listener failed on %s %s", happening, record.id)

    def publish_state(self, site: str, kind: str, asset: str) -> None:
        """The asset's open alarms, retained on its alarm topic (SPEC section 1)."""
        if self._publish is None:
            return
        open_alarms = [
            {
                "id": r.id,
                "fault": r.fault,
                "severity": r.severity,
                "state": r.state,
                "rule_id": r.rule_id,
                "value": r.value,
                "started_at": rfc3339(r.started_at),
                "silenced": r.silenced,
                "inhibited_by": r.inhibited_by,
                "work_order_id": r.work_order_id,
            }
            for r in self.query(site=site, asset=asset, states=OPEN_STATES, limit=100)[0]
        ]
        try:
            self._publish(topics.alarm(site, kind, asset), orjson.dumps(open_alarms), True)
        except Exception:
            log.exception("alarm state of %s/%s not published", site, asset)

    # -- mutes that end --------------------------------------------------------------------

    def refresh_silences(self) -> None:
        self._silence_cache = self._silences.current(self._clock.now())

    def recheck_mutes(self) -> list[AlarmRecord]:
        """Unmute firing alarms whose silence ended or whose root cause resolved, and mute the
        ones a new silence covers. Unmuted alarms are dispatched now."""
        now = self._clock.now()
        rules = self._ruleset()
        told: list[tuple[Happening, AlarmRecord]] = []
        touched: set[tuple[str, str, str]] = set()
        with self._lock, self._sessions.begin() as session:
            firing = session.scalars(select(AlarmRow).where(AlarmRow.state == "firing")).all()
            by_site: dict[str, list[FiringAlarm]] = {}
            for row in firing:
                by_site.setdefault(row.site, []).append(self._firing(row))
            for row in firing:
                silence = silencing(
                    self._silence_cache, row.site, row.asset, row.kind, now, row.fault
                )
                source = None
                if row.inhibited_by is not None:
                    source = next(
                        (f for f in by_site[row.site] if f.id == row.inhibited_by), None
                    ) or inhibitor(self._firing(row), by_site[row.site], rules.inhibit)
                was_muted = row.silenced or row.inhibited_by is not None
                row.silenced = silence is not None
                row.silence_id = silence.id if silence else None
                row.inhibited_by = source.id if source else None
                is_muted = row.silenced or row.inhibited_by is not None
                if was_muted and not is_muted:
                    session.flush()
                    self._event(session, "alarm.unmuted", row, now)
                    told.append(("unmuted", record_of(row)))
                    touched.add((row.site, row.kind, row.asset))
                elif not was_muted and is_muted:
                    self._event(session, "alarm.silenced", row, now)
                    touched.add((row.site, row.kind, row.asset))
        if told or touched:
            self._after_commit(told, touched)
        return [record for _, record in told]

    def flush_backlog(self) -> None:
        if self._backlog:
            self.apply(())

    # -- what people do -------------------------------------------------------------------

    def acknowledge(self, alarm_id: int, who: str, note: str | None) -> AlarmRecord:
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = session.get(AlarmRow, alarm_id)
            if row is None:
                raise AlarmNotFoundError(alarm_id)
            if row.acknowledged_at is not None:
                when = rfc3339(row.acknowledged_at)
                raise AlarmConflictError(f"already acknowledged by {row.acknowledged_by} at {when}")
            row.acknowledged_at = now
            row.acknowledged_by = who
            row.ack_note = note
            session.flush()
            self._event(session, "alarm.acknowledged", row, now)
            record = record_of(row)
        self._after_commit([("acknowledged", record)], set())
        return record

    @staticmethod
    def link_work_order(alarm_id: int, work_order_id: int, session: Session) -> None:
        """The one write of an alarm from outside: the dispatcher links it to its order, in
        the order's transaction."""
        row = session.get(AlarmRow, alarm_id)
        if row is not None:
            row.work_order_id = work_order_id

    # -- reading ---------------------------------------------------------------------------

    def get(self, alarm_id: int) -> AlarmRecord | None:
        with self._sessions() as session:
            row = session.get(AlarmRow, alarm_id)
            return record_of(row) if row else None

    def query(
        self,
        *,
        state: str | None = None,
        states: Iterable[str] | None = None,
        site: str | None = None,
        asset: str | None = None,
        kind: str | None = None,
        severity: str | None = None,
        fault: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[AlarmRecord], int]:
        conditions = []
        if state:
            conditions.append(AlarmRow.state == state)
        if states:
            conditions.append(AlarmRow.state.in_(list(states)))
        for column, value in (
            (AlarmRow.site, site),
            (AlarmRow.asset, asset),
            (AlarmRow.kind, kind),
            (AlarmRow.severity, severity),
            (AlarmRow.fault, fault),
        ):
            if value:
                conditions.append(column == value)
        if since:
            conditions.append(AlarmRow.started_at >= since)
        if until:
            conditions.append(AlarmRow.started_at < until)
        with self._sessions() as session:
            stmt = select(AlarmRow).where(and_(*conditions)) if conditions else select(AlarmRow)
            total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = session.scalars(stmt.order_by(AlarmRow.id.desc()).limit(limit).offset(offset))
            return [record_of(r) for r in rows], total

    def open_alarms(self) -> list[OpenAlarm]:
        """For the engine after a restart."""
        with self._sessions() as session:
            rows = session.scalars(select(AlarmRow).where(AlarmRow.state.in_(OPEN_STATES)))
            return [
                OpenAlarm(
                    r.site,
                    r.asset,
                    r.kind,
                    r.fault,
                    r.rule_id,
                    r.severity,
                    r.state,
                    int((r.started_at).timestamp() * 1000),
                    int(r.fired_at.timestamp() * 1000) if r.fired_at else None,
                    r.value,
                )
                for r in rows
            ]

    def waiting_for_dispatch(self, rule_ids: Iterable[str], limit: int = 500) -> list[AlarmRecord]:
        """Firing, unmuted alarms of these rules (the ones that ask for a work order) that have
        none: what a crash, or a database outage longer than the dispatcher's retries, left
        behind. Oldest first."""
        wanted = list(rule_ids)
        if not wanted:
            return []
        with self._sessions() as session:
            rows = session.scalars(
                select(AlarmRow)
                .where(
                    AlarmRow.state == "firing",
                    AlarmRow.work_order_id.is_(None),
                    AlarmRow.silenced.is_(False),
                    AlarmRow.inhibited_by.is_(None),
                    AlarmRow.rule_id.in_(wanted),
                )
                .order_by(AlarmRow.id)
                .limit(limit)
            )
            return [record_of(r) for r in rows]

    def count_firing(self) -> int:
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(AlarmRow).where(AlarmRow.state == "firing")
                )
                or 0
            )

    def open_states_by_asset(self) -> dict[tuple[str, str], list[AlarmRecord]]:
        records, _ = self.query(states=OPEN_STATES, limit=100_000)
        grouped: dict[tuple[str, str], list[AlarmRecord]] = {}
        for record in records:
            grouped.setdefault((record.site, record.asset), []).append(record)
        return grouped

    # -- silences --------------------------------------------------------------------------

    def add_silence(
        self,
        site: str,
        asset: str | None,
        kind: str | None,
        starts_at: datetime,
        ends_at: datetime | None,
        reason: str,
        created_by: str,
        work_order_id: int | None = None,
        fault: str | None = None,
    ) -> Silence:
        silence = self._silences.add(
            site,
            asset,
            kind,
            starts_at,
            ends_at,
            reason,
            created_by,
            self._clock.now(),
            work_order_id,
            fault,
        )
        self.refresh_silences()
        self.recheck_mutes()
        return silence

    def end_silence(self, silence_id: int) -> Silence | None:
        silence = self._silences.end(silence_id, self._clock.now())
        self.refresh_silences()
        self.recheck_mutes()
        return silence

    def silence_for_works(self, work_order_id: int, site: str, asset: str, reason: str) -> Silence:
        """The hook of planned works: the asset is silenced while its order is in progress."""
        return self.add_silence(
            site, asset, None, self._clock.now(), None, reason, "maintenance", work_order_id
        )

    def end_works_silence(self, work_order_id: int) -> list[Silence]:
        ended = self._silences.end_for_work_order(work_order_id, self._clock.now())
        self.refresh_silences()
        self.recheck_mutes()
        return ended

    def under_works(self, site: str, asset: str) -> bool:
        """Planned works are in progress on the asset (a silence held by a work order)."""
        now = self._clock.now()
        return any(
            s.work_order_id is not None and s.site == site and s.asset == asset and s.active(now)
            for s in self._silence_cache
        )

    def silences(self) -> SqlSilences:
        return self._silences
