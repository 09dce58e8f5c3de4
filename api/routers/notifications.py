"""Notifications (SPEC section 6): the outbox as a list, and the notifications file (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from facility_dispatch.api.deps import Admin, ServiceDep, Viewer
from facility_dispatch.api.pagination import IdQuery, Limit, Offset, Page, page
from facility_dispatch.api.types import Input
from facility_dispatch.notify.apprise_sender import Sender
from facility_dispatch.notify.config import NotifyConfig, NotifyConfigError, masked_text
from facility_dispatch.notify.sql import OutboxRow

router = APIRouter(prefix="/api/v1", tags=["notifications"])

MAX_CONFIG_CHARS = 100_000
"""Plenty for a file of receivers and routes, and under the body limit however it is encoded."""


class NotificationOut(BaseModel):
    id: int
    at: datetime
    event: str
    work_order_id: int | None
    site: str | None
    receiver: str
    url_redacted: str = Field(description="the Apprise URL with its secrets hidden")
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    title: str


def notification_out(row: OutboxRow) -> NotificationOut:
    return NotificationOut.model_validate(row, from_attributes=True)


StatusQuery = Annotated[
    Literal["pending", "sent", "failed"] | None, Query(description="only messages in this state")
]


@router.get("/notifications", response_model=Page[NotificationOut])
def list_notifications(
    service: ServiceDep,
    _who: Viewer,
    status: StatusQuery = None,
    work_order_id: IdQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[NotificationOut]:
    """Every message recorded for sending, newest first: to whom, how it went, and why not."""
    rows, total = service.notifier.query(status, work_order_id, limit, offset)
    return page([notification_out(r) for r in rows], total, offset, service.settings.max_page_bytes)


class ReceiverOut(BaseModel):
    name: str
    urls_redacted: list[str]


class RouteOut(BaseModel):
    name: str
    to: list[str]
    repeat: float | None = Field(description="seconds between repeats until acknowledged")
    escalate_after: float | None
    escalate_to: list[str]
    continue_: bool = Field(serialization_alias="continue")


class NotifyConfigOut(BaseModel):
    text: str = Field(description="the notifications file in force (YAML, SPEC section 6)")
    receivers: list[ReceiverOut]
    routes: list[RouteOut]


class NotifyConfigIn(Input):
    text: str = Field(max_length=MAX_CONFIG_CHARS, description="a whole notifications file")


class RefusalParts(BaseModel):
    part: Literal["route", "receiver", "file"] = Field(
        description="where: a route, a receiver, or the file as a whole"
    )
    name: str | None = Field(description="the route's or receiver's name as the file gives it")
    field: str | None = Field(description="the field, as the file writes it (urls[0], repeat)")
    reason: str = Field(description="why, as a code (unknown_receiver, bad_url, bad_duration...)")
    values: dict[str, str] = Field(description="what the reason names (the unknown receiver...)")


class NotifyRefusal(BaseModel):
    detail: str = Field(description="the refusal in English, naming the route and field")
    refusal: RefusalParts


def config_out(config: NotifyConfig, sender: Sender) -> NotifyConfigOut:
    hide = sender.redact
    return NotifyConfigOut(
        text=masked_text(config),
        receivers=[
            ReceiverOut(name=name, urls_redacted=[hide(u) for u in urls])
            for name, urls in config.receivers.items()
        ],
        routes=[
            RouteOut(
                name=r.name,
                to=list(r.to),
                repeat=r.repeat.total_seconds() if r.repeat else None,
                escalate_after=r.escalate_after.total_seconds() if r.escalate_after else None,
                escalate_to=list(r.escalate_to),
                continue_=r.continue_,
            )
            for r in config.routes
        ],
    )


@router.get("/notify-config", response_model=NotifyConfigOut, response_model_by_alias=True)
def get_notify_config(service: ServiceDep, _who: Admin, response: Response) -> NotifyConfigOut:
    """The notifications file in force, with what it was read as; receivers' secrets masked
    (``*****``), which a PUT of the same text keeps."""
    response.headers["Cache-Control"] = "no-store"
    return config_out(service.notifier.config(), service.notifier.sender)


@router.put("/notify-config", response_model=NotifyConfigOut, response_model_by_alias=True)
def put_notify_config(
    body: NotifyConfigIn, service: ServiceDep, _who: Admin, response: Response
) -> NotifyConfigOut | JSONResponse:
    """Replace the notifications file, checked as a whole first: a refusal (422) names the
    route or receiver and the field in ``detail`` (English), and gives the same in
    ``refusal`` as data for a client to word in its own language: ``part`` (route, receiver
    or file), ``name``, ``field``, ``reason`` (a code: unknown_receiver, bad_url,
    bad_duration, ...) and ``values`` (what the reason names); the file in force stays. A
    URL with secrets masked as GET shows it keeps the secrets in force."""
    response.headers["Cache-Control"] = "no-store"
    try:
        config = service.notifier.configure(body.text)
    except NotifyConfigError as error:
        refused = NotifyRefusal(detail=str(error), refusal=RefusalParts(**error.parts()))
        return JSONResponse(
            refused.model_dump(), status_code=422, headers={"Cache-Control": "no-store"}
        )
    return config_out(config, service.notifier.sender)
