"""Patrol routes, their rounds and what the patrollers found, in the database.

When rounds are due, their order and what counts as missed are
:mod:`facility_dispatch.maintenance.rounds`' (pure). A failed check item opens a work order for
the checkpoint's place through the work-order service's ``create`` (source ``manual``, channel
``walk_round``): the visit is recorded first with its failed items, then each item's order
is opened with its link to the item in one transaction (``create``'s ``within``), and the sweep
opens any a crash left unopened: one order per failed item.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import Clock, rfc3339
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.kernel.photos import PhotoRefusedError, PhotoStore, accept_photo
from facility_dispatch.maintenance import rounds
from facility_dispatch.maintenance.errors import ConflictError, InvalidRequestError, NotFoundError
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.maintenance.patrol_values import (
    Checkpoint,
    Round,
    Route,
    Visit,
    checkpoint_of,
    visit_of,
)
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.roster_sql import CheckpointRow, RoundRow, RouteRow, VisitRow
from facility_dispatch.maintenance.work_orders import WorkOrderService

__all__ = ["Checkpoint", "Patrols", "Round", "Route", "Visit"]

log = logging.getLogger(__name__)
MISSED: Final = "round.missed"
EARLY: Final = timedelta(hours=1)
"""A scheduled round may be walked from an hour before its start time."""
PHOTOS_PER_ITEM: Final = 3
MAX_PHOTO_BYTES: Final = 1024 * 1024
"""The phone scales a photo down before sending it (the API's body limit is 1 MiB)."""


class _OpenedAlreadyError(Exception):
    """A finding's order was opened by another worker between the read and the write."""


class Patrols:
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        work_orders: WorkOrderService,
        people: People,
        clock: Clock,
        timezone: str,
        photos: PhotoStore | None = None,
    ) -> None:
        self._sessions = sessions
        self._photos = photos
        self._events = events
        self._work_orders = work_orders
        self._people = people
        self._clock = clock
        self._default_zone = timezone

    def zone(self, site: str) -> ZoneInfo:
        """The site's own zone, else the service's (``FACILITY_TIMEZONE``)."""
        return self._people.zone(site, self._default_zone)

    # -- routes ----------------------------------------------------------------------------

    def create_route(
        self,
        site: str,
        name: str,
        times: Sequence[str],
        window: timedelta,
        checkpoints: Sequence[dict[str, Any]],
        created_by: str,
        template: str | None = None,
    ) -> Route:
        try:
            parsed = rounds.parse_times(times)
        except rounds.RoundError as error:
            raise InvalidRequestError(str(error)) from None
        if not checkpoints:
            raise InvalidRequestError("a route needs at least one checkpoint")
        for number, checkpoint in enumerate(checkpoints, 1):
            keys = [i["key"] for i in checkpoint["items"]]
            if not keys or len(set(keys)) != len(keys):
                raise InvalidRequestError(
                    f"checkpoint {number}: items need keys, each once, and at least one item"
                )
        with self._sessions.begin() as session:
            row = RouteRow(
                site=site,
                name=name,
                template=template,
                times=[t.strftime("%H:%M") for t in parsed],
                window_s=window.total_seconds(),
                active=True,
                created_at=self._clock.now(),
                created_by=created_by,
            )
            session.add(row)
            session.flush()
            for position, checkpoint in enumerate(checkpoints):
                session.add(
                    CheckpointRow(
                        route_id=row.id,
                        position=position,
                        name=checkpoint["name"],
                        building=checkpoint.get("building"),
                        asset=checkpoint.get("asset"),
                        skill=checkpoint.get("skill") or "general",
                        token=secrets.token_urlsafe(12),
                        items=[{"key": i["key"], "text": i["text"]} for i in checkpoint["items"]],
                    )
                )
            route_id = row.id
        route = self.route(route_id)
        assert route is not None
        return route

    def from_template(
        self, site: str, name: str, lang: rounds.Lang, created_by: str, building: str | None
    ) -> Route:
        """A built-in route (the daily fire patrol, the plant room round) at a site."""
        try:
            found = rounds.template(name, lang)
        except rounds.RoundError as error:
            raise NotFoundError(str(error)) from None
        window = timedelta(hours=float(found["window"].rstrip("h")))
        checkpoints = [{**c, "building": building} for c in found["checkpoints"]]
        return self.create_route(
            site, found["title"], found["times"], window, checkpoints, created_by, name
        )

    def _route(self, session: Session, row: RouteRow) -> Route:
        points = session.scalars(
            select(CheckpointRow)
            .where(CheckpointRow.route_id == row.id)
            .order_by(CheckpointRow.position)
        )
        return Route(
            row.id,
            row.site,
            row.name,
            row.template,
            tuple(row.times),
            timedelta(seconds=row.window_s),
            row.active,
            tuple(checkpoint_of(c) for c in points),
        )

    def route(self, route_id: int) -> Route | None:
        with self._sessions() as session:
            row = session.get(RouteRow, route_id)
            return self._route(session, row) if row else None

    def routes(self, site: str | None = None) -> list[Route]:
        with self._sessions() as session:
            stmt = select(RouteRow).where(RouteRow.active.is_(True))
            if site:
                stmt = stmt.where(RouteRow.site == site)
            rows = session.scalars(stmt.order_by(RouteRow.site, RouteRow.id)).all()
            return [self._route(session, r) for r in rows]

    def deactivate(self, route_id: int) -> None:
        with self._sessions.begin() as session:
            row = session.get(RouteRow, route_id)
            if row is None:
                raise NotFoundError(f"no route {route_id}")
            row.active = False

    # -- rounds ----------------------------------------------------------------------------

    def _round(self, session: Session, row: RoundRow) -> Round:
        visits = session.scalars(
            select(VisitRow).where(VisitRow.round_id == row.id).order_by(VisitRow.id)
        )
        return Round(
            row.id,
            row.route_id,
            row.key,
            row.starts_at,
            row.due_by,
            row.started_at,
            row.started_by,
            row.finished_at,
            row.missed_at,
            row.findings,
            tuple(visit_of(v) for v in visits),
        )

    def round(self, round_id: int) -> Round | None:
        with self._sessions() as session:
            row = session.get(RoundRow, round_id)
            return self._round(session, row) if row else None

    def rounds(
        self,
        site: str | None = None,
        route_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[Round]:
        with self._sessions() as session:
            stmt = select(RoundRow).join(RouteRow, RouteRow.id == RoundRow.route_id)
            if site:
                stmt = stmt.where(RouteRow.site == site)
            if route_id is not None:
                stmt = stmt.where(RoundRow.route_id == route_id)
            if since is not None:
                stmt = stmt.where(RoundRow.due_by >= since)
            if until is not None:
                stmt = stmt.where(RoundRow.starts_at <= until)
            rows = session.scalars(stmt.order_by(RoundRow.starts_at, RoundRow.id).limit(limit))
            return [self._round(session, r) for r in rows.all()]

    def start(self, route_id: int, actor: Actor) -> Round:
        """An unscheduled round of a route, now (a patrol after an incident, say)."""
        route = self.route(route_id)
        if route is None or not route.active:
            raise NotFoundError(f"no route {route_id}")
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = RoundRow(
                route_id=route_id,
                key=f"extra-{rfc3339(now)}",
                starts_at=now,
                due_by=now + route.window,
                started_at=now,
                started_by=actor.name,
                findings=0,
            )
            session.add(row)
            session.flush()
            return self._round(session, row)

    def schedule(self) -> int:
        """Record the rounds of every active route starting within :data:`rounds.LEAD`
        (and those of the past day a stopped service did not record). Once each: the key."""
        now = self._clock.now()
        made = 0
        for route in self.routes():
            if not route.times:
                continue  # walked on demand only
            with self._sessions() as session:
                created = session.get(RouteRow, route.id)
                since = max(now - timedelta(days=1), created.created_at if created else now)
                known = set(
                    session.scalars(
                        select(RoundRow.key).where(
                            RoundRow.route_id == route.id, RoundRow.starts_at >= since
                        )
                    )
                )
            due = rounds.due_rounds(
                rounds.parse_times(route.times),
                route.window,
                self.zone(route.site),
                since - timedelta(microseconds=1),
                now + rounds.LEAD,
            )
            for entry in (d for d in due if d.key not in known):
                try:
                    with self._sessions.begin() as session:
                        session.add(
                            RoundRow(
                                route_id=route.id,
                                key=entry.key,
                                starts_at=entry.starts_at,
                                due_by=entry.due_by,
                                findings=0,
                            )
                        )
                    made += 1
                except IntegrityError:
                    pass  # recorded already (by an earlier sweep, or another worker)
        return made

    def open_round_for(self, route_id: int) -> Round | None:
        """The round a scan of this route's checkpoint goes to: one being walked, else the
        earliest due one that has started (or starts within the hour) and is not missed."""
        now = self._clock.now()
        candidates = [
            r
            for r in self.rounds(
                route_id=route_id, since=now - timedelta(days=1), until=now + EARLY
            )
            if r.finished_at is None
        ]
        walking = [r for r in candidates if r.visits]
        if walking:
            return walking[0]
        due = [r for r in candidates if r.missed_at is None and r.due_by >= now]
        return due[0] if due else None

    def checkpoint_by_token(self, token: str) -> tuple[Route, Checkpoint] | None:
        with self._sessions() as session:
            row = session.scalars(select(CheckpointRow).where(CheckpointRow.token == token)).first()
            if row is None:
                return None
            route_id = row.route_id
        route = self.route(route_id)
        if route is None:
            return None
        checkpoint = next(c for c in route.checkpoints if c.token == token)
        return route, checkpoint

    def visit(
        self, round_id: int, token: str, results: Sequence[dict[str, Any]], actor: Actor
    ) -> Round:
        """Record a checkpoint's scan and its items' results; a failed item opens an order."""
        found = self.checkpoint_by_token(token)
        if found is None:
            raise NotFoundError("no checkpoint has that code")
        route, checkpoint = found
        answers = {r["key"]: bool(r["ok"]) for r in results}
        if len(answers) != len(results):
            raise InvalidRequestError("an item is given twice")
        now = self._clock.now()
        order = [c.id for c in route.checkpoints]
        texts = {i["key"]: i["text"] for i in checkpoint.items}
        with self._sessions.begin() as session:
            row = session.get(RoundRow, round_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no round {round_id}")
            if row.route_id != route.id:
                raise ConflictError(f"that checkpoint is not on round {round_id}'s route")
            if row.finished_at is not None:
                raise ConflictError(f"round {round_id} is finished")
            current = self._round(session, row)
            try:
                rounds.check_scan(order, current.visited, checkpoint.id)
            except rounds.OutOfOrderError as error:
                expected = next((c for c in route.checkpoints if c.id == error.expected), None)
                named = f" ({expected.name})" if expected else ""
                raise ConflictError(f"{error}{named}") from None
            try:
                rounds.check_results([i["key"] for i in checkpoint.items], answers)
            except rounds.RoundError as error:
                raise InvalidRequestError(str(error)) from None
            stored = [
                {
                    "key": r["key"],
                    "text": texts[r["key"]],
                    "ok": bool(r["ok"]),
                    "note": r.get("note") or "",
                    "work_order_id": None,
                }
                for r in results
            ]
            session.add(
                VisitRow(
                    round_id=row.id,
                    checkpoint_id=checkpoint.id,
                    at=now,
                    by=actor.name,
                    results=stored,
                )
            )
            if row.started_at is None:
                row.started_at, row.started_by = now, actor.name
            row.findings += sum(1 for r in stored if not r["ok"])
            if len(current.visited) + 1 == len(order):
                row.finished_at = now
        self._open_findings(round_id, actor)
        done = self.round(round_id)
        assert done is not None
        return done

    def _open_findings(self, round_id: int, actor: Actor) -> int:
        """Open an order for each failed item of the round that has none yet."""
        opened = 0
        with self._sessions() as session:
            row = session.get(RoundRow, round_id)
            if row is None:
                return 0
            route_row = session.get(RouteRow, row.route_id)
            assert route_row is not None
            route = self._route(session, route_row)
            visits = session.scalars(select(VisitRow).where(VisitRow.round_id == round_id)).all()
            pending = [
                (v.id, v.checkpoint_id, index, result)
                for v in visits
                for index, result in enumerate(v.results or ())
                if not result["ok"] and result.get("work_order_id") is None
            ]
        points = {c.id: c for c in route.checkpoints}
        for visit_id, checkpoint_id, index, result in pending:
            point = points[checkpoint_id]

            def link(
                session: Session, order_id: int, visit_id: int = visit_id, index: int = index
            ) -> None:
                visit = session.get(VisitRow, visit_id, with_for_update=True)
                assert visit is not None
                results = [dict(r) for r in visit.results]
                if results[index].get("work_order_id") is not None:
                    raise _OpenedAlreadyError  # another worker won: this order is rolled back
                results[index]["work_order_id"] = order_id
                visit.results = results

            try:
                self._work_orders.create(
                    actor,
                    within=link,
                    site=route.site,
                    title=f"{point.name}: {result['text']}"[:300],
                    description=(f"{route.name}, round {round_id}. {result.get('note') or ''}")[
                        :5000
                    ],
                    priority="P3",
                    skill=point.skill,
                    source="manual",
                    channel="walk_round",
                    reporter=actor.name,
                    asset=point.asset,
                    building=point.building,
                )
            except _OpenedAlreadyError:
                continue
            opened += 1
        return opened

    def add_photo(
        self, round_id: int, checkpoint_id: int, item: str, data: bytes, actor: Actor
    ) -> str:
        """A photo of an item recorded on the round (what was found, or that it was fine):
        checked and re-encoded by :func:`accept_photo`, kept, and named on the item's result."""
        if self._photos is None:
            raise ConflictError("photos are not kept by this service")
        try:
            photo = accept_photo(data, max_bytes=MAX_PHOTO_BYTES)
        except PhotoRefusedError as error:
            raise InvalidRequestError(str(error)) from None
        with self._sessions.begin() as session:
            visit = session.scalars(
                select(VisitRow)
                .where(VisitRow.round_id == round_id, VisitRow.checkpoint_id == checkpoint_id)
                .with_for_update()
            ).first()
            if visit is None:
                raise NotFoundError(
                    f"checkpoint {checkpoint_id} is not recorded on round {round_id}"
                )
            results = [dict(r) for r in visit.results]
            index = next((n for n, r in enumerate(results) if r["key"] == item), None)
            if index is None:
                raise NotFoundError(f"no item {item!r} at checkpoint {checkpoint_id}")
            kept = list(results[index].get("photos") or [])
            if len(kept) >= PHOTOS_PER_ITEM:
                raise ConflictError(f"item {item!r} has {PHOTOS_PER_ITEM} photos already")
            key = self._photos.save(photo)
            results[index]["photos"] = [*kept, key]
            visit.results = results
        log.info("photo %s of round %s by %s", key, round_id, actor.name)
        return key

    def photo(self, round_id: int, key: str) -> bytes:
        """A photo named on one of the round's results."""
        found = self.round(round_id)
        if found is None or self._photos is None:
            raise NotFoundError(f"no round {round_id}")
        named = {k for v in found.visits for r in v.results for k in r.get("photos") or ()}
        if key not in named:
            raise NotFoundError(f"no photo {key} on round {round_id}")
        try:
            return self._photos.open(key)
        except KeyError:
            raise NotFoundError(f"no photo {key} on round {round_id}") from None

    def _missed(self, now: datetime) -> list[int]:
        """The rounds past their deadline and neither finished nor flagged (a plain read)."""
        with self._sessions() as session:
            rows = session.execute(
                select(RoundRow.id, RoundRow.due_by, RoundRow.finished_at).where(
                    RoundRow.finished_at.is_(None),
                    RoundRow.missed_at.is_(None),
                    RoundRow.due_by < now,
                )
            ).all()
        return [r.id for r in rows if rounds.missed(r.due_by, r.finished_at, now)]

    def flag_missed(self) -> int:
        """Flag each round past its deadline and not finished, once (``round.missed``). Two
        leaders overlapping for a moment may both read a round as unflagged: each marks it by a
        conditional update, and only the one that changed the row tells it."""
        now = self._clock.now()
        flagged = 0
        for round_id in self._missed(now):
            with self._sessions.begin() as session:
                won = session.execute(
                    update(RoundRow)
                    .where(
                        RoundRow.id == round_id,
                        RoundRow.missed_at.is_(None),
                        RoundRow.finished_at.is_(None),
                    )
                    .values(missed_at=now)
                    .execution_options(synchronize_session=False)
                )
                if getattr(won, "rowcount", 0) != 1:
                    continue  # flagged by another worker, or finished meanwhile
                row = session.get(RoundRow, round_id)
                assert row is not None
                route = session.get(RouteRow, row.route_id)
                assert route is not None
                self._events.record(
                    session,
                    MISSED,
                    now,
                    {
                        "round_id": row.id,
                        "route_id": route.id,
                        "route": route.name,
                        "site": route.site,
                        "due_by": rfc3339(row.due_by),
                    },
                    route.site,
                )
            flagged += 1
        if flagged:
            self._events.notify()
        return flagged

    def sweep(self) -> int:
        """The leader's round job: record upcoming rounds, flag missed ones, and open orders
        for findings a crash left without one."""
        self.schedule()
        flagged = self.flag_missed()
        with self._sessions() as session:
            recent = session.scalars(
                select(VisitRow.round_id)
                .where(VisitRow.at >= self._clock.now() - timedelta(days=2))
                .distinct()
            ).all()
        for round_id in recent:
            try:
                self._open_findings(round_id, Actor("patrol"))
            except Exception:
                log.exception(
                    "opening the orders of round %s failed; the next sweep retries", round_id
                )
        return flagged
