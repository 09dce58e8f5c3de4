"""Assets, their latest values and their telemetry history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from facility_dispatch.api.asset_views import AssetViews
from facility_dispatch.api.backend import Backend
from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.errors import raise_for
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
from facility_dispatch.ingest import register
from facility_dispatch.ingest.sql import AssetRecord
from facility_dispatch.kernel.clock import from_ms, to_ms
from facility_dispatch.kernel.durations import DurationError, parse_duration
from facility_dispatch.maintenance import records
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.orders import WorkOrder

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
    maker: str | None = None
    model: str | None = None
    install_date: date | None = None
    registration_code: str | None = Field(
        default=None, description="the registration certificate's number (使用登记证编号)"
    )
    floor: str | None = None


class AssetDetail(AssetOut):
    alarms: list[dict[str, Any]] = Field(default_factory=list, description="open alarms")
    work_orders: list[dict[str, Any]] = Field(default_factory=list, description="open work orders")


class AssetIn(Input):
    site: SiteName
    asset: AssetName
    kind: Kind
    name: str | None = Field(default=None, max_length=200)
    building: str | None = Field(default=None, max_length=100)


class RegisterIn(Input):
    """An asset's register data, all of it: a field left out is cleared."""

    name: str | None = Field(default=None, max_length=register.LIMITS["name"])
    maker: str | None = Field(default=None, max_length=register.LIMITS["maker"])
    model: str | None = Field(default=None, max_length=register.LIMITS["model"])
    install_date: date | None = None
    registration_code: str | None = Field(
        default=None, max_length=register.LIMITS["registration_code"]
    )
    building: str | None = Field(
        default=None,
        max_length=register.LIMITS["building"],
        description="lifts of one building are maintained one after another, never together",
    )
    floor: str | None = Field(default=None, max_length=register.LIMITS["floor"])


class RowErrorOut(BaseModel):
    row: int = Field(description="the line in the file; the heading is line 1")
    column: str | None
    message: str


class ImportOut(BaseModel):
    imported: int
    assets: list[str] = Field(description="site/asset of each row, in the file's order")


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
        },
        "description": (
            "the register as CSV, UTF-8 (a byte-order mark is fine) or GBK, at most 1 MiB and "
            f"{register.MAX_ROWS} rows; columns {', '.join(register.COLUMNS)} (site, asset and "
            "kind required; Chinese headings such as 使用登记证编号 are taken too)"
        ),
    }
}


def set_register(service: Backend, entries: list[register.RegisterEntry]) -> list[AssetRecord]:
    """Write register data, and tell the directory (the strict policy takes them at once)."""
    written = service.assets.set_register(entries)
    for record in written:
        service.directory.register(record)
    return written


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


@router.post(
    "/import",
    response_model=ImportOut,
    openapi_extra=IMPORT_BODY,
    responses={422: {"description": "the file is refused whole: each bad row and column"}},
)
async def import_register(request: Request, service: ServiceDep, _who: Planner) -> Any:
    """Import the asset register from a spreadsheet: every row is checked first, and a file
    with a bad row imports nothing (the answer names each bad row and column)."""
    data = await request.body()
    try:
        entries = register.parse(data)
    except register.RegisterFileError as error:
        return _refused(error)
    written = await run_in_threadpool(set_register, service, entries)
    return ImportOut(imported=len(written), assets=[f"{r.site}/{r.asset}" for r in written])


def _refused(error: register.RegisterFileError) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse(
        {
            "detail": str(error),
            "errors": [RowErrorOut(row=e.row, column=e.column, message=e.message).model_dump()
                       for e in error.errors],
        },
        status_code=422,
    )  # fmt: skip


@router.put("/{site}/{asset}/register", response_model=AssetOut)
def put_register(
    site: SitePath, asset: AssetPath, body: RegisterIn, service: ServiceDep, _who: Planner
) -> AssetOut:
    """Set an asset's register data: maker, model, install date, registration code, building,
    floor (and its name)."""
    record = service.assets.get(site, asset)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset {site}/{asset}")
    entry = register.RegisterEntry(site, asset, record.kind, **body.model_dump())
    (written,) = set_register(service, [entry])
    return AssetOut(**AssetViews.of(service).view(written))


@router.get(
    "/{site}/{asset}/records",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the maintenance record"}},
)
def maintenance_record(
    site: SitePath,
    asset: AssetPath,
    service: ServiceDep,
    _who: Viewer,
    start: Annotated[date, Query(description="first day, the site's local calendar")],
    end: Annotated[date, Query(description="last day, included")],
    headings: Literal["en", "zh"] = "en",
) -> Response:
    """The maintenance record (维保记录) of one asset from ``start`` to ``end``: each of its
    preventive and corrective orders with times, technicians, items and results, parts, the
    sign-off, and the timeline. CSV, UTF-8 with a byte-order mark (Excel reads the Chinese)."""
    lines = record_lines(service, site, asset, start, end)
    name = f"records-{site}-{asset}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        records.to_csv(lines, headings),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def record_lines(
    service: Backend, site: str, asset: str, start: date, end: date
) -> list[records.RecordLine]:
    """The record's lines, for the CSV (the console's page words the same orders itself)."""
    orders = record_orders(service, site, asset, start, end)
    zone = service.people.zone(site, service.settings.timezone)
    names: dict[int, str] = {}

    def name_of(technician_id: int) -> str:
        if technician_id not in names:
            found = service.people.technician(technician_id)
            names[technician_id] = found.name if found else f"#{technician_id}"
        return names[technician_id]

    return [
        records.line(order, name_of, service.parts.for_order(order.id), zone) for order in orders
    ]


def record_orders(
    service: Backend, site: str, asset: str, start: date, end: date
) -> list[WorkOrder]:
    """The asset's orders created from ``start`` to ``end`` (whole local days), oldest first;
    refused (404, 422) for an unknown asset, a range backwards or out of bounds, or too many."""
    if service.assets.get(site, asset) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset {site}/{asset}")
    if end < start:
        raise HTTPException(422, "end: must not be before start")
    if start.year < 1970 or end.year > 9000:
        raise HTTPException(422, "start: the record covers days from 1970 to 9000")
    zone = service.people.zone(site, service.settings.timezone)
    try:
        since = datetime.combine(start, time(), zone)
        until = datetime.combine(end + timedelta(days=1), time(), zone)
    except OverflowError:
        raise HTTPException(422, "end: out of range") from None
    try:
        return records.gather(service.work_orders, site, asset, since, until)
    except MaintenanceError as error:
        raise_for(error)


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
