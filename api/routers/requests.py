"""Residents' requests as the dispatcher handles them (SPEC section 5, planner and up): the
queue, requests taken by phone or in person, accept (an order opened or joined) or reject,
follow-up calls, complaint reviews, the photos, and each site's QR code. The public side is
:mod:`facility_dispatch.api.routers.public_requests`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

import segno
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from facility_dispatch.api.auth import Principal, Role
from facility_dispatch.api.deps import Planner, ServiceDep, Technician, Viewer
from facility_dispatch.api.errors import actor_of, raise_for
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, RowId, page
from facility_dispatch.api.routers.public_requests import (
    Category,
    FeedbackOut,
    RequestIn,
    RequestStatus,
    feedback_out,
)
from facility_dispatch.api.types import Input, SitePath, SiteQuery
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.residents.model import (
    MAX_COMMENT,
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    MAX_REASON,
    Review,
    mask_phone,
)
from facility_dispatch.residents.model import (
    Request as ResidentRequest,
)

router = APIRouter(prefix="/api/v1", tags=["residents"])

StaffChannel = Literal["phone", "walk_in", "wechat"]


class StaffRequestIn(RequestIn):
    """A request taken by phone, in person or on WeChat."""

    channel: StaffChannel


class RequestOut(BaseModel):
    id: int
    site: str
    building: str
    unit: str
    category: str
    description: str
    channel: str
    phone: str = Field(description="masked (138****5678) for every role but admin")
    status: RequestStatus
    reject_reason: str | None
    work_order_id: int | None
    work_order_number: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    resolved_at: datetime | None
    photos: list[str] = Field(description="the photos' addresses (technician and up)")
    feedback: FeedbackOut | None
    followed_up_at: datetime | None
    follow_up_note: str | None


class TakenOut(RequestOut):
    tracking_url: str = Field(
        description="the resident's tracking and rating page (/r/t/{token}, on "
        "FACILITY_PUBLIC_URL when set); shown only now: send it to the resident by SMS"
    )


class AcceptIn(Input):
    priority: Literal["P1", "P2", "P3", "P4"] = "P3"
    skill: str = Field(default="general", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    work_order_id: RowId | None = Field(
        default=None, description="join this open order instead of opening one"
    )


class RejectIn(Input):
    reason: str = Field(min_length=2, max_length=MAX_REASON, description="the resident reads it")


class FollowUpIn(Input):
    note: str = Field(min_length=2, max_length=MAX_REASON, description="what the resident said")
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: str = Field(default="", max_length=MAX_COMMENT)


class PhoneOut(BaseModel):
    phone: str = Field(description="the resident's phone in full, to call them back")


class ReviewOut(BaseModel):
    id: int
    request_id: int
    site: str
    supervisor: str | None
    rating: int
    comment: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    outcome: str | None


class CloseReviewIn(Input):
    outcome: str = Field(min_length=2, max_length=MAX_DESCRIPTION)


def request_out(request: ResidentRequest, viewer: Principal) -> RequestOut:
    return RequestOut(
        id=request.id,
        site=request.site,
        building=request.building,
        unit=request.unit,
        category=request.category,
        description=request.description,
        channel=request.channel,
        phone=request.phone if viewer.role >= Role.ADMIN else mask_phone(request.phone),
        status=request.status,  # type: ignore[arg-type]
        reject_reason=request.reject_reason,
        work_order_id=request.work_order_id,
        work_order_number=request.work_order_number,
        created_at=request.created_at,
        decided_at=request.decided_at,
        decided_by=request.decided_by,
        resolved_at=request.resolved_at,
        photos=[f"/api/v1/requests/{request.id}/photos/{n}" for n in range(request.photos)],
        feedback=feedback_out(request),
        followed_up_at=request.followed_up_at,
        follow_up_note=request.follow_up_note,
    )


def review_out(review: Review) -> ReviewOut:
    return ReviewOut.model_validate(review, from_attributes=True)


# -- the dispatcher's side --------------------------------------------------------------------


@router.get("/requests", response_model=Page[RequestOut])
def list_requests(
    service: ServiceDep,
    who: Planner,
    site: SiteQuery = None,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
    category: Category | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[RequestOut]:
    """The dispatcher's queue: new requests first, then the newest."""
    found, total = service.residents.queue(site, status_, category, limit, offset)
    return page(
        [request_out(r, who) for r in found], total, offset, service.settings.max_page_bytes
    )


@router.post("/requests", response_model=TakenOut, status_code=status.HTTP_201_CREATED)
def take_request(
    body: StaffRequestIn, request: Request, service: ServiceDep, who: Planner
) -> TakenOut:
    """A request taken by phone, in person or on WeChat (no rate limit: staff enter it). The
    answer carries the resident's tracking link, once (only its hash is kept): the dispatcher
    sends it by SMS so the resident can follow and rate the work like a QR request."""
    try:
        submitted = service.residents.submit(
            body.site,
            body.category,
            body.building,
            body.unit,
            body.description,
            body.phone,
            channel=body.channel,
            created_by=who.name,
        )
    except MaintenanceError as error:
        raise_for(error)
    base = service.settings.public_url or str(request.base_url)
    return TakenOut(
        **request_out(submitted.request, who).model_dump(),
        tracking_url=base.rstrip("/") + f"/r/t/{submitted.token}",
    )


@router.get("/requests/follow-ups", response_model=Page[RequestOut])
def follow_ups(service: ServiceDep, who: Planner, site: SiteQuery = None) -> Page[RequestOut]:
    """Follow-up calls due (回访): resolved 3 days ago or more, no rating, nobody called."""
    due = service.residents.follow_ups(site)
    return page([request_out(r, who) for r in due], len(due), 0, service.settings.max_page_bytes)


