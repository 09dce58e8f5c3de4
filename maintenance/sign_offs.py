"""What the safety manager signs: the record of an order's work, read in the signing
transaction (the work-order service stores it with its digest, and nothing of it changes after).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facility_dispatch.kernel.clock import rfc3339
from facility_dispatch.maintenance.assignment import CERTIFICATE_FOR_SKILL
from facility_dispatch.maintenance.contractor_sql import ContractorTechnicianRow
from facility_dispatch.maintenance.contractors import licences
from facility_dispatch.maintenance.sql import (
    ChecklistRow,
    PartMovementRow,
    TechnicianRow,
    TimelineRow,
    WorkOrderRow,
)


def record_of(
    session: Session,
    row: WorkOrderRow,
    assignees: Sequence[int],
    signer: str,
    now: datetime,
    note: str | None,
) -> dict[str, Any]:
    """The record of the work as signed: plain JSON values only, so that its canonical form
    (:func:`facility_dispatch.maintenance.contractors.canonical`) and digest are stable."""
    certifications = {
        t.id: list(t.certifications or ())
        for t in session.scalars(select(TechnicianRow).where(TechnicianRow.id.in_(assignees)))
    }
    contracted: dict[int, str] = {}
    if row.contractor_id is not None:
        contracted = {
            r.technician_id: r.licence
            for r in session.scalars(
                select(ContractorTechnicianRow).where(
                    ContractorTechnicianRow.contractor_id == row.contractor_id
                )
            )
        }
    checklist = [
        {
            "position": c.position,
            "key": c.key,
            "text": c.text,
            "result": c.result,
            "value": c.value,
            "done_at": rfc3339(c.done_at) if c.done_at else None,
            "done_by": c.done_by,
            "note": c.note,
        }
        for c in session.scalars(
            select(ChecklistRow)
            .where(ChecklistRow.work_order_id == row.id)
            .order_by(ChecklistRow.position)
        )
    ]
    notes = [
        {
            "at": rfc3339(t.at),
            "actor": t.actor,
            "event": t.event,
            "note": t.note,
            "data": {k: t.data[k] for k in ("cause", "action") if k in (t.data or {})},
        }
        for t in session.scalars(
            select(TimelineRow)
            .where(
                TimelineRow.work_order_id == row.id,
                (TimelineRow.event == "note")
                | ((TimelineRow.event == "transition") & (TimelineRow.to_status == "resolved")),
            )
            .order_by(TimelineRow.id)
        )
    ]
    parts = [
        {
            "part_id": m.part_id,
            "action": m.action,
            "quantity": m.quantity,
            "at": rfc3339(m.at),
            "actor": m.actor,
        }
        for m in session.scalars(
            select(PartMovementRow)
            .where(PartMovementRow.work_order_id == row.id)
            .order_by(PartMovementRow.id)
        )
    ]
    return {
        "order": row.number,
        "site": row.site,
        "asset": row.asset,
        "kind": row.kind,
        "skill": row.skill,
        "fault": row.fault,
        "priority": row.priority,
        "resolved_at": rfc3339(row.resolved_at) if row.resolved_at else None,
        "contractor_id": row.contractor_id,
        "technicians": licences(
            assignees,
            certifications,
            contracted,
            CERTIFICATE_FOR_SKILL.get(row.skill),
        ),
        "checklist": checklist,
        "notes": notes,
        "parts": parts,
        "signer": signer,
        "signed_at": rfc3339(now),
        "sign_off_note": note,
    }
