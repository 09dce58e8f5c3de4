"""Assets, their latest values and their telemetry history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from facility_dispatch.api.asset_views import AssetViews
from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.pagination import Limit, Offset, Page, page
from facility_dispatch.api.types import (
    AssetName,
    AssetPath,
    Input,
    Kind,
    SiteName,
    SitePath,
    SiteQuery,
    UtcDateTime,
)
from facility_dispatch.kernel.clock import from_ms, to_ms
from facility_dispatch.kernel.durations import DurationError, parse_duration

router = APIRouter(prefix="/api/v1/assets", tags=["assets"])

AssetStatus = Literal["ok", "alarm", "offline", "maintenance"]


class AssetOut(BaseModel):
    site: str
    asset: str
    kind: str
    status: AssetStatus
    online: bool | None
    last_seen: datetime | None
    metrics: dict[str, Any]
    name: str | None = None
    building: str | None = None
    registered: bool = False


class AssetDetail(AssetOut):
    alarms: list[dict[str, Any]] = Field(default_factory=list, description="open alarms")
    work_orders: list[dict[str, Any]] = Field(default_factory=list, description="open work orders")


class AssetIn(Input):
    site: SiteName
    asset: AssetName
    kind: Kind
    name: str | None = Field(default=None, max_length=200)
    building: str | None = Field(default=None, max_length=100)


class TelemetryPoint(BaseModel):
    ts: datetime
    value: float | int | bool | str


class TelemetryOut(BaseModel):
    site: str
    asset: str
    metric: str
    every: str | None = None
    points: list[TelemetryPoint]


@router.get("", response_model=Page[AssetOut])
def list_assets(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    kind: Kind | None = None,
    status_: Annotated[AssetStatus | None, Query(alias="status")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AssetOut]:
    if status_:  # status is derived (alarms, presence, works), so filter after deriving it
        records, total = service.assets.query(site, kind)
    else:
        records, total = service.assets.query(site, kind, limit, offset)
    views = [AssetOut(**v) for v in AssetViews.of(service).views(records)]
    if status_:
        views = [v for v in views if v.status == status_]
        total = len(views)
        views = views[offset : offset + limit]
    return page(views, total, offset, service.settings.max_page_bytes)


@router.post("", response_model=AssetOut, status_code=status.HTTP_201_CREATED)
def register_asset(body: AssetIn, service: ServiceDep, _who: Planner) -> AssetOut:
    """Register an asset (its name and building for notices); the strict policy needs this."""
    record = service.register_asset(body.site, body.asset, body.kind, body.name, body.building)
    return AssetOut(**AssetViews.of(service).view(record))


@router.get("/{site}/{asset}", response_model=AssetDetail)
def get_asset(site: SitePath, asset: AssetPath, service: ServiceDep, _who: Viewer) -> AssetDetail:
    record = service.assets.get(site, asset)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset {site}/{asset}")
    return AssetDetail(**AssetViews.of(service).detail(record))


@router.get("/{site}/{asset}/telemetry", response_model=TelemetryOut)
def telemetry(
    site: SitePath,
    asset: AssetPath,
    service: ServiceDep,
    _who: Viewer,
    metric: Annotated[
        str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    ],
    start: Annotated[UtcDateTime | None, Query(description="RFC 3339; default end - 24h")] = None,
    end: Annotated[UtcDateTime | None, Query(description="RFC 3339; default now")] = None,
    every: Annotated[str | None, Query(description="bucket: 1m, 15m, 1h, 1d")] = None,
    agg: Literal["mean", "min", "max", "last"] = "mean",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> TelemetryOut:
    """History of one metric, oldest first; downsampled to one point per ``every``."""
    if service.assets.get(site, asset) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset {site}/{asset}")
    end = end or service.clock.now()
    start = start or end - timedelta(hours=24)
    if start >= end:
        raise HTTPException(422, "start must be before end")
    every_ms = None
    if every:
        try:
            every_ms = int(parse_duration(every).total_seconds() * 1000)
        except DurationError as error:
            raise HTTPException(422, str(error)) from None
        if every_ms < 1000:
            raise HTTPException(422, "every must be at least 1s")
    points = service.store.history(
        site, asset, metric, to_ms(start), to_ms(end), every_ms, agg, limit
    )
    return TelemetryOut(
        site=site,
        asset=asset,
        metric=metric,
        every=every,
        points=[TelemetryPoint(ts=from_ms(p.ts_ms), value=p.value) for p in points],
    )