@router.get("/requests/{request_id}", response_model=RequestOut)
def get_request(request_id: Id, service: ServiceDep, who: Planner) -> RequestOut:
    found = service.residents.get(request_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no request {request_id}")
    return request_out(found, who)


@router.post("/requests/{request_id}/accept", response_model=RequestOut)
def accept_request(request_id: Id, body: AcceptIn, service: ServiceDep, who: Planner) -> RequestOut:
    """Open a work order (``source: resident``) for it, or join it to an open order."""
    try:
        accepted = service.residents.accept(
            request_id, actor_of(who), body.priority, body.skill, body.work_order_id
        )
    except MaintenanceError as error:
        raise_for(error)
    return request_out(accepted, who)


@router.post("/requests/{request_id}/reject", response_model=RequestOut)
def reject_request(request_id: Id, body: RejectIn, service: ServiceDep, who: Planner) -> RequestOut:
    """Refused, with a reason the resident reads on their tracking page."""
    try:
        return request_out(service.residents.reject(request_id, actor_of(who), body.reason), who)
    except MaintenanceError as error:
        raise_for(error)


@router.post("/requests/{request_id}/follow-up", response_model=RequestOut)
def record_follow_up(
    request_id: Id, body: FollowUpIn, service: ServiceDep, who: Planner
) -> RequestOut:
    """The follow-up call made: what the resident said, and their rating if they gave one."""
    try:
        done = service.residents.record_follow_up(
            request_id, actor_of(who), body.note, body.rating, body.comment
        )
    except MaintenanceError as error:
        raise_for(error)
    return request_out(done, who)


@router.post(
    "/requests/{request_id}/phone",
    response_model=PhoneOut,
    responses={404: {"description": "no such request, or past its retention (no phone kept)"}},
)
def reveal_phone(request_id: Id, response: Response, service: ServiceDep, who: Planner) -> PhoneOut:
    """The resident's phone in full, for the dispatcher who calls them (回访): lists show it
    masked to every role but admin (SPEC section 5), so reading it is a deliberate act, a POST,
    recorded (who, in which role, when; never the number) as long as the request is kept, and
    as the event ``request.phone_revealed``; shown on the request's page.
    ``Cache-Control: no-store``: no cache keeps it."""
    try:
        phone = service.residents.reveal_phone(request_id, actor_of(who), who.role.name.lower())
    except MaintenanceError as error:
        raise_for(error)
    response.headers["Cache-Control"] = "no-store"
    return PhoneOut(phone=phone)


@router.get(
    "/requests/{request_id}/photos/{position}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the photo, as kept"}},
)
def request_photo(
    request_id: Id,
    position: Annotated[int, Path(ge=0, lt=MAX_PHOTOS)],
    service: ServiceDep,
    who: Technician,
) -> Response:
    """A photo of the request (re-encoded when it came, without its metadata): for planners
    and up, and for the technicians assigned to the request's order (a photo shows a
    resident's home; a technician of another estate has no business with it)."""
    if who.role < Role.PLANNER:
        request = service.residents.get(request_id)
        order = (
            service.work_orders.get(request.work_order_id)
            if request is not None and request.work_order_id is not None
            else None
        )
        if request is not None and (order is None or who.technician_id not in order.assignees):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"request {request_id}'s photos are for the technicians of its order and "
                "for planners",
            )
    try:
        photo = service.residents.photo(request_id, position)
    except MaintenanceError as error:
        raise_for(error)
    return Response(photo, media_type="image/jpeg", headers={"Cache-Control": "private"})


@router.get("/complaint-reviews", response_model=Page[ReviewOut])
def list_reviews(
    service: ServiceDep, _who: Planner, site: SiteQuery = None, open_only: bool = True
) -> Page[ReviewOut]:
    """Complaint reviews opened by ratings of 1 or 2, for the site's supervisor."""
    reviews = service.residents.reviews(site, open_only)
    return page([review_out(r) for r in reviews], len(reviews), 0, service.settings.max_page_bytes)


@router.post("/complaint-reviews/{review_id}/close", response_model=ReviewOut)
def close_review(
    review_id: Id, body: CloseReviewIn, service: ServiceDep, who: Planner
) -> ReviewOut:
    """Checked on site and answered: what was found and done."""
    try:
        return review_out(service.residents.close_review(review_id, actor_of(who), body.outcome))
    except MaintenanceError as error:
        raise_for(error)


@router.get(
    "/sites/{site}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the QR code"}},
)
def site_qr(site: SitePath, request: Request, service: ServiceDep, _who: Viewer) -> Response:
    """The QR code of the site's public request page, for the lobby notice boards."""
    if service.people.site(site) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site}")
    return Response(
        qr_svg(public_page(request, site, service.settings.public_url)),
        media_type="image/svg+xml",
    )


def public_page(
    request: Request, site: str, public_url: str | None, building: str | None = None
) -> str:
    """The address of a site's request page as residents reach it: ``FACILITY_PUBLIC_URL``
    when the operator gave one (the console is often reached at an inside address that a
    resident's phone cannot open), else the address the caller reached this server at. With
    a building, the form opens with it chosen (the QR code of that building's notice board)."""
    base = public_url or str(request.base_url)
    address = base.rstrip("/") + f"/r/{quote(site, safe='')}"
    return f"{address}?{urlencode({'building': building})}" if building else address


def qr_svg(url: str) -> str:
    buffer = segno.make(url, error="m", micro=False)
    return str(buffer.svg_inline(scale=8, border=4, omitsize=False))
