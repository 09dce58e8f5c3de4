"""Residents' requests: taken from the public form or by the dispatcher, answered, tracked,
rated; the dispatcher's queue, follow-up calls and complaint reviews.

Requests are this service's aggregate; a work order for one is opened or joined only through
the work-order service's commands (``source: resident``), and the request's link to its new
order commits in the order's own transaction (:meth:`WorkOrderService.create`'s ``within``).
Every change records its event (``request.received``, ``request.feedback_low``, ...) in the
same transaction, for the live views and for notifications to route.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import Clock
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.kernel.photos import PhotoRefusedError, PhotoStore, accept_photo
from facility_dispatch.maintenance.errors import NotFoundError
from facility_dispatch.maintenance.orders import Actor
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.sql import WorkOrderRow
from facility_dispatch.maintenance.work_orders import WorkOrderService
from facility_dispatch.residents.book import RATED_AFTER, RequestBook, review_of, token_hash
from facility_dispatch.residents.limits import (
    READS_PER_ADDRESS,
    REPORTS_PER_ADDRESS,
    REPORTS_PER_PHONE,
    SqlRateLimiter,
    client_of,
    key_of,
)
from facility_dispatch.residents.model import (
    CATEGORIES,
    CHANNELS,
    LOW_RATING,
    MAX_BUILDING,
    MAX_COMMENT,
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    MAX_REASON,
    MAX_UNIT,
    Request,
    RequestConflictError,
    RequestRefusedError,
    Review,
    Tracking,
    bounded,
    form_of_address_zh,
    given_name,
    normalize_phone,
    phone_kept,
)
from facility_dispatch.residents.sql import PhoneRevealRow, RequestRow, ReviewRow

TITLE_WORDS = {
    "repair": "报修 repair",
    "complaint": "投诉 complaint",
    "suggestion": "建议 suggestion",
}
"""How an order opened from a request is titled by category; the console words it per language."""


@dataclass(frozen=True, slots=True)
class Submitted:
    request: Request
    token: str
    """Shown once, in the tracking link; the database keeps only its hash."""


class ResidentRequests(RequestBook):
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        work_orders: WorkOrderService,
        people: People,
        photos: PhotoStore,
        clock: Clock,
        retention: timedelta = timedelta(days=365),
    ) -> None:
        super().__init__(sessions, photos, clock)
        self._events = events
        self._work_orders = work_orders
        self._people = people
        self._retention = retention
        self._limiter = SqlRateLimiter(sessions)

    # -- the public side ----------------------------------------------------------------------

    def admit_address(self, address: str) -> int:
        """0 if this client address may send a request now, else the seconds to wait. Charged
        before the body is read, so a flood of bad requests is slowed as much as good ones."""
        return self._limiter.take(
            [(key_of("report-address", client_of(address)), REPORTS_PER_ADDRESS)], self._clock.now()
        )

    def admit_phone(self, phone: str) -> int:
        """0 if this phone may send a request now, else the seconds to wait."""
        try:
            normal = normalize_phone(phone)
        except RequestRefusedError:
            return 0  # refused with its reason by submit
        return self._limiter.take(
            [(key_of("report-phone", normal), REPORTS_PER_PHONE)], self._clock.now()
        )

    def admit_read(self, address: str) -> int:
        """Tracking pages and ratings: 0, or the seconds to wait."""
        return self._limiter.take(
            [(key_of("read-address", client_of(address)), READS_PER_ADDRESS)], self._clock.now()
        )

    def submit(
        self,
        site: str,
        category: str,
        building: str,
        unit: str,
        description: str,
        phone: str,
        photos: Sequence[bytes] = (),
        channel: str = "qr",
        created_by: str | None = None,
    ) -> Submitted:
        """A new request; RequestRefusedError names the field that is wrong."""
        known = self._people.site(site)
        if known is None:
            raise NotFoundError(f"no site {site}")
        if category not in CATEGORIES:
            raise RequestRefusedError("category", "unknown_category", choices=", ".join(CATEGORIES))
        if channel not in CHANNELS:
            raise RequestRefusedError("channel", "unknown_channel", choices=", ".join(CHANNELS))
        building = bounded("building", building, MAX_BUILDING, 1)
        if known.buildings and building not in known.buildings:
            raise RequestRefusedError("building", "unknown_building")
        unit = bounded("unit", unit, MAX_UNIT, 1)
        description = bounded("description", description, MAX_DESCRIPTION, 2)
        phone = normalize_phone(phone)
        if len(photos) > MAX_PHOTOS:
            raise RequestRefusedError("photos", "too_many_photos", n=MAX_PHOTOS)
        try:
            cleaned = [accept_photo(p) for p in photos]
        except PhotoRefusedError as error:
            raise RequestRefusedError("photos", error.code, **error.params) from None
        keys = [self._photos.save(p) for p in cleaned]
        token = secrets.token_urlsafe(24)  # 192 bits
        now = self._clock.now()
        try:
            with self._sessions.begin() as session:
                row = RequestRow(
                    site=site,
                    building=building,
                    unit=unit,
                    category=category,
                    description=description,
                    channel=channel,
                    phone=phone,
                    token_hash=token_hash(token),
                    decision="new",
                    created_at=now,
                    created_by=created_by,
                    photos=keys,
                )
                session.add(row)
                session.flush()
                self._record(session, "request.received", row, now, photos=len(keys))
                request = self._request(row, None)
        except BaseException:
            for key in keys:
                self._photos.delete(key)
            raise
        self._events.notify()
        return Submitted(request, token)

    def track(self, token: str) -> Tracking | None:
        """The resident's view of their request, or None for a token that is not one."""
        with self._sessions() as session:
            found = self._by_token(session, token)
            if found is None:
                return None
            row, order = found
            request = self._request(row, order)
        technician = technician_zh = done = None
        expected_by = None
        if row.work_order_id is not None:
            full = self._work_orders.get(row.work_order_id)
            if full is not None:
                if full.assignees:
                    person = self._people.technician(full.assignees[0])
                    if person is not None:
                        technician = given_name(person.name)
                        technician_zh = form_of_address_zh(person.name)
                resolved = [e for e in full.timeline if e.to == "resolved"]
                if resolved and full.status in RATED_AFTER:  # the action taken, else the note
                    done = str(resolved[-1].data.get("action") or "") or resolved[-1].note
                if full.status not in ("resolved", "closed", "cancelled"):
                    expected_by = full.resolve_by
        may_rate = request.feedback is None and order is not None and order.status in RATED_AFTER
        return Tracking(request, technician, technician_zh, done, expected_by, may_rate)

    def feedback(self, token: str, rating: int, comment: str = "") -> Request:
        """The resident's rating, once, after the work is done; 1-2 opens a complaint review."""
        with self._sessions.begin() as session:
            found = self._by_token(session, token, lock=True)
            if found is None:
                raise NotFoundError("no such request")
            row, order = found
            self._rate(session, row, order, rating, comment)
            request = self._request(row, order)
        self._events.notify()
        return request

    # -- the dispatcher's side ----------------------------------------------------------------

    def accept(
        self,
        request_id: int,
        actor: Actor,
        priority: str = "P3",
        skill: str = "general",
        work_order_id: int | None = None,
    ) -> Request:
        """Open a work order for the request (``source: resident``), or join it to an open one."""
        request = self._require(request_id)
        self._still_new(request)
        if work_order_id is not None:
            return self._join(request, actor, work_order_id)
        now = self._clock.now()

        def link(session: Session, order_id: int) -> None:
            self._decide(session, request, actor, now, decision="accepted", order=order_id)

        words = TITLE_WORDS.get(request.category, request.category)
        self._work_orders.create(
            actor,
            within=link,
            site=request.site,
            title=f"{words} {request.building}-{request.unit}: {request.description[:120]}",
            description=request.description,  # photos: the order page shows the request's
            priority=priority,
            skill=skill,
            source="resident",
            channel=request.channel,
            building=request.building,
            reporter=f"{request.building}-{request.unit} (request {request.id})",
        )
        self._events.notify()
        return self._require(request_id)

    def _join(self, request: Request, actor: Actor, work_order_id: int) -> Request:
        order = self._work_orders.get(work_order_id)
        if order is None:
            raise NotFoundError(f"no work order {work_order_id}")
        if order.site != request.site:
            raise RequestConflictError(
                "order_elsewhere", order=order.number, order_site=order.site, site=request.site
            )
        if order.status in ("closed", "cancelled"):
            raise RequestConflictError("order_finished", order=order.number, status=order.status)
        now = self._clock.now()

        def link(session: Session) -> None:
            self._decide(session, request, actor, now, decision="accepted", order=order.id)

        # one transaction: the note on the order and the request's answer, both or neither
        self._work_orders.note(
            order.id,
            actor,
            f"resident request {request.id} ({request.building}-{request.unit}) joined: "
            f"{request.description[:200]}",
            within=link,
        )
        self._events.notify()
        return self._require(request.id)

    def reject(self, request_id: int, actor: Actor, reason: str) -> Request:
        """Refused, with the reason the resident reads on their tracking page."""
        reason = bounded("reason", reason, MAX_REASON, 2)
        request = self._require(request_id)
        self._still_new(request)
        with self._sessions.begin() as session:
            self._decide(session, request, actor, self._clock.now(), "rejected", reason=reason)
        self._events.notify()
        return self._require(request_id)

    def record_follow_up(
        self,
        request_id: int,
        actor: Actor,
        note: str,
        rating: int | None = None,
        comment: str = "",
    ) -> Request:
        """The dispatcher called: what the resident said, and their rating if they gave one."""
        note = bounded("note", note, MAX_REASON, 2)
        now = self._clock.now()
        with self._sessions.begin() as session:
            found = session.execute(
                self._joined().where(RequestRow.id == request_id).with_for_update(of=RequestRow)
            ).first()
            if found is None:
                raise NotFoundError(f"no request {request_id}")
            row, order = found
            if order is None or order.status not in RATED_AFTER:
                raise RequestConflictError("work_not_done", id=request_id)
            row.followed_up_at = now
            row.follow_up_note = f"{actor.name}: {note}"
            if rating is not None:
                self._rate(session, row, order, rating, comment)
            self._record(session, "request.followed_up", row, now)
            request = self._request(row, order)
        self._events.notify()
        return request

    def reveal_phone(self, request_id: int, actor: Actor, role: str) -> str:
        """The resident's phone in full, for the dispatcher who calls them back (回访): lists
        show it masked to everyone but admins, so reading it is a deliberate act, and each one
        is recorded (who, in which role, when; never the number): in ``phone_reveals``, kept as
        long as the request, and as the event ``request.phone_revealed`` for the live views.
        A request past its retention holds no phone any more: NotFoundError, as once pruned."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = session.get(RequestRow, request_id)
            if row is None or not phone_kept(row.created_at, now, self._retention):
                raise NotFoundError(f"no request {request_id}")
            session.add(
                PhoneRevealRow(
                    request_id=row.id, site=row.site, actor=actor.name[:100], role=role, at=now
                )
            )
            self._record(session, "request.phone_revealed", row, now, actor=actor.name, role=role)
            phone = row.phone
        self._events.notify()
        return phone

    def close_review(self, review_id: int, actor: Actor, outcome: str) -> Review:
        """The supervisor checked on site and answered the resident: what was found and done."""
        outcome = bounded("outcome", outcome, MAX_DESCRIPTION, 2)
        now = self._clock.now()
        with self._sessions.begin() as session:
            review = session.get(ReviewRow, review_id, with_for_update=True)
            if review is None:
                raise NotFoundError(f"no complaint review {review_id}")
            if review.closed_at is not None:
                raise RequestConflictError("review_closed", id=review_id)
            review.closed_at, review.closed_by, review.outcome = now, actor.name, outcome
            request = session.get(RequestRow, review.request_id)
            assert request is not None
            self._record(session, "request.review_closed", request, now, review_id=review.id)
            closed = review_of(review, request)
        self._events.notify()
        return closed

    def prune(self) -> int:
        """Requests past the retention period go, with their photos, reviews and the record of
        whom their phone was shown to (kept until then, though the event log forgets sooner)."""
        now = self._clock.now()
        self._limiter.prune(now - timedelta(days=1))
        with self._sessions.begin() as session:
            old = list(
                session.scalars(
                    select(RequestRow).where(RequestRow.created_at < now - self._retention)
                )
            )
            ids = [r.id for r in old]
            if ids:
                session.execute(delete(ReviewRow).where(ReviewRow.request_id.in_(ids)))
                session.execute(delete(PhoneRevealRow).where(PhoneRevealRow.request_id.in_(ids)))
                session.execute(delete(RequestRow).where(RequestRow.id.in_(ids)))
            keys = [key for r in old for key in r.photos]
        for key in keys:
            self._photos.delete(key)
        return len(ids)

    # -- the record ---------------------------------------------------------------------------

    @staticmethod
    def _still_new(request: Request) -> None:
        if request.decision != "new":
            raise RequestConflictError("decided_already", id=request.id, status=request.status)

    def _decide(
        self,
        session: Session,
        request: Request,
        actor: Actor,
        now: datetime,
        decision: str,
        order: int | None = None,
        reason: str | None = None,
    ) -> None:
        """The dispatcher's answer, once: a second dispatcher deciding at the same moment finds
        the request decided and gets 409 (the update takes only a request still new)."""
        changed = session.execute(
            update(RequestRow)
            .where(and_(RequestRow.id == request.id, RequestRow.decision == "new"))
            .values(
                decision=decision,
                work_order_id=order,
                reject_reason=reason,
                decided_at=now,
                decided_by=actor.name,
            )
        )
        if getattr(changed, "rowcount", 0) != 1:
            raise RequestConflictError("answered_meanwhile", id=request.id)
        row = session.get(RequestRow, request.id, populate_existing=True)
        assert row is not None
        self._record(session, f"request.{decision}", row, now, work_order_id=order)

    def _rate(
        self,
        session: Session,
        row: RequestRow,
        order: WorkOrderRow | None,
        rating: int,
        comment: str,
    ) -> None:
        if type(rating) is not int or not 1 <= rating <= 5:
            raise RequestRefusedError("rating", "rating_range")
        comment = bounded("comment", comment, MAX_COMMENT)
        if order is None or order.status not in RATED_AFTER:
            raise RequestConflictError("rating_too_early")
        if row.rating is not None:
            raise RequestConflictError("rated_already")
        now = self._clock.now()
        row.rating, row.comment, row.feedback_at = rating, comment, now
        self._record(session, "request.feedback", row, now, rating=rating)
        if rating <= LOW_RATING:
            supervisor = self._review_supervisor(row.site)
            session.add(
                ReviewRow(request_id=row.id, site=row.site, supervisor=supervisor, opened_at=now)
            )
            self._record(
                session,
                "request.feedback_low",
                row,
                now,
                rating=rating,
                supervisor=supervisor,
                to="supervisor",
            )

    def _review_supervisor(self, site: str) -> str | None:
        """Whom a complaint review names: the site's supervisors on the roster
        (:func:`~facility_dispatch.maintenance.people.supervises`), the same people the
        ``request.feedback_low`` event reaches through a route ``to: [supervisor]``. Not the
        site record's ``supervisor`` text: a review naming someone the notification never told
        would wait on a person who does not know of it. With nobody on the roster the review
        names nobody (the console says so), and the notification has no one to reach either."""
        names = ", ".join(p.name for p in self._people.supervisors(site))
        return names[:200] or None

    def _record(
        self, session: Session, type_: str, row: RequestRow, at: datetime, **extra: Any
    ) -> None:
        """An event of the request, in the caller's transaction: who and what, never the phone
        nor the resident's words (the event stream is read by every viewer)."""
        self._events.record(
            session,
            type_,
            at,
            {
                "request_id": row.id,
                "site": row.site,
                "building": row.building,
                "category": row.category,
                "channel": row.channel,
                "decision": row.decision,
                "work_order_id": row.work_order_id,
                **extra,
            },
            row.site,
        )
