"""FastAPI dependencies: the service, and the caller's identity checked against a role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from facility_dispatch.api.auth import Principal, Role
from facility_dispatch.api.backend import Backend
from facility_dispatch.api.logins import Logins
from facility_dispatch.api.scope import check_request

SESSION_COOKIE = "facility_token"
_bearer = HTTPBearer(auto_error=False, description="a token created by an admin")


def get_service(request: Request) -> Backend:
    service: Backend = request.app.state.service
    return service


ServiceDep = Annotated[Backend, Depends(get_service)]


def get_logins(request: Request) -> Logins:
    logins: Logins = request.app.state.logins
    return logins


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def principal_of(request: Request, service: Backend) -> Principal | None:
    """Who the request speaks for: its bearer token, else its dashboard session (the cookie
    holds a session id, never a token), checked again now. The event stream asks this again
    while it runs, so a revoked token or an ended session closes it."""
    token = bearer_token(request)
    if token is not None:
        return service.authenticate(token)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        return get_logins(request).verify(session_id, service.clock.now())
    return None


def get_principal(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    session_id = request.cookies.get(SESSION_COOKIE)
    if credentials is None and not session_id:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if credentials is None and request.method not in ("GET", "HEAD", "OPTIONS"):
        same_origin(request)
    principal = principal_of(request, service)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "token unknown, revoked or expired"
            if credentials is not None
            else "the login has ended (logged out, too long unused, or its token revoked)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def same_origin(request: Request) -> None:
    """A browser sends the cookie with a form posted from another site too (SameSite=Lax
    stops most, not all), and another site can post its own token to our login form (login
    CSRF): a change made with the cookie, a login and a logout must come from our own pages."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    host = request.headers.get("host", "")
    if origin is None or urlsplit(origin).netloc != host:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "a change made with the login cookie must come from this site's pages",
        )


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """The caller, if their role is at least ``role``; and, for a caller limited to sites,
    every site the request names checked (:mod:`facility_dispatch.api.scope`). The admin
    routes are company-wide (tokens, notification config): a limited admin may not use them,
    so cannot give itself a wider token."""

    async def check(
        request: Request,
        service: ServiceDep,
        principal: Annotated[Principal, Depends(get_principal)],
    ) -> Principal:
        if principal.role < role:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs the {role.label} role; the token has {principal.role.label}",
            )
        if role >= Role.ADMIN and principal.sites is not None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "this is company-wide: it needs an admin token for every site; this one is "
                f"limited to {', '.join(sorted(principal.sites))}",
            )
        await check_request(request, service, principal)
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Technician = Annotated[Principal, Depends(require(Role.TECHNICIAN))]
Planner = Annotated[Principal, Depends(require(Role.PLANNER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
