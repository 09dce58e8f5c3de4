"""Silences: mute an asset, a kind or a whole site for a window (planned works)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator

from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, page
from facility_dispatch.api.types import AssetName, Input, Kind, SiteName, SiteQuery, UtcDateTime
from facility_dispatch.kernel.durations import DurationError, parse_duration
from facility_dispatch.rules.silences import Silence

router = APIRouter(prefix="/api/v1/silences", tags=["alarms"])


class SilenceIn(Input):
    site: SiteName
    asset: AssetName | None = None
    kind: Kind | None = None
    fault: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*$",
        max_length=64,
        description="only this fault (e.g. tamper); default: every fault",
    )
    starts_at: UtcDateTime | None = Field(default=None, description="default: now")
    ends_at: UtcDateTime | None = None
    duration: str | None = Field(default=None, description="instead of ends_at: 2h, 1d")
    reason: str = Field(min_length=2, max_length=500)

    @model_validator(mode="after")
    def _window(self) -> SilenceIn:
        if (self.ends_at is None) == (self.duration is None):
            raise ValueError("give either ends_at or duration")
        return self


class SilenceOut(BaseModel):
    id: int
    site: str
    asset: str | None
    kind: str | None
    fault: str | None
    starts_at: datetime
    ends_at: datetime | None
    reason: str
    created_by: str
    work_order_id: int | None


def silence_out(silence: Silence) -> SilenceOut:
    return SilenceOut.model_validate(silence, from_attributes=True)


@router.post("", response_model=SilenceOut, status_code=status.HTTP_201_CREATED)
def create_silence(body: SilenceIn, service: ServiceDep, who: Planner) -> SilenceOut:
    """Alarms that fire under a silence are recorded as silenced and dispatch nothing."""
    starts = body.starts_at or service.clock.now()
    if body.duration is not None:
        try:
            ends = starts + parse_duration(body.duration)
        except DurationError as error:
            raise HTTPException(422, str(error)) from None
    else:
        assert body.ends_at is not None
        ends = body.ends_at
    if ends <= starts:
        raise HTTPException(422, "the silence must end after it starts")
    if ends - starts > timedelta(days=90):
        raise HTTPException(422, "a silence lasts at most 90 days; make another after")
    silence = service.alarms.add_silence(
        body.site, body.asset, body.kind, starts, ends, body.reason, who.name, fault=body.fault
    )
    return silence_out(silence)


@router.get("", response_model=Page[SilenceOut])
def list_silences(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    active: Annotated[bool, Query(description="only those in force now")] = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[SilenceOut]:
    silences, total = service.alarms.silences().query(
        site, service.clock.now() if active else None, limit, offset
    )
    return page([silence_out(s) for s in silences], total, offset, service.settings.max_page_bytes)


@router.delete("/{silence_id}", response_model=SilenceOut)
def end_silence(silence_id: Id, service: ServiceDep, _who: Planner) -> SilenceOut:
    """End a silence now (it stays in the list, with its real end)."""
    silence = service.alarms.end_silence(silence_id)
    if silence is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no silence {silence_id}")
    return silence_out(silence)
