"""Spare parts: stock at each site, the ones under their reorder point first."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from facility_dispatch.api.dashboard.pages import PageDep

router = APIRouter(include_in_schema=False)


@router.get("/parts", response_class=HTMLResponse)
def parts_page(page: PageDep, site: str | None = None, low: bool = False) -> HTMLResponse:
    """The same catalogue as ``GET /api/v1/parts``; low stock sorts to the top and shows red."""
    parts = page.service.parts.catalogue(site or None, low)
    parts.sort(key=lambda p: (not any(s.low for s in p.stock), p.sku))
    return page.render(
        "parts.html",
        parts=parts,
        low_count=sum(1 for p in parts if any(s.low for s in p.stock)),
        site=site or "",
        low=low,
    )
