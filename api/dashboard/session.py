"""Who is looking at a page: the token kept in the ``facility_token`` cookie after login.

The JSON API answers a missing or bad token with 401; a browser asking for a page is sent to
the login page instead (303), with the page to come back to. A refresh that htmx makes in the
background gets ``HX-Redirect``, so the whole window goes to the login page, not one region.
The cookie is HttpOnly (no script can read the token) and SameSite=Lax (another site cannot
make the browser post to the API with it); Secure when the page came over https.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import Response

from api.auth import Principal
from api.deps import SESSION_COOKIE, ServiceDep

COOKIE_MAX_AGE: Final = 30 * 86_400
"""A control-room screen stays signed in for a month (or until its token expires or is
revoked: every request checks the token again)."""


def safe_next(target: str | None) -> str:
    """Only a path on this site: ``next`` must not send anyone elsewhere after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def login_url(target: str) -> str:
    target = safe_next(target)
    return "/login" if target == "/" else f"/login?next={quote(target, safe='/')}"


def _page_path(request: Request) -> str:
    """The page the visitor was on: htmx names it in ``HX-Current-URL``."""
    current = request.headers.get("HX-Current-URL")
    if current:
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE) or None


def page_user(request: Request, service: ServiceDep) -> Principal:
    """The visitor, or a redirect to the login page (never a 401 page)."""
    token = token_of(request)
    principal = service.authenticate(token) if token else None
    if principal is not None:
        return principal
    target = login_url(_page_path(request))
    if request.headers.get("HX-Request") == "true":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "log in again", headers={"HX-Redirect": target}
        )
    raise HTTPException(status.HTTP_303_SEE_OTHER, "log in first", headers={"Location": target})


PageUser = Annotated[Principal, Depends(page_user)]


def keep_token(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def forget_token(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
