"""Maintenance plans (calendar or meter based) and their occurrences; checklist templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, model_validator

from facility_dispatch.api.deps import Planner, ServiceDep, Viewer
from facility_dispatch.api.errors import raise_for
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, page
from facility_dispatch.api.types import AssetName, Input, Kind, SiteName, SiteQuery, UtcDateTime
from facility_dispatch.kernel.durations import DurationError, format_duration, parse_duration
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.planning import Plan, templates

router = APIRouter(prefix="/api/v1/maintenance-plans", tags=["planning"])
DurationText = Annotated[str, Field(examples=["15d", "7d", "4h"])]


class MeterIO(Input):
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]*$", examples=["door_cycles", "pump_run_hours"])
    every: float = Field(gt=0, le=1e12, allow_inf_nan=False, examples=[50000])


class PlanIn(Input):
    name: str = Field(min_length=3, max_length=200)
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
    next_order_at: datetime | None = Field(description="when the next order will be made")


class OccurrenceOut(BaseModel):
    asset: str
    key: str
    due_at: datetime
    status: Literal["generating", "generated", "skipped"]
    work_order_id: int | None
    reason: str | None


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
    occurrences = [
        OccurrenceOut.model_validate(o, from_attributes=True)
        for o in service.planner.occurrences(plan.id)
    ]
    return PlanDetail(
        **plan_out(plan, service.planner.next_run(plan, service.clock.now())),
        occurrences=occurrences,
    )


@router.get("/templates")
def list_templates(_who: Viewer) -> dict[str, Any]:
    """Built-in checklist templates (TSG T5002 half-monthly lift items, tank cleaning, ...)."""
    return {
        "items": [
            {"name": name, "title": t["title"], "items": t["items"]}
            for name, t in templates().items()
        ]
    }


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
