"""API tokens (admin only): create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from facility_dispatch.api.auth import Role
from facility_dispatch.api.deps import Admin, ServiceDep
from facility_dispatch.api.pagination import Id, Limit, Offset, Page, RowId, page
from facility_dispatch.api.tokens import TokenInfo, UnknownSitesError
from facility_dispatch.api.types import Input, SiteName, UtcDateTime

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenIn(Input):
    name: str = Field(min_length=1, max_length=100, description="whose token: a person or a system")
    role: Literal["viewer", "technician", "planner", "admin"]
    technician_id: RowId | None = Field(default=None, description="the technician it speaks for")
    expires_at: UtcDateTime | None = None
    safety_manager: bool = Field(
        default=False,
        description="the site's safety manager: signs lift and electrical orders off (a duty, "
        "not a role: an admin is not one by rank)",
    )
    sites: list[SiteName] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="sees and acts on these sites only; null: every site",
    )


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    technician_id: int | None
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    safety_manager: bool
    sites: list[str] | None = Field(description="the sites it is limited to; null: every site")


class NewTokenOut(TokenOut):
    token: str = Field(description="the secret: shown this once, stored only as a hash")


def _out(info: TokenInfo) -> TokenOut:
    return TokenOut.model_validate(info, from_attributes=True)


@router.post("", response_model=NewTokenOut, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, service: ServiceDep, who: Admin) -> NewTokenOut:
    if body.technician_id is not None and service.people.technician(body.technician_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no technician {body.technician_id}")
    try:
        secret, info = service.tokens.create(
            body.name,
            Role.parse(body.role),
            who.name,
            service.clock.now(),
            body.expires_at,
            body.technician_id,
            body.sites,
            safety_manager=body.safety_manager,
        )
    except UnknownSitesError as error:
        raise HTTPException(422, f"sites: {error}") from None
    return NewTokenOut(**_out(info).model_dump(), token=secret)


@router.get("", response_model=Page[TokenOut])
def list_tokens(
    service: ServiceDep, _who: Admin, limit: Limit = 100, offset: Offset = 0
) -> Page[TokenOut]:
    tokens = service.tokens.list()
    chosen = tokens[offset : offset + limit]
    return page([_out(t) for t in chosen], len(tokens), offset, service.settings.max_page_bytes)


@router.delete("/{token_id}", response_model=TokenOut)
def revoke_token(token_id: Id, service: ServiceDep, _who: Admin) -> TokenOut:
    """Revoked at once: the next request with it, or with a dashboard session opened with
    it, gets 401, and its open event streams close."""
    info = service.tokens.revoke(token_id, service.clock.now())
    if info is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no token {token_id}")
    service.events.notify()  # its open event streams check their caller again, and close
    return _out(info)
