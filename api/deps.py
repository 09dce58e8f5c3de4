"""FastAPI dependencies: the service, and the caller's identity checked against a role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal, Role
from facility.service import Service

SESSION_COOKIE = "facility_token"
_bearer = HTTPBearer(auto_error=False, description="a token created by an admin")


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_principal(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    if credentials is None and token and request.method not in ("GET", "HEAD", "OPTIONS"):
        _same_origin(request)
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = service.authenticate(token)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "token unknown, revoked or expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def _same_origin(request: Request) -> None:
    """A browser sends the cookie with a form posted from another site too (SameSite=Lax
    stops most, not all): a change made with the cookie alone must come from our own pages."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    host = request.headers.get("host", "")
    if origin is None or urlsplit(origin).netloc != host:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "a change made with the login cookie must come from this site's pages",
        )


def require(role: Role) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role < role:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs the {role.label} role; the token has {principal.role.label}",
            )
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Technician = Annotated[Principal, Depends(require(Role.TECHNICIAN))]
Planner = Annotated[Principal, Depends(require(Role.PLANNER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
