"""Alarms: the list, one alarm, and acknowledgement."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from facility_dispatch.api.deps import ServiceDep, Technician, Viewer
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, page
from facility_dispatch.api.types import AssetQuery, Input, Kind, SiteQuery
from facility_dispatch.rules.alarms import AlarmConflictError, AlarmNotFoundError, AlarmRecord

router = APIRouter(prefix="/api/v1/alarms", tags=["alarms"])


class AlarmOut(BaseModel):
    id: int
    rule_id: str
    site: str
    asset: str
    kind: str
    fault: str
    severity: Literal["critical", "major", "minor", "warning"]
    state: Literal["pending", "firing", "resolved"]
    description: str
    value: Any
    started_at: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    silenced: bool
    silence_id: int | None
    inhibited_by: int | None = Field(description="the alarm that is the root cause of this one")
    work_order_id: int | None


def alarm_out(record: AlarmRecord) -> AlarmOut:
    return AlarmOut.model_validate(record, from_attributes=True)


class AckIn(Input):
    note: str | None = Field(default=None, max_length=2000)


@router.get("", response_model=Page[AlarmOut])
def list_alarms(
    service: ServiceDep,
    _who: Viewer,
    state: Literal["pending", "firing", "resolved"] | None = None,
    site: SiteQuery = None,
    asset: AssetQuery = None,
    kind: Kind | None = None,
    severity: Literal["critical", "major", "minor", "warning"] | None = None,
    fault: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AlarmOut]:
    """Newest first."""
    records, total = service.alarms.query(
        state=state,
        site=site,
        asset=asset,
        kind=kind,
        severity=severity,
        fault=fault,
        limit=limit,
        offset=offset,
    )
    return page([alarm_out(r) for r in records], total, offset, service.settings.max_page_bytes)


@router.get("/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: Id, service: ServiceDep, _who: Viewer) -> AlarmOut:
    record = service.alarms.get(alarm_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alarm {alarm_id}")
    return alarm_out(record)


@router.post("/{alarm_id}/ack", response_model=AlarmOut)
def acknowledge(
    alarm_id: Id, service: ServiceDep, who: Technician, body: AckIn | None = None
) -> AlarmOut:
    """Someone has seen it: records who and when (once)."""
    try:
        record = service.alarms.acknowledge(alarm_id, who.name, body.note if body else None)
    except AlarmNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alarm {alarm_id}") from None
    except AlarmConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return alarm_out(record)
