"""The FastAPI application: its lifespan starts and stops the service it is given."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from facility_dispatch import __version__
from facility_dispatch.api.backend import Backend
from facility_dispatch.api.dashboard import STATIC_DIRECTORY
from facility_dispatch.api.dashboard import router as dashboard_router
from facility_dispatch.api.dashboard.pages import not_visible
from facility_dispatch.api.dashboard.session import NotVisible
from facility_dispatch.api.errors import install_handlers
from facility_dispatch.api.logins import Logins
from facility_dispatch.api.middleware import BodyLimit, SecurityHeaders
from facility_dispatch.api.openapi import document_errors
from facility_dispatch.api.routers import (
    alarms,
    assets,
    compliance,
    contractors,
    dead_letters,
    estates,
    events,
    health,
    metrics,
    notices,
    notifications,
    parts,
    people,
    planning,
    public_requests,
    reports,
    requests,
    rosters,
    rounds,
    silences,
    tokens,
    work_orders,
)
from facility_dispatch.api.scope import ScopeFilter
from facility_dispatch.api.validation import validation_failed


class FacilityApp(FastAPI):
    """FastAPI with the security headers outside everything, even the answer to a crash
    (Starlette's server-error middleware answers from outside any ``add_middleware``), and
    an OpenAPI document that says how each operation refuses."""

    _documented: dict[str, Any] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document (made again when routes change), with every operation's error
        answers (api/openapi.py)."""
        document = super().openapi()
        if document is not self._documented:
            self._documented = document_errors(document, self.routes)
        return document


def close_streams(app: FastAPI) -> None:
    """The server is stopping: end the live event streams now, so that shutdown does not wait
    out its grace period for dashboards that would never hang up (they reconnect, with
    ``Last-Event-ID``, to whichever server is up next)."""
    app.state.closing.set()
    app.state.service.events.notify()


def create_app(
    service: Backend,
    manage_service: bool = True,
    companions: Sequence[tuple[Callable[[], object], Callable[[], object]]] = (),
) -> FastAPI:
    """The app around ``service``; with ``manage_service`` its lifespan starts and stops it.
    ``companions`` are (start, stop) pairs run after the service starts and before it stops
    (the demo's simulated devices)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if manage_service:
            service.start()
        for start, _ in companions:
            start()
        try:
            yield
        finally:
            for _, stop in reversed(companions):
                stop()
            if manage_service:
                service.stop()

    app = FacilityApp(
        title="Facility Dispatch",
        version=__version__,
        description="Equipment telemetry, alarms and work orders for managed estates.",
        lifespan=lifespan,
    )
    app.state.service = service
    settings = service.settings
    admin_token = settings.admin_token.get_secret_value() if settings.admin_token else None
    app.state.logins = Logins(
        service.sessions,
        service.tokens,
        admin_token,
        idle=timedelta(hours=settings.session_idle_hours),
        max_age=timedelta(days=settings.session_max_days),
    )
    app.state.closing = threading.Event()
    install_handlers(app)
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_exception_handler(NotVisible, not_visible)  # a console page of another site
    app.add_middleware(
        BodyLimit, limit=service.settings.max_request_bytes, larger=public_requests.upload_limit
    )
    app.add_middleware(ScopeFilter)  # answers to callers limited to sites: theirs only
    for router in (
        health.router,
        assets.router,
        compliance.router,
        alarms.router,
        silences.router,
        work_orders.router,
        contractors.router,
        people.router,
        planning.router,
        parts.router,
        notices.router,
        notifications.router,
        reports.router,
        public_requests.router,
        requests.router,
        rosters.router,
        rounds.router,
        tokens.router,
        events.router,
        dead_letters.router,
        estates.router,
        metrics.router,
    ):
        app.include_router(router)
    app.include_router(dashboard_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static")
    return app
