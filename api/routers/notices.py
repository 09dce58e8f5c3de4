"""Resident notices: water, lift and power interruptions, in Chinese and English."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from api.deps import Planner, ServiceDep, Viewer
from api.pagination import Page, RowId
from ingest.topics import SITE_PATTERN
from maintenance.notices import Notice

router = APIRouter(prefix="/api/v1/notices", tags=["notices"])


class TextOut(BaseModel):
    title: str
    body: str


class NoticeOut(BaseModel):
    id: int
    site: str
    building: str | None
    service: str
    planned: bool
    starts_at: datetime
    ends_at: datetime | None
    zh: TextOut
    en: TextOut
    work_order_id: int | None


def notice_out(notice: Notice) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        site=notice.site,
        building=notice.building,
        service=notice.service,
        planned=notice.planned,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        zh=TextOut(title=notice.title_zh, body=notice.body_zh),
        en=TextOut(title=notice.title_en, body=notice.body_en),
        work_order_id=notice.work_order_id,
    )


class NoticeIn(BaseModel):
    site: str = Field(pattern=f"^{SITE_PATTERN.pattern}$")
    building: str | None = Field(default=None, max_length=100)
    service: Literal["water", "elevator", "power"]
    starts_at: datetime
    ends_at: datetime | None = None
    reason: str = Field(min_length=2, max_length=200, examples=["水箱清洗 tank cleaning"])
    work_order_id: RowId | None = None

    @model_validator(mode="after")
    def _window(self) -> NoticeIn:
        for value in (self.starts_at, self.ends_at):
            if value is not None and value.tzinfo is None:
                raise ValueError("times need a UTC offset (RFC 3339)")
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("a notice ends after it starts")
        return self


@router.get("", response_model=Page[NoticeOut])
def list_notices(
    service: ServiceDep, _who: Viewer, site: str | None = None, current: bool = True
) -> Page[NoticeOut]:
    """``current`` (default): the notices in force now or still to come."""
    notices = service.notices.query(site, service.clock.now() if current else None)
    return Page[NoticeOut](items=[notice_out(n) for n in notices], total=len(notices))


@router.post("", response_model=NoticeOut, status_code=status.HTTP_201_CREATED)
def publish_notice(body: NoticeIn, service: ServiceDep, _who: Planner) -> NoticeOut:
    """A notice for works announced by hand (served here and published on MQTT)."""
    if body.work_order_id is not None and service.work_orders.get(body.work_order_id) is None:
        raise HTTPException(404, f"no work order {body.work_order_id}")
    notice = service.notices.announce(
        body.site,
        body.service,
        body.starts_at,
        body.ends_at,
        body.reason,
        building=body.building,
        work_order_id=body.work_order_id,
    )
    return notice_out(notice)
