"""API tokens in the console (``/tokens``): the list, a create form and revoking, for an admin
limited to no site, the same admin the API's token routes ask for
(:func:`facility_dispatch.api.deps.require`: a limited admin could otherwise widen itself).

The page only shows and offers: creating and revoking go through the JSON API
(``api/static/tokens.js``), so the API's checks and refusals are the ones shown. The secret
is in the API's answer to the create, shown that once in the page and never stored by it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.auth import Role
from facility_dispatch.api.dashboard.pages import PageDep

router = APIRouter(include_in_schema=False)

ROLES = ("viewer", "technician", "planner", "admin")


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(page: PageDep) -> HTMLResponse:
    user = page.user
    if user.role < Role.ADMIN:
        return page.render("missing.html", status_code=403, message=page.t("tokens.admin_only"))
    if user.sites is not None:  # the API's refusal, in the visitor's language
        message = page.t("tokens.limited_admin", sites=", ".join(sorted(user.sites)))
        return page.render("missing.html", status_code=403, message=message)
    technicians = page.service.people.technicians(limit=10_000)[0]
    names = {t.id: t.name for t in technicians}
    return page.render(
        "tokens.html",
        tokens=page.service.tokens.list(),
        roles=ROLES,
        known_sites=page.site_options(),
        technicians=technicians,
        names=names,
    )
