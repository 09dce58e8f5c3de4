"""The company roll-up page: every estate the visitor may see, side by side (issue 19).

The same figures as ``GET /api/v1/estates`` (:func:`facility_dispatch.api.rollup.gather`), as
one card per site, the most urgent first; a login limited to sites sees its own only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard.pages import PageDep
from facility_dispatch.api.rollup import gather

router = APIRouter(include_in_schema=False)


@router.get("/estates", response_class=HTMLResponse)
def estates_page(page: PageDep, days: Annotated[int, Query(ge=1, le=366)] = 30) -> HTMLResponse:
    return page.render(
        "estates.html",
        "_estates.html",
        estates=gather(page.service, page.user.sees, days),
        days=days,
        periods=(7, 30, 90),
    )
