"""Residents' requests (SPEC section 5): the public endpoints a QR code leads to, and the
dispatcher's queue, answers, follow-up calls and complaint reviews.

The public endpoints need no token and are the service's first attack surface: each is rate
limited per client address (and a new request per phone too: 429 with ``Retry-After``), bodies
are bounded (photos by content, see :mod:`facility_dispatch.kernel.photos`), and nothing public
lists requests: a request is reached only by its unguessable tracking token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal

import orjson
import segno
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from facility_dispatch.api.auth import Principal, Role
from facility_dispatch.api.backend import Backend
from facility_dispatch.api.deps import Planner, ServiceDep, Technician, Viewer
from facility_dispatch.api.errors import actor_of, raise_for
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, RowId, page
from facility_dispatch.api.types import Input, SiteName, SitePath, SiteQuery
from facility_dispatch.kernel.photos import MAX_PHOTO_BYTES
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.residents.model import (
    MAX_BUILDING,
    MAX_COMMENT,
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    MAX_REASON,
    MAX_UNIT,
    Review,
    Tracking,
    mask_phone,
)
from facility_dispatch.residents.model import (
    Request as ResidentRequest,
)

router = APIRouter(prefix="/api/v1", tags=["residents"])

Category = Literal["repair", "complaint", "suggestion", "praise"]
StaffChannel = Literal["phone", "walk_in", "wechat"]
RequestStatus = Literal["new", "accepted", "rejected", "in_progress", "done", "closed"]
PHONE_PATTERN: Final = r"^\+?[0-9][0-9 \-]{5,22}$"
TokenPath = Annotated[
    str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="tracking")
]
UPLOAD_BYTES: Final = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024
"""The largest body of a new request: three photos of 5 MB and the form around them."""


class RequestIn(Input):
    site: SiteName
    category: Category
    building: str = Field(min_length=1, max_length=MAX_BUILDING, examples=["3"])
    unit: str = Field(min_length=1, max_length=MAX_UNIT, examples=["1202"])
    description: str = Field(min_length=2, max_length=MAX_DESCRIPTION)
    phone: str = Field(pattern=PHONE_PATTERN, examples=["138 0000 5678"])


class StaffRequestIn(RequestIn):
    """A request taken by phone, in person or on WeChat."""

    channel: StaffChannel


class Submitted(BaseModel):
    id: int
    tracking_url: str = Field(description="/r/t/{token}: the resident's page; shown only now")


class FeedbackIn(Input):
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=MAX_COMMENT)


class FeedbackOut(BaseModel):
    rating: int
    comment: str
    at: datetime


class TrackingOut(BaseModel):
    """What the resident sees: no phone, the technician's given name only."""

    site: str
    building: str
    unit: str
    category: str
    description: str
    status: RequestStatus
    reject_reason: str | None
    technician: str | None
    done: str | None = Field(description="what was done, once resolved")
    expected_by: datetime | None
    created_at: datetime
    photos: int
    feedback: FeedbackOut | None
    may_rate: bool


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


def too_many(wait: int) -> None:
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many requests from here: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def client_address(request: Request) -> str:
    """The peer's address (uvicorn's ``--proxy-headers`` puts the forwarded one here when the
    proxy is trusted; a header the client wrote itself is never taken)."""
    return request.client.host if request.client else "unknown"


def feedback_out(request: ResidentRequest) -> FeedbackOut | None:
    given = request.feedback
    return FeedbackOut(rating=given.rating, comment=given.comment, at=given.at) if given else None


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


def tracking_out(tracking: Tracking) -> TrackingOut:
    request = tracking.request
    return TrackingOut(
        site=request.site,
        building=request.building,
        unit=request.unit,
        category=request.category,
        description=request.description,
        status=request.status,  # type: ignore[arg-type]
        reject_reason=request.reject_reason,
        technician=tracking.technician,
        done=tracking.done,
        expected_by=tracking.expected_by,
        created_at=request.created_at,
        photos=request.photos,
        feedback=feedback_out(request),
        may_rate=tracking.may_rate,
    )


def review_out(review: Review) -> ReviewOut:
    return ReviewOut.model_validate(review, from_attributes=True)


# -- the public side --------------------------------------------------------------------------


def multipart_schema() -> dict[str, Any]:
    """The form's fields as the JSON body has them (the same constraints), and the photos."""
    fields = RequestIn.model_json_schema()
    return {
        "type": "object",
        "properties": {
            **fields["properties"],
            "photos": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "maxItems": MAX_PHOTOS,
                "description": f"JPEG or PNG, at most {MAX_PHOTOS} of 5 MB each",
            },
        },
        "required": fields["required"],
    }


