"""Patrol routes with ordered checkpoints, their rounds, scans and findings, and the KPIs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from facility_dispatch.api.auth import Principal, Role
from facility_dispatch.api.deps import Planner, ServiceDep, Technician, Viewer
from facility_dispatch.api.errors import actor_of, raise_for
from facility_dispatch.api.pagination import Id, IdQuery, Limit, Offset, Page, page
from facility_dispatch.api.types import AssetName, Input, SiteName, SiteQuery, UtcDateTime
from facility_dispatch.kernel.durations import DurationError, parse_duration
from facility_dispatch.maintenance import rounds
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.patrols import Checkpoint, Round, Route

router = APIRouter(prefix="/api/v1", tags=["rounds"])
ItemKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{8,32}$", description="a checkpoint's code")]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"])]


class ItemIO(Input):
    key: ItemKey
    text: str = Field(min_length=1, max_length=300)


class CheckpointIn(Input):
    name: str = Field(min_length=1, max_length=200)
    building: str | None = Field(default=None, max_length=100)
    asset: AssetName | None = Field(default=None, description="a failed item's order is for it")
    skill: str = Field(default="general", pattern=r"^[a-z][a-z0-9_-]*$", max_length=32)
    items: list[ItemIO] = Field(min_length=1, max_length=50)


class RouteIn(Input):
    site: SiteName
    name: str = Field(min_length=1, max_length=200)
    times: list[ClockTime] = Field(
        max_length=48, description="local start times of the scheduled rounds; none: on demand"
    )
    window: str = Field(default="2h", description="time allowed to finish a round")
    checkpoints: list[CheckpointIn] = Field(min_length=1, max_length=100)


class TemplateIn(Input):
    site: SiteName
    template: Literal["fire_patrol", "plant_room"]
    lang: Literal["zh", "en"] = "zh"
    building: str | None = Field(default=None, max_length=100)


class CheckpointOut(BaseModel):
    id: int
    position: int
    name: str
    building: str | None
    asset: str | None
    skill: str
    items: list[dict[str, str]]
    token: str | None = Field(description="the QR code's secret: shown to planners only")


class RouteOut(BaseModel):
    id: int
    site: str
    name: str
    template: str | None
    times: list[str]
    window_s: float
    checkpoints: list[CheckpointOut]


def route_out(route: Route, who: Principal) -> RouteOut:
    def point(c: Checkpoint) -> CheckpointOut:
        return CheckpointOut(
            id=c.id,
            position=c.position,
            name=c.name,
            building=c.building,
            asset=c.asset,
            skill=c.skill,
            items=[dict(i) for i in c.items],
            token=c.token if who.role >= Role.PLANNER else None,
        )

    return RouteOut(
        id=route.id,
        site=route.site,
        name=route.name,
        template=route.template,
        times=list(route.times),
        window_s=route.window.total_seconds(),
        checkpoints=[point(c) for c in route.checkpoints],
    )


class ResultIn(Input):
    key: ItemKey
    ok: bool
    note: str = Field(default="", max_length=2000)


class VisitIn(Input):
    token: str = Field(pattern=r"^[A-Za-z0-9_-]{8,32}$", description="the scanned code")
    results: list[ResultIn] = Field(max_length=50)


class VisitOut(BaseModel):
    checkpoint_id: int
    at: datetime
    by: str
    results: list[dict[str, Any]]


class RoundOut(BaseModel):
    id: int
    route_id: int
    key: str
    starts_at: datetime
    due_by: datetime
    state: Literal["due", "walking", "done", "late", "missed"]
    started_at: datetime | None
    started_by: str | None
    finished_at: datetime | None
    missed_at: datetime | None
    findings: int
    next_checkpoint_id: int | None
    visits: list[VisitOut]


def round_out(found: Round, route: Route | None, now: datetime) -> RoundOut:
    order = [c.id for c in route.checkpoints] if route else []
    return RoundOut(
        id=found.id,
        route_id=found.route_id,
        key=found.key,
        starts_at=found.starts_at,
        due_by=found.due_by,
        state=found.state(now),  # type: ignore[arg-type]
        started_at=found.started_at,
        started_by=found.started_by,
        finished_at=found.finished_at,
        missed_at=found.missed_at,
        findings=found.findings,
        next_checkpoint_id=rounds.expected_next(order, found.visited),
        visits=[
            VisitOut(checkpoint_id=v.checkpoint_id, at=v.at, by=v.by, results=list(v.results))
            for v in found.visits
        ],
    )


class ScanOut(BaseModel):
    route: RouteOut
    checkpoint_id: int
    round: RoundOut | None = Field(description="the round a visit here goes to, if one is open")


class KpisOut(BaseModel):
    rounds: int
    on_time: float | None = Field(description="rounds done by their deadline, of those judged")
    findings_per_round: float | None
    missed: int


@router.get("/patrol-templates")
def list_templates(_who: Viewer) -> dict[str, Any]:
    """Built-in routes: the daily fire patrol (GB 25201) and the plant room round."""
    return {
        "items": [
            {"name": name, **rounds.template(name, "en"), "title_zh": t["title"]["zh"]}
            for name, t in rounds.TEMPLATES.items()
        ]
    }


@router.get("/routes", response_model=Page[RouteOut])
def list_routes(
    service: ServiceDep,
    who: Viewer,
    site: SiteQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[RouteOut]:
    routes = service.patrols.routes(site)
    return page(
        [route_out(r, who) for r in routes[offset : offset + limit]],
        len(routes),
        offset,
        service.settings.max_page_bytes,
    )


@router.post("/routes", response_model=RouteOut, status_code=status.HTTP_201_CREATED)
def create_route(body: RouteIn, service: ServiceDep, who: Planner) -> RouteOut:
    try:
        window = parse_duration(body.window)
    except DurationError as error:
        raise HTTPException(422, f"window: {error}") from None
    if not timedelta(minutes=5) <= window <= timedelta(days=1):
        raise HTTPException(422, "window: between 5m and 24h")
    try:
        route = service.patrols.create_route(
            body.site,
            body.name,
            body.times,
            window,
            [c.model_dump() for c in body.checkpoints],
            who.name,
        )
    except MaintenanceError as error:
        raise_for(error)
    return route_out(route, who)


@router.post("/routes/from-template", response_model=RouteOut, status_code=201)
def create_from_template(body: TemplateIn, service: ServiceDep, who: Planner) -> RouteOut:
    try:
        route = service.patrols.from_template(
            body.site, body.template, body.lang, who.name, body.building
        )
    except MaintenanceError as error:
        raise_for(error)
    return route_out(route, who)


@router.get("/routes/{route_id}", response_model=RouteOut)
def get_route(route_id: Id, service: ServiceDep, who: Viewer) -> RouteOut:
    route = service.patrols.route(route_id)
    if route is None or not route.active:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no route {route_id}")
    return route_out(route, who)


@router.delete("/routes/{route_id}", status_code=status.HTTP_204_NO_CONTENT)
def deactivate_route(route_id: Id, service: ServiceDep, _who: Planner) -> None:
    """No more rounds of it (its history stays)."""
    try:
        service.patrols.deactivate(route_id)
    except MaintenanceError as error:
        raise_for(error)


@router.post("/routes/{route_id}/rounds", response_model=RoundOut, status_code=201)
def start_round(route_id: Id, service: ServiceDep, who: Technician) -> RoundOut:
    """An unscheduled round of the route, from now, within the route's window."""
    try:
        found = service.patrols.start(route_id, actor_of(who))
    except MaintenanceError as error:
        raise_for(error)
    return round_out(found, service.patrols.route(route_id), service.clock.now())


