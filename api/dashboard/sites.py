"""Site settings: a site's name (and its English name, for English pages and notices), local
time, supervisor, buildings and supply (the nominal voltage and frequency that the rules'
voltage and frequency limits follow). A planner edits them here through
``PUT /api/v1/sites/{site}``; everyone else sees them read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.maintenance.people import Site

router = APIRouter(include_in_schema=False)


def settings_of(site: str, record: Site | None) -> dict[str, Any]:
    """The body ``PUT /api/v1/sites/{site}`` takes, as the site has it now (the defaults for a
    site known only by its assets). The form changes some fields and sends the rest back as
    they were, since the PUT replaces the whole record."""
    if record is None:
        return {"name": site, "timezone": "Asia/Shanghai", "buildings": []}
    return {
        "name": record.name,
        "name_en": record.name_en,
        "timezone": record.timezone,
        "locale": record.locale,
        "supervisor": record.supervisor,
        "contacts": record.contacts,
        "service_levels": record.service_levels,
        "buildings": list(record.buildings),
        "nominal_voltage_v": record.nominal_voltage_v,
        "nominal_frequency_hz": record.nominal_frequency_hz,
    }


@router.get("/sites", response_class=HTMLResponse)
def sites_page(page: PageDep) -> HTMLResponse:
    known = {s.site: s for s in page.service.people.sites()}
    return page.render(
        "sites.html",
        sites=[(site, settings_of(site, known.get(site))) for site in page.site_options()],
    )
