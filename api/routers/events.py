"""Server-sent events: alarm and work-order changes as they happen, resumable by id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from facility_dispatch.api.deps import ServiceDep, Viewer, principal_of
from facility_dispatch.api.types import EVENT_ID_MAX, SiteQuery
from facility_dispatch.kernel.clock import rfc3339

router = APIRouter(tags=["events"])

KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 2.0  # another worker's events are noticed this late at worst


@router.get(
    "/api/v1/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    request: Request,
    service: ServiceDep,
    who: Viewer,
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[
        int | None, Query(ge=0, le=EVENT_ID_MAX, description="resume after this event id")
    ] = None,
    site: SiteQuery = None,
) -> StreamingResponse:
    """``text/event-stream``; each event has an ``id``: reconnect with ``Last-Event-ID`` to
    resume without gaps (it wins over ``?since=``, which says where a first connection
    starts). With neither, the stream starts from now. A caller limited to sites gets their
    sites' events only. The stream ends as soon as its token
    is revoked or expires, or its dashboard session ends."""
    resume = _event_id(last_event_id)
    if resume is not None:
        after = resume  # a reconnect: EventSource sends the last id it saw
    elif since is not None:
        after = since
    else:
        after = await run_in_threadpool(service.events.last_id)
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def woken() -> None:
        loop.call_soon_threadsafe(wake.set)

    unsubscribe = service.events.on_change(woken)

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for chunk in _stream():
                yield chunk
        finally:
            unsubscribe()

    async def _stream() -> AsyncIterator[bytes]:
        nonlocal after
        yield b"retry: 3000\n\n"
        idle = 0.0
        closing = request.app.state.closing
        while not closing.is_set() and not await request.is_disconnected():
            if await run_in_threadpool(principal_of, request, service) is None:
                return  # revoked, expired or logged out: the reconnect gets its 401
            batch = await run_in_threadpool(service.events.since, after, 500, site, who.sites)
            for event in batch:
                after = event.id
                data = orjson.dumps(
                    {"id": event.id, "at": rfc3339(event.at), "type": event.type, **event.payload}
                )
                yield b"id: %d\nevent: %s\ndata: %s\n\n" % (event.id, event.type.encode(), data)
            if batch:
                idle = 0.0
                continue
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)
            except TimeoutError:
                idle += POLL_SECONDS
                if idle >= KEEPALIVE_SECONDS:
                    idle = 0.0
                    yield b": keepalive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event_id(header: str | None) -> int | None:
    """A ``Last-Event-ID`` we could have sent: ASCII digits within 64 bits (anything else,
    e.g. ``²``, which ``str.isdigit`` takes, is ignored rather than passed to the database)."""
    if header and len(header) <= 19 and header.isascii() and header.isdigit():
        return int(header) if int(header) <= EVENT_ID_MAX else None
    return None
