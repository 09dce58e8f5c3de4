"""Residents' requests as the dispatcher reads them: the queue, one request, follow-up calls
due, complaint reviews, photos and KPIs. The service that writes them
(:class:`facility_dispatch.residents.requests.ResidentRequests`) is one (it inherits this)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import Clock
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import Event, EventRow
from facility_dispatch.kernel.photos import PhotoStore
from facility_dispatch.maintenance.errors import NotFoundError
from facility_dispatch.maintenance.sql import WorkOrderRow
from facility_dispatch.residents import kpis
from facility_dispatch.residents.model import (
    FOLLOW_UP_AFTER,
    REPEAT_WITHIN,
    Feedback,
    PhoneReveal,
    Request,
    Review,
    order_statuses,
    shown_status,
)
from facility_dispatch.residents.sql import PhoneRevealRow, RequestRow, ReviewRow

RATED_AFTER: Final = ("resolved", "closed")
"""SPEC section 5: feedback once the order is resolved or closed (a cancelled one is not)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RequestBook:
    """Reads requests with their orders' state; never changes one."""

    def __init__(self, sessions: Sessions, photos: PhotoStore, clock: Clock) -> None:
        self._sessions = sessions
        self._photos = photos
        self._clock = clock

    def get(self, request_id: int) -> Request | None:
        with self._sessions() as session:
            found = session.execute(self._joined().where(RequestRow.id == request_id)).first()
            return self._request(found[0], found[1]) if found else None

    def for_order(self, work_order_id: int) -> list[Request]:
        """The residents' requests an order answers (one opened it, others may have joined)."""
        stmt = self._joined().where(RequestRow.work_order_id == work_order_id)
        with self._sessions() as session:
            rows = session.execute(stmt.order_by(RequestRow.id)).all()
            return [self._request(row, order) for row, order in rows]

    def history(self, request_id: int) -> list[Event]:
        """What happened to a request, oldest first: its events while the event log keeps them
        (``FACILITY_EVENTS_RETENTION_DAYS``). Not the ``request.phone_revealed`` ones: those are
        read from their own table, kept as long as the request (:meth:`reveals`)."""
        with self._sessions() as session:
            site = session.scalar(select(RequestRow.site).where(RequestRow.id == request_id))
            if site is None:
                return []
            rows = session.scalars(
                select(EventRow)
                .where(
                    EventRow.site == site,
                    EventRow.type.startswith("request."),
                    EventRow.type != "request.phone_revealed",
                    EventRow.payload["request_id"].as_integer() == request_id,
                )
                .order_by(EventRow.id)
            )
            return [Event(r.id, r.at, r.type, r.site, dict(r.payload)) for r in rows]

    def reveals(self, request_id: int) -> list[PhoneReveal]:
        """Each time the request's phone was shown in full, oldest first, for as long as the
        request is kept."""
        with self._sessions() as session:
            rows = session.scalars(
                select(PhoneRevealRow)
                .where(PhoneRevealRow.request_id == request_id)
                .order_by(PhoneRevealRow.id)
            )
            return [PhoneReveal(r.at, r.actor, r.role) for r in rows]

    def queue(
        self,
        site: str | None = None,
        status: str | None = None,
        category: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[Request], int]:
        """New requests first, then the newest."""
        stmt = self._joined()
        if site:
            stmt = stmt.where(RequestRow.site == site)
        if category:
            stmt = stmt.where(RequestRow.category == category)
        if status:
            decision, order_status = order_statuses(status)
            stmt = stmt.where(RequestRow.decision == decision)
            if order_status is not None:
                stmt = stmt.where(WorkOrderRow.status.in_(order_status))
        with self._sessions() as session:
            total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
            rows = session.execute(
                stmt.order_by(
                    case((RequestRow.decision == "new", 0), else_=1),
                    RequestRow.created_at.desc(),
                    RequestRow.id.desc(),
                )
                .limit(limit)
                .offset(offset)
            ).all()
            return [self._request(r, o) for r, o in rows], total

    def follow_ups(self, site: str | None = None) -> list[Request]:
        """Resolved three days ago or more, not rated, not yet called (回访): oldest first."""
        due_before = self._clock.now() - FOLLOW_UP_AFTER
        stmt = self._joined().where(
            RequestRow.rating.is_(None),
            RequestRow.followed_up_at.is_(None),
            WorkOrderRow.status.in_(RATED_AFTER),
            WorkOrderRow.resolved_at <= due_before,
        )
        if site:
            stmt = stmt.where(RequestRow.site == site)
        with self._sessions() as session:
            rows = session.execute(stmt.order_by(WorkOrderRow.resolved_at)).all()
            return [self._request(r, o) for r, o in rows]

    def reviews(self, site: str | None = None, open_only: bool = True) -> list[Review]:
        stmt = select(ReviewRow, RequestRow).join(RequestRow, RequestRow.id == ReviewRow.request_id)
        if site:
            stmt = stmt.where(ReviewRow.site == site)
        if open_only:
            stmt = stmt.where(ReviewRow.closed_at.is_(None))
        with self._sessions() as session:
            rows = session.execute(stmt.order_by(ReviewRow.opened_at.desc()).limit(500)).all()
            return [review_of(review, request) for review, request in rows]

    def photo(self, request_id: int, position: int) -> bytes:
        request = self._row(request_id)
        if not 0 <= position < len(request.photos):
            raise NotFoundError(f"request {request_id} has no photo {position}")
        try:
            return self._photos.open(request.photos[position])
        except KeyError:
            raise NotFoundError(f"request {request_id}'s photo {position} is gone") from None

    def kpis(self, site: str | None, start: datetime, end: datetime) -> dict[str, Any]:
        """SPEC section 5's KPIs of the requests made in [start, end]."""
        stmt = (
            select(RequestRow, WorkOrderRow.resolved_at)
            .outerjoin(WorkOrderRow, WorkOrderRow.id == RequestRow.work_order_id)
            .where(RequestRow.created_at >= start - REPEAT_WITHIN, RequestRow.created_at <= end)
        )
        if site:
            stmt = stmt.where(RequestRow.site == site)
        with self._sessions() as session:
            facts = [
                kpis.RequestFacts(
                    r.site,
                    r.building,
                    r.unit,
                    r.category,
                    r.created_at,
                    r.decided_at,
                    resolved_at,
                    r.rating,
                )
                for r, resolved_at in session.execute(stmt)
            ]
        return kpis.compute(facts, start, end)

    @staticmethod
    def _joined() -> Select[RequestRow, WorkOrderRow]:
        return select(RequestRow, WorkOrderRow).outerjoin(
            WorkOrderRow, WorkOrderRow.id == RequestRow.work_order_id
        )

    def _by_token(
        self, session: Session, token: str, lock: bool = False
    ) -> tuple[RequestRow, WorkOrderRow | None] | None:
        if not token or len(token) > 100:
            return None
        stmt = self._joined().where(RequestRow.token_hash == token_hash(token))
        if lock:
            stmt = stmt.with_for_update(of=RequestRow)
        found = session.execute(stmt).first()
        return (found[0], found[1]) if found else None

    def _row(self, request_id: int) -> RequestRow:
        with self._sessions() as session:
            row = session.get(RequestRow, request_id)
            if row is None:
                raise NotFoundError(f"no request {request_id}")
            session.expunge(row)
            return row

    def _require(self, request_id: int) -> Request:
        request = self.get(request_id)
        if request is None:
            raise NotFoundError(f"no request {request_id}")
        return request

    @staticmethod
    def _request(row: RequestRow, order: WorkOrderRow | None) -> Request:
        feedback = (
            Feedback(row.rating, row.comment or "", row.feedback_at)
            if row.rating is not None and row.feedback_at is not None
            else None
        )
        return Request(
            id=row.id,
            site=row.site,
            building=row.building,
            unit=row.unit,
            category=row.category,
            description=row.description,
            channel=row.channel,
            phone=row.phone,
            decision=row.decision,
            status=shown_status(row.decision, order.status if order else None),
            reject_reason=row.reject_reason,
            work_order_id=row.work_order_id,
            work_order_number=order.number if order else None,
            created_at=row.created_at,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
            resolved_at=order.resolved_at if order else None,
            photos=len(row.photos or ()),
            feedback=feedback,
            followed_up_at=row.followed_up_at,
            follow_up_note=row.follow_up_note,
        )


def review_of(review: ReviewRow, request: RequestRow) -> Review:
    return Review(
        id=review.id,
        request_id=review.request_id,
        site=review.site,
        supervisor=review.supervisor,
        rating=request.rating or 0,
        comment=request.comment or "",
        opened_at=review.opened_at,
        closed_at=review.closed_at,
        closed_by=review.closed_by,
        outcome=review.outcome,
    )