@router.get("/rounds", response_model=Page[RoundOut])
def list_rounds(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    route_id: IdQuery = None,
    since: UtcDateTime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[RoundOut]:
    """Rounds whose deadline is at or after ``since`` (default: a day ago), soonest first (of
    the first 10,000)."""
    now = service.clock.now()
    found = service.patrols.rounds(site, route_id, since or now - timedelta(days=1), None, 10_000)
    routes = {r.id: r for r in service.patrols.routes(site)}
    return page(
        [round_out(r, routes.get(r.route_id), now) for r in found[offset : offset + limit]],
        len(found),
        offset,
        service.settings.max_page_bytes,
    )


@router.get("/rounds/{round_id}", response_model=RoundOut)
def get_round(round_id: Id, service: ServiceDep, _who: Viewer) -> RoundOut:
    found = service.patrols.round(round_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no round {round_id}")
    return round_out(found, service.patrols.route(found.route_id), service.clock.now())


@router.post("/rounds/{round_id}/visits", response_model=RoundOut, status_code=201)
def record_visit(round_id: Id, body: VisitIn, service: ServiceDep, who: Technician) -> RoundOut:
    """A scanned checkpoint and every one of its items' results, in the route's order; a failed
    item opens a work order for the checkpoint's place (source manual, channel walk_round)."""
    try:
        found = service.patrols.visit(
            round_id, body.token, [r.model_dump() for r in body.results], actor_of(who)
        )
    except MaintenanceError as error:
        raise_for(error)
    return round_out(found, service.patrols.route(found.route_id), service.clock.now())


PHOTO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "the photo itself, at most 1 MiB (the console scales it down first)",
    }
}
PhotoKey = Annotated[str, Path(pattern=r"^[0-9a-f]{32}\.jpg$")]


