"""Liveness and readiness: the only endpoints open without a token."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from facility_dispatch.api.deps import ServiceDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    broker: Literal["connected", "disconnected"]
    database: Literal["ok", "error"]
    telemetry_store: Literal["ok", "error"]
    ingest_queue: int
    ingest_lag_seconds: float
    """How old the newest reading of the last stored batch was when it was stored: under more
    load than the service can take, the backlog waits in the broker and this grows."""
    scheduler_leader: bool
    stopped_workers: list[str] = []
    """The service's threads (ingest, dispatcher, leadership) that have died: any makes it
    degraded and not ready, and ``facility run`` exits non-zero."""


def _health(service: ServiceDep) -> Health:
    broker = service.mqtt.connected
    database = service.database_ok()
    store = service.store.healthy() and service.pipeline.store_healthy
    stopped = service.stopped_workers()
    healthy = broker and database and store and not stopped and not service.pipeline.behind
    return Health(
        status="ok" if healthy else "degraded",
        broker="connected" if broker else "disconnected",
        database="ok" if database else "error",
        telemetry_store="ok" if store else "error",
        ingest_queue=service.pipeline.queue_depth,
        ingest_lag_seconds=round(service.pipeline.lag_seconds, 3),
        scheduler_leader=bool(service.leadership and service.leadership.leading),
        stopped_workers=stopped,
    )


@router.get("/api/v1/health", response_model=Health)
def health(service: ServiceDep) -> Health:
    """Liveness plus broker and database state (always 200 while the process serves)."""
    return _health(service)


@router.get("/api/v1/health/live", include_in_schema=True)
def live() -> dict[str, str]:
    """The process answers: for a liveness probe that should only restart a hung process."""
    return {"status": "ok"}


@router.get("/api/v1/health/ready", response_model=Health)
def ready(service: ServiceDep, response: Response) -> Health:
    """503 until the broker and the database are reachable: for a load balancer. A service
    that is only behind stays ready: taking it out of rotation would not help it catch up."""
    result = _health(service)
    broken = (
        result.broker != "connected"
        or result.database != "ok"
        or result.telemetry_store != "ok"
        or result.stopped_workers
    )
    if broken:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return result
