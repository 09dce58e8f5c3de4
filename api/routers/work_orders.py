"""Work orders: list, create by hand, one with its timeline, lifecycle, assignment, checklist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from facility_dispatch.api.deps import Planner, ServiceDep, Technician, Viewer
from facility_dispatch.api.errors import actor_of, raise_for
from facility_dispatch.api.pagination import Id, IdQuery, Limit, Offset, Page, RowId, page
from facility_dispatch.api.types import (
    AssetName,
    AssetQuery,
    Input,
    Kind,
    SiteName,
    SiteQuery,
    UtcDateTime,
)
from facility_dispatch.maintenance.contractors import needs_sign_off
from facility_dispatch.maintenance.errors import MaintenanceError
from facility_dispatch.maintenance.orders import WorkOrder

router = APIRouter(prefix="/api/v1/work-orders", tags=["work orders"])

Status = Literal[
    "open", "assigned", "acknowledged", "in_progress", "on_hold", "resolved", "closed", "cancelled"
]
PriorityName = Literal["P1", "P2", "P3", "P4"]
ReadingValue = (
    Annotated[int, Field(ge=-(2**63), lt=2**63)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | Annotated[str, Field(max_length=200)]
    | bool
)
"""A checklist reading: what a meter or a gauge shows, within what the database holds."""


class TimelineOut(BaseModel):
    at: datetime
    actor: str
    event: str
    from_: str | None = Field(serialization_alias="from")
    to: str | None
    note: str | None
    data: dict[str, Any]


class ChecklistOut(BaseModel):
    id: int
    position: int
    key: str | None
    text: str
    target_at: datetime | None
    result: str | None
    value: Any
    done_at: datetime | None
    done_by: str | None
    note: str | None


class SignOffOut(BaseModel):
    signed_at: datetime
    signer: str
    note: str | None
    record: dict[str, Any] = Field(
        description="what was signed: technicians and their licence numbers, checklist "
        "results, notes and parts of the work"
    )
    digest: str = Field(description="SHA-256 of the record as canonical JSON (sorted keys)")


class WorkOrderOut(BaseModel):
    id: int
    number: str
    title: str
    description: str
    site: str
    asset: str | None
    kind: str | None
    building: str | None
    source: Literal["alarm", "preventive", "manual", "resident"]
    channel: str | None
    reporter: str | None
    fault: str | None
    priority: PriorityName
    skill: str
    status: Status
    allowed: list[str] = Field(description="the statuses this order may move to next")
    assignees: list[int]
    alarm_ids: list[int]
    respond_by: datetime
    resolve_by: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_breached: bool
    response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    escalation: str | None
    plan_id: int | None
    due_at: datetime | None
    cost: float
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineOut]
    checklist: list[ChecklistOut]
    contractor_id: int | None = Field(description="the contractor lift work was dispatched to")
    sign_off_required: bool = Field(
        description="lift and electrical work: closed only after the safety manager signs off"
    )
    sign_off: SignOffOut | None


def order_out(order: WorkOrder) -> WorkOrderOut:
    return WorkOrderOut(
        **{
            name: getattr(order, name)
            for name in WorkOrderOut.model_fields
            if name
            not in (
                "allowed",
                "sla_breached",
                "timeline",
                "checklist",
                "assignees",
                "alarm_ids",
                "sign_off_required",
                "sign_off",
            )
        },
        sign_off_required=needs_sign_off(order.kind, order.skill),
        sign_off=SignOffOut.model_validate(order.sign_off, from_attributes=True)
        if order.sign_off
        else None,
        allowed=list(order.allowed),
        sla_breached=order.breached,
        assignees=list(order.assignees),
        alarm_ids=list(order.alarm_ids),
        timeline=[
            TimelineOut(
                at=t.at,
                actor=t.actor,
                event=t.event,
                from_=t.from_,
                to=t.to,
                note=t.note,
                data=t.data,
            )
            for t in order.timeline
        ],
        checklist=[ChecklistOut.model_validate(c, from_attributes=True) for c in order.checklist],
    )


class NoticeRequest(Input):
    """The works cut a service: residents get a notice (Chinese and English)."""

    service: Literal["water", "elevator", "power"]
    starts_at: UtcDateTime
    ends_at: UtcDateTime | None = None


class ManualOrderIn(Input):
    """A resident's complaint or a walk-round finding."""

    site: SiteName
    asset: AssetName | None = None
    kind: Kind | None = None
    building: str | None = Field(default=None, max_length=100)
    title: str = Field(min_length=2, max_length=300)
    description: str = Field(default="", max_length=5000)
    priority: PriorityName = "P3"
    skill: str = Field(default="general", pattern=r"^[a-z][a-z0-9_-]*$")
    fault: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    channel: Literal["phone", "app", "wechat", "walk_in", "walk_round"]
    reporter: str | None = Field(default=None, max_length=200, description="name and phone")
    checklist: list[str] = Field(default_factory=list, max_length=100)
    notice: NoticeRequest | None = None


class TransitionIn(Input):
    to: Status
    note: str | None = Field(default=None, max_length=2000)
    cause: str | None = Field(
        default=None, max_length=2000, description="resolving: what caused the fault"
    )
    action: str | None = Field(
        default=None, max_length=2000, description="resolving: what was done to fix it"
    )


class AssignIn(Input):
    technician_ids: list[RowId] | None = Field(
        default=None, description="by hand, lead first; omit to let the dispatch rules choose"
    )
    note: str | None = Field(default=None, max_length=2000)
    contractor_id: RowId | None = Field(
        default=None,
        description="lift work: dispatch to this contractor (its contract must cover the work "
        "and be in force: 409 saying why otherwise); omit for the contractor covering the site",
    )


