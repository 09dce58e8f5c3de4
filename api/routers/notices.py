"""Resident notices: water, lift and power interruptions, in Chinese and English."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, RowId, page
from facility_dispatch.api.types import AssetName, Input, SiteName, SiteQuery, UtcDateTime
from facility_dispatch.maintenance.notices import Notice, Reason

router = APIRouter(prefix="/api/v1/notices", tags=["notices"])


class TextOut(BaseModel):
    title: str
    body: str


class NoticeOut(BaseModel):
    id: int
    site: str
    building: str | None
    asset: str | None = Field(description="the lift (or other asset) out of service")
    service: str
    planned: bool
    urgent: bool = Field(description="an emergency, happening now: listed first")
    publish_at: datetime = Field(description="shown from then (planned works: notice_before)")
    starts_at: datetime
    ends_at: datetime | None
    zh: TextOut
    en: TextOut
    work_order_id: int | None
    cancelled_at: datetime | None = Field(default=None, description="withdrawn then")


def notice_out(notice: Notice) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        site=notice.site,
        building=notice.building,
        asset=notice.asset,
        service=notice.service,
        planned=notice.planned,
        urgent=not notice.planned,
        publish_at=notice.publish_at or notice.created_at,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        zh=TextOut(title=notice.title_zh, body=notice.body_zh),
        en=TextOut(title=notice.title_en, body=notice.body_en),
        work_order_id=notice.work_order_id,
        cancelled_at=notice.cancelled_at,
    )


class NoticeIn(Input):
    site: SiteName
    building: str | None = Field(default=None, max_length=100)
    asset: AssetName | None = Field(default=None, description="the lift out of service")
    service: Literal["water", "elevator", "power"]
    starts_at: UtcDateTime
    ends_at: UtcDateTime | None = None
    reason: str | None = Field(
        default=None,
        min_length=2,
        max_length=200,
        examples=["水箱清洗 tank cleaning"],
        description='in one text, "中文 English": split by language',
    )
    reason_zh: str | None = Field(
        default=None, min_length=2, max_length=200, examples=["水箱清洗"], description="为何停"
    )
    reason_en: str | None = Field(
        default=None,
        min_length=2,
        max_length=200,
        examples=["tank cleaning"],
        description="why, in English (read after 'because of')",
    )
    urgent: bool = Field(
        default=False, description="an outage happening now: worded so and listed first"
    )
    work_order_id: RowId | None = None

    @model_validator(mode="after")
    def _window(self) -> NoticeIn:
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("a notice ends after it starts")
        if not (self.reason or self.reason_zh or self.reason_en):
            raise ValueError("a notice gives its reason: reason, or reason_zh and reason_en")
        return self

    def why(self) -> Reason:
        """Each language's reason: given on its own, else that language's part of ``reason``."""
        split = Reason.of(self.reason or "")
        return Reason(self.reason_zh or split.zh, self.reason_en or split.en)


@router.get("", response_model=Page[NoticeOut])
def list_notices(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    current: bool = True,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[NoticeOut]:
    """``current`` (default): the notices residents see now, in force or still to come;
    urgent ones first."""
    notices = service.notices.query(site, service.clock.now() if current else None)
    chosen = notices[offset : offset + limit]
    return page(
        [notice_out(n) for n in chosen], len(notices), offset, service.settings.max_page_bytes
    )


@router.post("", response_model=NoticeOut, status_code=status.HTTP_201_CREATED)
def publish_notice(body: NoticeIn, service: ServiceDep, _who: Planner) -> NoticeOut:
    """A notice for works announced by hand (served here and published on MQTT), or with
    ``urgent`` an outage happening now (worded so, listed first)."""
    if body.work_order_id is not None and service.work_orders.get(body.work_order_id) is None:
        raise HTTPException(404, f"no work order {body.work_order_id}")
    notice = service.notices.announce(
        body.site,
        body.service,
        body.starts_at,
        body.ends_at,
        body.why(),
        building=body.building,
        asset=body.asset,
        planned=not body.urgent,
        work_order_id=body.work_order_id,
    )
    return notice_out(notice)


@router.delete("/{notice_id}", response_model=NoticeOut)
def withdraw_notice(notice_id: Id, service: ServiceDep, _who: Planner) -> NoticeOut:
    """Withdraw a notice (the works called off, or issued by mistake): residents no longer see
    it, here, on ``/r/{site}`` or on the signage's retained list."""
    notice = service.notices.withdraw(notice_id)
    if notice is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no notice {notice_id}")
    return notice_out(notice)
