"""Who is looking at a page: the dashboard session whose id the ``facility_token`` cookie holds
after login (:mod:`facility_dispatch.api.logins`; the token itself never goes into the cookie).

The JSON API answers a missing or bad login with 401; a browser asking for a page is sent to
the login page instead (303), with the page to come back to. A refresh that htmx makes in the
background gets ``HX-Redirect``, so the whole window goes to the login page, not one region.
The cookie is HttpOnly (no script can read it) and SameSite=Lax (another site cannot make the
browser post to the API with it); Secure when the page came over https.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from facility_dispatch.api.auth import Principal
from facility_dispatch.api.deps import SESSION_COOKIE, ServiceDep, principal_of
from facility_dispatch.api.scope import check_request


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


class NotVisible(Exception):  # noqa: N818 (a refusal, answered as a page)
    """A page names a site, or a resource of a site, that the visitor's login is limited away
    from: the console answers its "not found" page (404), in the visitor's language, as for
    what does not exist (``facility_dispatch.api.dashboard.pages.not_visible``)."""

    def __init__(self, user: Principal) -> None:
        super().__init__("not found")
        self.user = user


async def page_user(request: Request, service: ServiceDep) -> Principal:
    """The visitor, or a redirect to the login page (never a 401 page). A visitor limited to
    sites sees theirs only (:mod:`facility_dispatch.api.scope`)."""
    principal = await run_in_threadpool(principal_of, request, service)
    if principal is not None:
        try:
            await check_request(request, service, principal, dashboard=True)
        except HTTPException as refused:
            if refused.status_code == 404 and request.headers.get("HX-Request") != "true":
                raise NotVisible(principal) from None
            raise
        return principal
    target = login_url(_page_path(request))
    if request.headers.get("HX-Request") == "true":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "log in again", headers={"HX-Redirect": target}
        )
    raise HTTPException(status.HTTP_303_SEE_OTHER, "log in first", headers={"Location": target})


PageUser = Annotated[Principal, Depends(page_user)]


def keep_session(response: Response, request: Request, session_id: str, max_age: timedelta) -> None:
    """The session id in the cookie, for as long as the session may last at most (the
    server ends it sooner when it is not used, or its token is revoked)."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(max_age.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def forget_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
