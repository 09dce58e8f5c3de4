"""Residents' public endpoints (SPEC section 5): a new request, its tracking and its rating.

They need no token and are the service's first attack surface: each is rate limited per client
address (and a new request per phone too: 429 with ``Retry-After``), bodies are bounded (photos
by content, see :mod:`facility_dispatch.kernel.photos`, in a body of up to 16 MiB), and nothing
public lists requests: a request is reached only by its unguessable tracking token.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Final, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from facility_dispatch.api.backend import Backend
from facility_dispatch.api.deps import ServiceDep
from facility_dispatch.api.errors import raise_for
from facility_dispatch.api.types import Input, SiteName
from facility_dispatch.kernel.photos import MAX_PHOTO_BYTES
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.residents.model import (
    MAX_BUILDING,
    MAX_COMMENT,
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    MAX_UNIT,
    Tracking,
)
from facility_dispatch.residents.model import (
    Request as ResidentRequest,
)

router = APIRouter(prefix="/api/v1/public", tags=["residents"])
log = logging.getLogger(__name__)

Category = Literal["repair", "complaint", "suggestion", "praise"]
RequestStatus = Literal["new", "accepted", "rejected", "in_progress", "done", "closed"]
PHONE_PATTERN: Final = r"^\+?[0-9][0-9 \-]{5,22}$"
TokenPath = Annotated[
    str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="tracking")
]
UPLOAD_BYTES: Final = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024
"""The largest body of a new request: three photos of 5 MB and the form around them."""
JSON_BYTES: Final = 64 * 1024
"""The largest JSON request: the form alone has no need of the photos' allowance."""


class RequestIn(Input):
    site: SiteName
    category: Category
    building: str = Field(min_length=1, max_length=MAX_BUILDING, examples=["3"])
    unit: str = Field(min_length=1, max_length=MAX_UNIT, examples=["1202"])
    description: str = Field(min_length=2, max_length=MAX_DESCRIPTION)
    phone: str = Field(pattern=PHONE_PATTERN, examples=["138 0000 5678"])


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


def too_many(wait: int) -> None:
    if wait:
        log.debug("a public request was rate limited for %d s", wait)
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


async def json_body(request: Request) -> bytes:
    """The body of a JSON request, refused with 413 past :data:`JSON_BYTES`: the path's
    16 MiB is for photos (a declared length is refused before anything is read)."""
    too_large = HTTPException(413, f"a request without photos is at most {JSON_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > JSON_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > JSON_BYTES:
            raise too_large
    return bytes(body)


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
                raw = orjson.loads(await json_body(request))
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
    "/requests",
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
async def submit_request(request: Request, response: Response, service: ServiceDep) -> Submitted:
    """A resident's request, no token needed: JSON, or multipart with up to three photos.
    Rate limited per client address and per phone (429 with Retry-After)."""
    response.headers["Cache-Control"] = "no-store"  # the answer holds the tracking token
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
        # the reason, never the resident's words (a log is read by more people than the queue)
        why = getattr(error, "field", None) or type(error).__name__
        log.info("a resident's request for %s was refused (%s)", body.site, why)
        raise_for(error)
    return Submitted(id=submitted.request.id, tracking_url=f"/r/t/{submitted.token}")


def tracked(service: Backend, token: str) -> Tracking:
    tracking = service.residents.track(token)
    if tracking is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such request")
    return tracking


@router.get("/requests/{token}", response_model=TrackingOut)
def track_request(
    token: TokenPath, request: Request, response: Response, service: ServiceDep
) -> TrackingOut:
    """The resident's view of their request, by its tracking token (never kept by a cache:
    the address is the secret, and the answer names the technician)."""
    response.headers["Cache-Control"] = "no-store"
    too_many(service.residents.admit_read(client_address(request)))
    return tracking_out(tracked(service, token))


@router.post("/requests/{token}/feedback", response_model=TrackingOut)
def give_feedback(
    token: TokenPath, body: FeedbackIn, request: Request, response: Response, service: ServiceDep
) -> TrackingOut:
    """A rating of 1 to 5 with a comment, once the work is resolved (409 before, 409 again)."""
    response.headers["Cache-Control"] = "no-store"
    too_many(service.residents.admit_read(client_address(request)))
    try:
        service.residents.feedback(token, body.rating, body.comment)
    except MaintenanceError as error:
        raise_for(error)
    return tracking_out(tracked(service, token))


def upload_limit(path: str) -> int | None:
    """The body limit of a new request with photos (the rest keep the service's limit)."""
    if path == "/api/v1/public/requests" or (
        path.startswith("/r/") and path.count("/") == 2 and not path.startswith("/r/t/")
    ):
        return UPLOAD_BYTES
    return None
