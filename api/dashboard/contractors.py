"""Maintenance contractors (维保单位): each contract's dates, duty phone, the sites and kinds it
covers, its response time and notify receiver, and its technicians with their licence numbers.
A planner creates and edits them here through ``/api/v1/contractors``; everyone else reads."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.ingest.topics import KINDS

router = APIRouter(include_in_schema=False)


@router.get("/contractors", response_class=HTMLResponse)
def contractors_page(page: PageDep) -> HTMLResponse:
    service = page.service
    found, _ = service.work_orders.contractors.listing(limit=1000)
    technicians, _ = service.people.technicians(limit=100_000)
    if page.user.sites is not None:  # a login limited to sites: the contractors working there
        found = [c for c in found if not c.sites or any(page.user.sees(s) for s in c.sites)]
        technicians = [t for t in technicians if not t.sites or any(map(page.user.sees, t.sites))]
    today = page.now.astimezone(page.default_zone).date()
    return page.render(
        "contractors.html",
        contractors=found,
        technicians=technicians,
        names={t.id: t.name for t in technicians},
        licence_maps={c.id: {t.technician_id: t.licence for t in c.technicians} for c in found},
        kinds=KINDS,
        site_choices=page.site_options(),
        today=today,
    )
