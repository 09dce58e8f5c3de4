"""Notices to residents in the console: the ones residents see now (urgent first, each in the
visitor's language with the other language's text at hand), a form to issue one by hand (works
or an outage the sensors cannot see: a municipal water cut, a lift stopped for an inspection)
and a button to withdraw one.

Everyone who may read notices sees the list; the form and the buttons are a planner's, and post
to the JSON API (``static/notices.js``: ``POST /api/v1/notices``, ``DELETE
/api/v1/notices/{id}``), so its rules on roles and sites apply as they are.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard.pages import PageDep

router = APIRouter(include_in_schema=False)
SERVICES = ("water", "elevator", "power")


@router.get("/notices", response_class=HTMLResponse)
def notices_page(page: PageDep, site: str | None = None) -> HTMLResponse:
    shown = [
        n for n in page.service.notices.query(site or None, page.now) if page.user.sees(n.site)
    ]
    sites = page.site_options()
    return page.render(
        "notices.html",
        site=site or "",
        notices=shown,
        sites=sites,
        buildings={s: list(page.sites[s].buildings) for s in sites if s in page.sites},
        services=SERVICES,
    )
