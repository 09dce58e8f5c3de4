"""Maintenance plans (calendar or meter based) and their occurrences; checklist templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator

from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.errors import actor_of, raise_for
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, page
from facility_dispatch.api.types import AssetName, Input, Kind, SiteName, SiteQuery, UtcDateTime
from facility_dispatch.kernel.durations import DurationError, format_duration, parse_duration
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.levels import LADDERS
from facility_dispatch.maintenance.plan_forecast import forecast
from facility_dispatch.maintenance.plan_values import Occurrence, Plan, templates

router = APIRouter(prefix="/api/v1/maintenance-plans", tags=["planning"])
DurationText = Annotated[str, Field(examples=["15d", "7d", "4h"])]


class MeterIO(Input):
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]*$", examples=["door_cycles", "pump_run_hours"])
    every: float = Field(gt=0, le=1e12, allow_inf_nan=False, examples=[50000])


class PlanIn(Input):
    name: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=5000)
    site: SiteName
    asset: AssetName | None = None
    kind: Kind | None = Field(
        default=None, description="without an asset: every asset of this kind at the site"
    )
    every: str | None = Field(
        default=None, description="15d, 2w, 1mo, 3mo, 6mo, 1y (months and years are calendar)"
    )
    cron: str | None = Field(default=None, description="crontab, site local time: '0 9 1 * *'")
    meter: MeterIO | None = None
    starts_at: UtcDateTime
    lead_time: DurationText = "0s"
    priority: Literal["P1", "P2", "P3", "P4"] = "P3"
    skill: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    checklist: list[str] = Field(default_factory=list, max_length=200)
    template: str | None = Field(default=None, description="a built-in checklist template")
    interrupts: Literal["water", "elevator", "power"] | None = Field(
        default=None, description="the service the works cut: residents get a notice"
    )
    duration: DurationText = Field(default="1h", description="how long the works take")
    notice_before: DurationText = Field(default="24h")
    levels: Literal["tsg-t5002"] | None = Field(
        default=None,
        description="stacked maintenance levels (TSG T5002: every 15d, the 6th visit quarterly,"
        " the 12th half-yearly, the 24th yearly; each does the items of the levels below)",
    )

    @model_validator(mode="after")
    def _checks(self) -> PlanIn:
        for name in ("lead_time", "duration", "notice_before"):
            try:
                parse_duration(getattr(self, name))
            except DurationError as error:
                raise ValueError(f"{name}: {error}") from None
        return self


class PlanOut(BaseModel):
    id: int
    name: str
    description: str
    site: str
    asset: str | None
    kind: str | None
    every: str | None
    cron: str | None
    meter: MeterIO | None
    starts_at: datetime
    lead_time: str
    priority: str
    skill: str
    checklist: list[str]
    template: str | None
    interrupts: str | None
    duration: str
    notice_before: str
    active: bool
    levels: str | None = None
    next_order_at: datetime | None = Field(description="when the next order will be made")


class OccurrenceOut(BaseModel):
    id: int
    asset: str
    key: str
    due_at: datetime = Field(description="when its works start (its slot, once staggered)")
    ends_at: datetime | None = Field(description="end of the slot of works that stop the asset")
    building: str | None
    level: str | None = Field(description="a levels plan's: half-monthly ... yearly")
    status: Literal["generating", "generated", "skipped"]
    work_order_id: int | None
    reason: str | None


class MoveIn(Input):
    starts_at: UtcDateTime = Field(description="the slot's new start")

    @model_validator(mode="after")
    def _bounded(self) -> MoveIn:
        if (
            not datetime(2000, 1, 1, tzinfo=UTC)
            <= self.starts_at
            < datetime(2100, 1, 1, tzinfo=UTC)
        ):
            raise ValueError("starts_at: between 2000 and 2099")
        return self


class VisitOut(BaseModel):
    due_at: datetime
    asset: str
    starts_at: datetime
    ends_at: datetime | None
    level: str | None
    occurrence_id: int | None
    status: Literal["generating", "generated", "skipped", "upcoming"]


class ForecastOut(BaseModel):
    plan_id: int
    items: list[VisitOut]


class PlanDetail(PlanOut):
    occurrences: list[OccurrenceOut]


def plan_out(plan: Plan, next_at: datetime | None) -> dict[str, Any]:
    return {
        "id": plan.id,
        "name": plan.name,
        "description": plan.description,
        "site": plan.site,
        "asset": plan.asset,
        "kind": plan.kind,
        "every": plan.every,
        "cron": plan.cron,
        "meter": plan.meter,
        "starts_at": plan.starts_at,
        "lead_time": format_duration(plan.lead_time) if plan.lead_time else "0s",
        "priority": plan.priority,
        "skill": plan.skill,
        "checklist": list(plan.checklist),
        "template": plan.template,
        "interrupts": plan.interrupts,
        "duration": format_duration(plan.duration),
        "notice_before": format_duration(plan.notice_before),
        "active": plan.active,
        "levels": plan.levels,
        "next_order_at": next_at,
    }


@router.get("", response_model=Page[PlanOut])
def list_plans(
    service: ServiceDep,
    _who: Viewer,
    site: SiteQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[PlanOut]:
    now = service.clock.now()
    plans = service.planner.plans(site)
    return page(
        [
            PlanOut(**plan_out(p, service.planner.next_run(p, now)))
            for p in plans[offset : offset + limit]
        ],
        len(plans),
        offset,
        service.settings.max_page_bytes,
    )


@router.post("", response_model=PlanDetail, status_code=status.HTTP_201_CREATED)
def create_plan(body: PlanIn, service: ServiceDep, who: Planner) -> PlanDetail:
    """Orders of occurrences already due (within the lead time) are made at once."""
    try:
        plan = service.planner.create(who.name, **_fields(body, service))
    except MaintenanceError as error:
        raise_for(error)
    return _detail(service, plan)


@router.put("/{plan_id}", response_model=PlanDetail)
def update_plan(plan_id: Id, body: PlanIn, service: ServiceDep, _who: Planner) -> PlanDetail:
    """Change a plan as a whole (the body of a new one); what was made stays, the next
    occurrences follow the new schedule."""
    try:
        plan = service.planner.update(plan_id, **_fields(body, service))
    except MaintenanceError as error:
        raise_for(error)
    return _detail(service, plan)


@router.post("/{plan_id}/resume", response_model=PlanDetail)
def resume_plan(plan_id: Id, service: ServiceDep, _who: Planner) -> PlanDetail:
    """A paused plan runs again, from now."""
    try:
        plan = service.planner.resume(plan_id)
    except MaintenanceError as error:
        raise_for(error)
    return _detail(service, plan)


def _fields(body: PlanIn, service: ServiceDep) -> dict[str, Any]:
    """The stored fields of a plan from the body of a request."""
    fields = body.model_dump(exclude={"meter", "lead_time", "duration", "notice_before"})
    fields["lead_time_s"] = parse_duration(body.lead_time).total_seconds()
    fields["duration_s"] = parse_duration(body.duration).total_seconds()
    fields["notice_before_s"] = parse_duration(body.notice_before).total_seconds()
    if body.meter is not None:
        fields["meter_metric"] = body.meter.metric
        fields["meter_every"] = body.meter.every
    if body.asset and not body.kind:
        record = service.assets.get(body.site, body.asset)
        if record is None:
            raise HTTPException(404, f"no asset {body.site}/{body.asset}: register it first")
        fields["kind"] = record.kind
    return fields


def _detail(service: ServiceDep, plan: Plan) -> PlanDetail:
    occurrences = [occurrence_out(o) for o in service.planner.occurrences(plan.id)]
    return PlanDetail(
        **plan_out(plan, service.planner.next_run(plan, service.clock.now())),
        occurrences=occurrences,
    )


def occurrence_out(occurrence: Occurrence) -> OccurrenceOut:
    return OccurrenceOut.model_validate(occurrence, from_attributes=True)


@router.get("/templates")
def list_templates(_who: Viewer) -> dict[str, Any]:
    """Built-in checklist templates (TSG T5002 lift items by level, tank cleaning, ...) and
    the level ladders that stack them."""
    return {
        "items": [
            {"name": name, "title": t["title"], "items": t["items"]}
            for name, t in templates().items()
        ],
        "levels": [
            {
                "name": ladder.name,
                "every": ladder.base,
                "levels": [
                    {"name": x.name, "every_visit": x.every, "template": x.template,
                     "zh": x.zh, "en": x.en}
                    for x in ladder.levels
                ],
            }
            for ladder in LADDERS.values()
        ],
    }  # fmt: skip


@router.get("/{plan_id}/forecast", response_model=ForecastOut)
def plan_forecast(
    plan_id: Id,
    service: ServiceDep,
    _who: Viewer,
    days: Annotated[int, Query(ge=1, le=800, description="how far ahead")] = 365,
) -> ForecastOut:
    """The plan's visits from now on: each asset's slot and level (made or to come)."""
    plan = service.planner.plan(plan_id)
    if plan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no plan {plan_id}")
    now = service.clock.now()
    visits = forecast(service.planner, plan, now - timedelta(days=1), now + timedelta(days=days))
    return ForecastOut(
        plan_id=plan.id,
        items=[VisitOut.model_validate(v, from_attributes=True) for v in visits],
    )


@router.post("/{plan_id}/occurrences/{occurrence_id}/move", response_model=OccurrenceOut)
def move_occurrence(
    plan_id: Id, occurrence_id: Id, body: MoveIn, service: ServiceDep, who: Planner
) -> OccurrenceOut:
    """Move one occurrence's slot (its order's due time, deadlines and residents' notice move
    with it); 409 naming the asset and time if it would overlap another slot of the same
    building or station, or if its order is no longer open."""
    try:
        moved = service.planner.move(plan_id, occurrence_id, body.starts_at, actor_of(who))
    except MaintenanceError as error:
        raise_for(error)
    return occurrence_out(moved)


@router.get("/{plan_id}", response_model=PlanDetail)
def get_plan(plan_id: Id, service: ServiceDep, _who: Viewer) -> PlanDetail:
    plan = service.planner.plan(plan_id)
    if plan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no plan {plan_id}")
    return _detail(service, plan)


@router.delete("/{plan_id}", response_model=PlanDetail)
def deactivate_plan(plan_id: Id, service: ServiceDep, _who: Planner) -> PlanDetail:
    """Stop a plan (its history stays)."""
    try:
        plan = service.planner.deactivate(plan_id)
    except MaintenanceError as error:
        raise_for(error)
    return _detail(service, plan)
