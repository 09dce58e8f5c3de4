"""Prometheus exposition at ``/metrics`` (no prefix, as SPEC section 4 says)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from facility_dispatch.api.deps import ServiceDep, Viewer

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
def metrics(service: ServiceDep, _who: Viewer) -> Response:
    """Counters and gauges in Prometheus text format."""
    return Response(generate_latest(service.metrics_registry), media_type=CONTENT_TYPE_LATEST)
