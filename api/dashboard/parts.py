"""Spare parts: stock at each site, the ones under their reorder point first; a part's ledger;
a planner receives deliveries and corrects a count (with its reason) from these pages."""

from __future__ import annotations

from dataclasses import replace

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
        "_parts.html",
        parts=parts,
        low_count=sum(1 for p in parts if any(s.low for s in p.stock)),
        site=site or "",
        low=low,
    )


@router.get("/parts/{part_id}", response_class=HTMLResponse)
def part_page(part_id: int, page: PageDep, site: str | None = None) -> HTMLResponse:
    """One part: its stock per site and every movement, newest first (``GET .../ledger``)."""
    part = page.service.parts.get(part_id)
    if part is None:
        return page.not_found(page.t("parts.missing", id=part_id))
    if page.user.sites is not None:  # the catalogue is the company's; the stock is per site
        part = replace(part, stock=tuple(s for s in part.stock if page.user.sees(s.site)))
    orders = {
        o.id: o.number for o in page.service.work_orders.query(site=site or None, limit=1000)[0]
    }
    return page.render(
        "part.html",
        part=part,
        ledger=page.service.parts.ledger(part_id, site or None),
        numbers=orders,
        site=site or "",
    )
