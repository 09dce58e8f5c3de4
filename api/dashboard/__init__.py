"""The engineers' dashboard: server-rendered pages at ``/`` over the same service as the API.

Pages are Jinja2 templates (``api/templates/dashboard``), autoescaped; the little script they
need (``api/static``) refreshes live regions from the API's event stream and posts actions to
the JSON API, so every rule about who may do what stays in one place, the API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from facility_dispatch.api.dashboard import (
    assets,
    contractors,
    estate,
    kpis,
    login,
    notices,
    notify,
    orders,
    parts,
    people,
    plans,
    public,
    records,
    requests,
    rollup,
    rosters,
    rounds,
    sites,
    tokens,
)

STATIC_DIRECTORY = Path(__file__).resolve().parents[1] / "static"
"""Mounted at ``/static`` by the app: the dashboard's CSS and scripts, and the vendored ones."""

router = APIRouter(include_in_schema=False)
for module in (
    login,
    estate,
    rollup,
    records,
    orders,
    assets,
    plans,
    people,
    parts,
    kpis,
    notify,
    sites,
    tokens,
):
    router.include_router(module.router)
for module in (public, requests, notices):  # residents' pages (SPEC section 5), notices
    router.include_router(module.router)
for module in (rosters, rounds):  # posts, handovers and patrol rounds
    router.include_router(module.router)
router.include_router(contractors.router)  # maintenance contractors

__all__ = ["STATIC_DIRECTORY", "router"]
