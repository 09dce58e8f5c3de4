"""ASGI middleware that guards every request and answer, whatever route (or none) takes it.

:class:`BodyLimit` refuses an oversized body before any parser or authentication sees it;
:class:`SecurityHeaders` puts the browser protections on every response, errors included.
Both are plain ASGI (no ``BaseHTTPMiddleware``): streams pass through them untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; "
    # inline style attributes (the KPI bars' widths) and htmx's indicator <style>
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY: Final = (
    # FastAPI's /docs and /redoc load Swagger UI and ReDoc from jsDelivr and start them
    # with an inline script: the one place scripts from elsewhere may run.
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS: Final = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


def _headers(policy: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]


_PAGE_HEADERS: Final = _headers(CONTENT_SECURITY_POLICY)
_DOCS_HEADERS: Final = _headers(DOCS_POLICY)
_OURS: Final = frozenset(name for name, _ in _PAGE_HEADERS)


class SecurityHeaders:
    """X-Frame-Options, Content-Security-Policy (``frame-ancestors 'none'``),
    X-Content-Type-Options and Referrer-Policy on every HTTP response; they replace any the
    app set, so no route can weaken them by accident."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _DOCS_HEADERS if scope.get("path") in DOCS_PATHS else _PAGE_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in _OURS
                ]
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` when a body without a (truthful) length grows past the limit:
    an HTTPException, so FastAPI's body reading lets it through and its handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """Refuse a request body larger than ``limit`` bytes with 413 ``{"detail": ...}``.

    A ``Content-Length`` past the limit is answered at once, before the app (its parsers, its
    authentication) runs at all. A body sent in chunks is counted as it arrives; the chunk that
    passes the limit is never handed on, and the app's read fails with :class:`BodyTooLargeError`.
    """

    def __init__(
        self, app: ASGIApp, limit: int, larger: Callable[[str], int | None] = lambda _: None
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = larger
        """A path's own limit, where a body may be larger (a resident's photos)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger(scope.get("path", "")) or self.limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            if started:  # read by a streaming answer: nothing better to do than end it
                raise
            await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it before us; count what arrives anyway
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = orjson.dumps({"detail": f"the request body is larger than {limit} bytes"})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
