"""Shift handover (交接班): the outgoing shift's log, acknowledged by the incoming one.

The outgoing person writes what the next shift must know: the site's open work orders (taken
from the order book as the log is written), incidents, keys handed over, notes. The incoming
person (or a planner for them) acknowledges it; one not acknowledged
:data:`ACKNOWLEDGE_WITHIN` into the incoming shift (its start: the named technician's shift,
else the post's; a log written an hour before the change waits for it) is flagged to the
site's supervisor, once, as an event (``handover.flagged``) the console shows and
notifications may route.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update

from facility_dispatch.kernel.clock import Clock, rfc3339
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.maintenance.authority import Rank
from facility_dispatch.maintenance.errors import ConflictError, NotFoundError, NotPermittedError
from facility_dispatch.maintenance.lifecycle import ACTIVE
from facility_dispatch.maintenance.orders import Actor, OrderBook
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.roster_sql import HandoverRow, PostRow
from facility_dispatch.maintenance.rostering import Rosters

ACKNOWLEDGE_WITHIN: Final = timedelta(minutes=30)
"""The incoming shift reads the log at the start of its shift; half an hour is generous."""
CHANGE_WITHIN: Final = (timedelta(hours=12), timedelta(hours=24))
"""A shift start taken for the change: begun up to 12 h before the log, or within a day."""
FLAGGED: Final = "handover.flagged"
ACKNOWLEDGED: Final = "handover.acknowledged"


@dataclass(frozen=True, slots=True)
class Handover:
    id: int
    site: str
    post_id: int | None
    outgoing: str
    incoming_technician_id: int | None
    written_at: datetime
    acknowledge_by: datetime
    open_orders: tuple[str, ...]
    incidents: str
    keys: str
    notes: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    flagged_at: datetime | None

    @property
    def state(self) -> str:
        """``acknowledged``, ``flagged`` (overdue, supervisor told) or ``waiting``."""
        if self.acknowledged_at is not None:
            return "acknowledged"
        return "flagged" if self.flagged_at is not None else "waiting"


def overdue(acknowledge_by: datetime, acknowledged_at: datetime | None, now: datetime) -> bool:
    """To be flagged: not acknowledged and past its time."""
    return acknowledged_at is None and now > acknowledge_by


def acknowledge_by(now: datetime, starts: Iterable[datetime]) -> datetime:
    """When the incoming shift should have read a log written at ``now``: half an hour into
    that shift, whose start is the one nearest ``now`` among ``starts`` (a log is written an
    hour before the change, or just after it), never before the log is written; half an hour
    after writing when no shift is known."""
    before, after = CHANGE_WITHIN
    near = [s for s in starts if now - before <= s <= now + after]
    if not near:
        return now + ACKNOWLEDGE_WITHIN
    start = min(near, key=lambda s: (abs(s - now), s))
    return max(now, start) + ACKNOWLEDGE_WITHIN


class OwnHandoverError(ConflictError):
    """The outgoing person tried to acknowledge their own log (HTTP 409): acknowledging says
    the incoming shift has read it, which its writer cannot say for them. ``code`` lets the
    console word it in its language."""

    def __init__(self, handover_id: int, outgoing: str) -> None:
        super().__init__(
            f"handover {handover_id} was written by {outgoing}: "
            "the incoming shift acknowledges it, not its writer"
        )
        self.code = "own_handover"
        self.params = {"outgoing": outgoing}


def own_log(actor: Actor, outgoing: str) -> bool:
    """Whether ``actor`` wrote the log (the log keeps its writer's name)."""
    return actor.name == outgoing


def may_acknowledge(actor: Actor, incoming_technician_id: int | None) -> bool:
    """The incoming technician named on the log, or a planner; anyone of the incoming shift
    (a technician) when the log names nobody."""
    if actor.rank >= Rank.PLANNER:
        return True
    if actor.rank < Rank.TECHNICIAN:
        return False
    return incoming_technician_id is None or actor.technician_id == incoming_technician_id


def _view(row: HandoverRow) -> Handover:
    return Handover(
        row.id,
        row.site,
        row.post_id,
        row.outgoing,
        row.incoming_technician_id,
        row.written_at,
        row.acknowledge_by,
        tuple(row.open_orders or ()),
        row.incidents,
        row.keys,
        row.notes,
        row.acknowledged_at,
        row.acknowledged_by,
        row.flagged_at,
    )


class Handovers:
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        orders: OrderBook,
        people: People,
        clock: Clock,
        rosters: Rosters | None = None,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._orders = orders
        self._people = people
        self._clock = clock
        self._rosters = rosters

    def write(
        self,
        site: str,
        outgoing: Actor,
        *,
        post_id: int | None = None,
        incoming_technician_id: int | None = None,
        incidents: str = "",
        keys: str = "",
        notes: str = "",
    ) -> Handover:
        if (
            incoming_technician_id is not None
            and self._people.technician(incoming_technician_id) is None
        ):
            raise NotFoundError(f"no technician {incoming_technician_id}")
        if post_id is not None and self._rosters is not None:
            post = self._rosters.post(post_id)
            if post is None or post.site != site:  # another estate's post sets no deadline here
                raise NotFoundError(f"no post {post_id} at {site}")
        now = self._clock.now()
        orders, _ = self._orders.query(status=list(ACTIVE), site=site, limit=200)
        with self._sessions.begin() as session:
            row = HandoverRow(
                site=site,
                post_id=post_id,
                outgoing=outgoing.name,
                incoming_technician_id=incoming_technician_id,
                written_at=now,
                acknowledge_by=acknowledge_by(
                    now, self._incoming_starts(now, post_id, incoming_technician_id)
                ),
                open_orders=[o.number for o in orders],
                incidents=incidents,
                keys=keys,
                notes=notes,
            )
            session.add(row)
            session.flush()
            return _view(row)

    def _incoming_starts(
        self, now: datetime, post_id: int | None, technician_id: int | None
    ) -> list[datetime]:
        """Starts of the incoming shift around ``now``: the incoming technician's own shifts
        (rostered shifts are published to them), else the post's shifts in its site's zone."""
        before, after = CHANGE_WITHIN
        if technician_id is not None:
            shifts, _ = self._people.shifts(
                technician_id=technician_id, start=now - before, end=now + after
            )
            starts = [s.starts_at for s in shifts if not s.on_call]
            if starts:
                return starts
        if post_id is not None and self._rosters is not None:
            return self._rosters.shift_starts(post_id, now - before, now + after)
        return []

    def acknowledge(self, handover_id: int, actor: Actor) -> Handover:
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = session.get(HandoverRow, handover_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no handover {handover_id}")
            if row.acknowledged_at is not None:
                raise ConflictError(
                    f"handover {handover_id} was acknowledged by {row.acknowledged_by} "
                    f"at {rfc3339(row.acknowledged_at)}"
                )
            if own_log(actor, row.outgoing):
                raise OwnHandoverError(handover_id, row.outgoing)
            if not may_acknowledge(actor, row.incoming_technician_id):
                raise NotPermittedError(
                    f"handover {handover_id} is for its incoming technician (or a planner)"
                )
            row.acknowledged_at, row.acknowledged_by = now, actor.name
            self._events.record(
                session,
                ACKNOWLEDGED,
                now,
                {"handover_id": row.id, "site": row.site, "by": actor.name},
                row.site,
            )
            view = _view(row)
        self._events.notify()
        return view

    def get(self, handover_id: int) -> Handover | None:
        with self._sessions() as session:
            row = session.get(HandoverRow, handover_id)
            return _view(row) if row else None

    def query(
        self, site: str | None = None, state: str | None = None, limit: int = 100
    ) -> list[Handover]:
        with self._sessions() as session:
            stmt = select(HandoverRow)
            if site:
                stmt = stmt.where(HandoverRow.site == site)
            if state == "acknowledged":
                stmt = stmt.where(HandoverRow.acknowledged_at.is_not(None))
            elif state in ("waiting", "flagged"):
                stmt = stmt.where(HandoverRow.acknowledged_at.is_(None))
                stmt = stmt.where(
                    HandoverRow.flagged_at.is_(None)
                    if state == "waiting"
                    else HandoverRow.flagged_at.is_not(None)
                )
            rows = session.scalars(stmt.order_by(HandoverRow.written_at.desc()).limit(limit))
            return [_view(r) for r in rows]

    def _overdue(self, now: datetime) -> list[int]:
        """The handovers past their time, neither acknowledged nor flagged (a plain read)."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    HandoverRow.id, HandoverRow.acknowledge_by, HandoverRow.acknowledged_at
                ).where(
                    HandoverRow.acknowledged_at.is_(None),
                    HandoverRow.flagged_at.is_(None),
                    HandoverRow.acknowledge_by < now,
                )
            ).all()
        return [r.id for r in rows if overdue(r.acknowledge_by, r.acknowledged_at, now)]

    def flag_overdue(self) -> int:
        """Flag each handover past its time and not acknowledged, once: an event for the
        site's supervisor. Run by the leader's scheduler; two leaders overlapping for a moment
        may both read a handover as unflagged: each marks it by a conditional update, and only
        the one that changed the row tells the supervisor."""
        now = self._clock.now()
        flagged = 0
        for handover_id in self._overdue(now):
            with self._sessions.begin() as session:
                won = session.execute(
                    update(HandoverRow)
                    .where(
                        HandoverRow.id == handover_id,
                        HandoverRow.acknowledged_at.is_(None),
                        HandoverRow.flagged_at.is_(None),
                    )
                    .values(flagged_at=now)
                    .execution_options(synchronize_session=False)
                )
                if getattr(won, "rowcount", 0) != 1:
                    continue  # flagged by another worker, or acknowledged meanwhile
                row = session.get(HandoverRow, handover_id)
                assert row is not None
                supervisors = self._people.supervisors(row.site)  # whom handover.flagged reaches
                post = session.get(PostRow, row.post_id) if row.post_id is not None else None
                self._events.record(
                    session,
                    FLAGGED,
                    now,
                    {
                        "handover_id": row.id,
                        "site": row.site,
                        "outgoing": row.outgoing,
                        "post_id": row.post_id,
                        "post": post.name if post else None,
                        "incoming_technician_id": row.incoming_technician_id,
                        "supervisor": ", ".join(p.name for p in supervisors)[:200] or None,
                        "acknowledge_by": rfc3339(row.acknowledge_by),
                    },
                    row.site,
                )
            flagged += 1
        if flagged:
            self._events.notify()
        return flagged