async def read_submission(request: Request) -> tuple[RequestIn, list[bytes]]:
    """The form as JSON, or as multipart with photos (each read no further than its limit)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    photos: list[bytes] = []
    try:
        if kind == "multipart/form-data":
            form = await request.form(max_files=MAX_PHOTOS, max_fields=20)
            fields: dict[str, Any] = {}
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if name == "photos" and (value.filename or value.size):
                        photos.append(await value.read(MAX_PHOTO_BYTES + 1))
                elif name in RequestIn.model_fields:
                    fields[name] = value
            body = RequestIn.model_validate(fields)
        else:
            try:
                raw = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                raise HTTPException(400, "the body is not JSON") from None
            body = RequestIn.model_validate(raw)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        ) from None
    except HTTPException:
        raise
    except Exception as error:  # a malformed multipart body, or more files than allowed
        if type(error).__name__ == "BodyTooLargeError":
            raise
        raise HTTPException(400, f"the form could not be read: {str(error)[:200]}") from None
    return body, photos


@router.post(
    "/public/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=Submitted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/RequestIn"}},
                "multipart/form-data": {"schema": multipart_schema()},
            },
        }
    },
)
async def submit_request(request: Request, service: ServiceDep) -> Submitted:
    """A resident's request, no token needed: JSON, or multipart with up to three photos.
    Rate limited per client address and per phone (429 with Retry-After)."""
    too_many(await run_in_threadpool(service.residents.admit_address, client_address(request)))
    body, photos = await read_submission(request)
    too_many(await run_in_threadpool(service.residents.admit_phone, body.phone))
    try:
        submitted = await run_in_threadpool(
            lambda: service.residents.submit(
                body.site,
                body.category,
                body.building,
                body.unit,
                body.description,
                body.phone,
                photos,
            )
        )
    except MaintenanceError as error:
        raise_for(error)
    return Submitted(id=submitted.request.id, tracking_url=f"/r/t/{submitted.token}")


def tracked(service: Backend, request: Request, token: str) -> Tracking:
    too_many(service.residents.admit_read(client_address(request)))
    tracking = service.residents.track(token)
    if tracking is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such request")
    return tracking


@router.get("/public/requests/{token}", response_model=TrackingOut)
def track_request(token: TokenPath, request: Request, service: ServiceDep) -> TrackingOut:
    """The resident's view of their request, by its tracking token."""
    return tracking_out(tracked(service, request, token))


@router.post("/public/requests/{token}/feedback", response_model=TrackingOut)
def give_feedback(
    token: TokenPath, body: FeedbackIn, request: Request, service: ServiceDep
) -> TrackingOut:
    """A rating of 1 to 5 with a comment, once the work is resolved (409 before, 409 again)."""
    tracked(service, request, token)
    try:
        service.residents.feedback(token, body.rating, body.comment)
    except MaintenanceError as error:
        raise_for(error)
    return tracking_out(tracked(service, request, token))


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


@router.post("/requests", response_model=RequestOut, status_code=status.HTTP_201_CREATED)
def take_request(body: StaffRequestIn, service: ServiceDep, who: Planner) -> RequestOut:
    """A request taken by phone, in person or on WeChat (no rate limit: staff enter it)."""
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
    return request_out(submitted.request, who)


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


@router.get(
    "/requests/{request_id}/photos/{position}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the photo, as kept"}},
)
def request_photo(
    request_id: Id,
    position: Annotated[int, Path(ge=0, lt=MAX_PHOTOS)],
    service: ServiceDep,
    _who: Technician,
) -> Response:
    """A photo of the request (re-encoded when it came, without its metadata)."""
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
    return Response(qr_svg(public_page(request, site)), media_type="image/svg+xml")


def public_page(request: Request, site: str) -> str:
    """The address of a site's request page as the caller reached this server."""
    return str(request.base_url).rstrip("/") + f"/r/{site}"


def qr_svg(url: str) -> str:
    buffer = segno.make(url, error="m", micro=False)
    return str(buffer.svg_inline(scale=8, border=2, omitsize=False))


def upload_limit(path: str) -> int | None:
    """The body limit of a new request with photos (the rest keep the service's limit)."""
    if path == "/api/v1/public/requests" or (
        path.startswith("/r/") and path.count("/") == 2 and not path.startswith("/r/t/")
    ):
        return UPLOAD_BYTES
    return None