class PhotoOut(BaseModel):
    key: str
    url: str


@router.post(
    "/rounds/{round_id}/visits/{checkpoint_id}/photos",
    response_model=PhotoOut,
    status_code=201,
    openapi_extra=PHOTO_BODY,
)
async def add_photo(
    round_id: Id,
    checkpoint_id: Id,
    item: Annotated[str, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$")],
    request: Request,
    service: ServiceDep,
    who: Technician,
) -> PhotoOut:
    """A photo of an item recorded on the round (up to 3 an item): its content is checked (JPEG
    or PNG that decodes whole) and kept re-encoded, without the camera's metadata."""
    data = await request.body()
    try:
        key = await run_in_threadpool(
            service.patrols.add_photo, round_id, checkpoint_id, item, data, actor_of(who)
        )
    except MaintenanceError as error:
        raise_for(error)
    return PhotoOut(key=key, url=f"/api/v1/rounds/{round_id}/photos/{key}")


@router.get(
    "/rounds/{round_id}/photos/{key}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the photo, as kept"}},
)
def round_photo(round_id: Id, key: PhotoKey, service: ServiceDep, _who: Viewer) -> Response:
    try:
        photo = service.patrols.photo(round_id, key)
    except MaintenanceError as error:
        raise_for(error)
    return Response(photo, media_type="image/jpeg", headers={"Cache-Control": "private"})


@router.get("/checkpoints/{token}", response_model=ScanOut)
def scan(token: Token, service: ServiceDep, who: Technician) -> ScanOut:
    """What scanning a checkpoint's code finds: its route, and the round it is walked on."""
    found = service.patrols.checkpoint_by_token(token)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no checkpoint has that code")
    route, checkpoint = found
    open_round = service.patrols.open_round_for(route.id)
    now = service.clock.now()
    return ScanOut(
        route=route_out(route, who),
        checkpoint_id=checkpoint.id,
        round=round_out(open_round, route, now) if open_round else None,
    )


@router.get("/patrol-kpis", response_model=KpisOut)
def kpis(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    since: UtcDateTime | None = None,
    until: UtcDateTime | None = None,
) -> KpisOut:
    """Rounds due in the period (default: the last 7 days): done on time, findings per round."""
    now = service.clock.now()
    until = until or now
    since = since or until - timedelta(days=7)
    found = [
        r for r in service.patrols.rounds(site, None, since, until, 10_000) if r.due_by <= until
    ]
    facts = [rounds.RoundFacts(r.due_by, r.finished_at, r.findings) for r in found]
    return KpisOut(
        rounds=len(found),
        on_time=rounds.on_time_ratio(facts, now),
        findings_per_round=rounds.findings_per_round(facts),
        missed=sum(1 for r in found if r.state(now) in ("missed", "late")),
    )
