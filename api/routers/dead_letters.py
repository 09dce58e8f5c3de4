"""Rejected messages with their reasons, newest first."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from facility_dispatch.api.deps import ServiceDep, Viewer
from facility_dispatch.api.pagination import Limit, Offset, Page, page

router = APIRouter(prefix="/api/v1/dead-letters", tags=["ingest"])


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    topic: str
    reason: str
    detail: str
    payload_head: str


@router.get("", response_model=Page[DeadLetterOut])
def list_dead_letters(
    service: ServiceDep,
    _who: Viewer,
    reason: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[DeadLetterOut]:
    rows, total = service.dead_letters.list(reason, limit, offset)
    return page(
        [
            DeadLetterOut(
                id=r.id,
                received_at=r.received_at,
                topic=r.topic,
                reason=r.reason,
                detail=r.detail,
                payload_head=r.payload_head,
            )
            for r in rows
        ],
        total,
        offset,
        service.settings.max_page_bytes,
    )