class SignOffIn(Input):
    note: str | None = Field(default=None, max_length=2000)


class ChecklistIn(Input):
    result: Literal["done", "not_done", "reading"]
    value: ReadingValue | None = None
    note: str | None = Field(default=None, max_length=2000)
    at: UtcDateTime | None = Field(default=None, description="when it happened; default now")


class NoteIn(Input):
    note: str = Field(min_length=1, max_length=5000)


@router.get("", response_model=Page[WorkOrderOut], response_model_by_alias=True)
def list_work_orders(
    service: ServiceDep,
    _who: Viewer,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    priority: PriorityName | None = None,
    site: SiteQuery = None,
    asset: AssetQuery = None,
    source: Literal["alarm", "preventive", "manual", "resident"] | None = None,
    assignee: IdQuery = None,
    breached: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[WorkOrderOut]:
    """Newest first; ``status`` may be given more than once."""
    orders, total = service.work_orders.query(
        status=status_,
        priority=priority,
        site=site,
        asset=asset,
        source=source,
        assignee=assignee,
        breached=breached,
        limit=limit,
        offset=offset,
    )
    return page([order_out(o) for o in orders], total, offset, service.settings.max_page_bytes)


@router.post(
    "",
    response_model=WorkOrderOut,
    status_code=status.HTTP_201_CREATED,
    response_model_by_alias=True,
)
def create_work_order(body: ManualOrderIn, service: ServiceDep, who: Technician) -> WorkOrderOut:
    """A manual order (source ``manual``), assigned at once by the dispatch rules. With a
    ``notice``, the residents affected are told (Chinese and English, API and MQTT)."""
    notice = body.notice
    try:
        order = service.work_orders.create(
            actor_of(who),
            source="manual",
            interrupts=notice.service if notice else None,
            **body.model_dump(exclude={"notice"}),
        )
    except MaintenanceError as error:
        raise_for(error)
    if notice is not None:
        service.notices.announce(
            body.site,
            notice.service,
            notice.starts_at,
            notice.ends_at,
            body.title,
            building=body.building,
            asset=body.asset,
            work_order_id=order.id,
        )
    return order_out(order)


@router.get("/{order_id}", response_model=WorkOrderOut, response_model_by_alias=True)
def get_work_order(order_id: Id, service: ServiceDep, _who: Viewer) -> WorkOrderOut:
    order = service.work_orders.get(order_id)
    if order is None:
        raise_for(LookupError(f"no work order {order_id}"))
    return order_out(order)


@router.post("/{order_id}/transition", response_model=WorkOrderOut, response_model_by_alias=True)
def transition(
    order_id: Id, body: TransitionIn, service: ServiceDep, who: Technician
) -> WorkOrderOut:
    """Follow the lifecycle; an illegal step answers 409 naming the allowed ones. A technician
    moves only the orders assigned to them, and a P1 is closed or cancelled by a planner (403).
    Closing a P1 with playbook steps not ticked needs a ``note`` saying why (409 otherwise)."""
    try:
        return order_out(
            service.work_orders.transition(
                order_id, body.to, actor_of(who), body.note, body.cause, body.action
            )
        )
    except MaintenanceError as error:
        raise_for(error)


@router.post("/{order_id}/assign", response_model=WorkOrderOut, response_model_by_alias=True)
def assign(order_id: Id, body: AssignIn, service: ServiceDep, who: Planner) -> WorkOrderOut:
    """A planner's override, or the dispatch rules again (no ids); the rules do not choose who
    handed the order back. Choosing the people it already has changes nothing: the order comes
    back as it was, with no new entry and no ``work_order.assigned`` event."""
    try:
        return order_out(
            service.work_orders.assign(
                order_id, actor_of(who), body.technician_ids, body.note, body.contractor_id
            )
        )
    except MaintenanceError as error:
        raise_for(error)


@router.post("/{order_id}/sign-off", response_model=WorkOrderOut, response_model_by_alias=True)
def sign_off(order_id: Id, body: SignOffIn, service: ServiceDep, who: Technician) -> WorkOrderOut:
    """The site's safety manager (a token with ``safety_manager``; a viewer changes nothing, so
    at least the technician role) signs a resolved lift or electrical order off: the record is
    stored with its SHA-256 digest and cannot change after (409); only then may the order be
    closed. Others get 403."""
    try:
        return order_out(service.work_orders.sign_off(order_id, actor_of(who), body.note))
    except MaintenanceError as error:
        raise_for(error)


@router.post(
    "/{order_id}/checklist/{item_id}", response_model=WorkOrderOut, response_model_by_alias=True
)
def tick(
    order_id: Id, item_id: Id, body: ChecklistIn, service: ServiceDep, who: Technician
) -> WorkOrderOut:
    """Tick a checklist item (a playbook step, an inspection item) with its time."""
    try:
        order = service.work_orders.tick(
            order_id, item_id, body.result, actor_of(who), body.value, body.note, body.at
        )
    except MaintenanceError as error:
        raise_for(error)
    return order_out(order)


@router.post("/{order_id}/notes", response_model=WorkOrderOut, response_model_by_alias=True)
def add_note(order_id: Id, body: NoteIn, service: ServiceDep, who: Technician) -> WorkOrderOut:
    try:
        return order_out(service.work_orders.note(order_id, actor_of(who), body.note))
    except MaintenanceError as error:
        raise_for(error)
