"""API tokens: created by an admin, shown once, stored as a hash, revocable, optionally expiring."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, false, select, union, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from facility_dispatch.api.auth import Principal, Role, hash_token
from facility_dispatch.ingest.sql import AssetRow
from facility_dispatch.kernel.db import Base, Sessions
from facility_dispatch.maintenance.sql import SiteRow

PREFIX = "fd_"


class TokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    safety_manager: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sites: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    """The sites the token sees and acts on; null: every site."""


class UnknownSitesError(ValueError):
    """A token limited to a site the service does not know (a typo would lock it out)."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        self.unknown = unknown
        super().__init__(
            (f"unknown site(s) {', '.join(unknown)}" if unknown else "sites must name a site")
            + f"; known: {', '.join(known) or 'none yet'}"
        )


def known_sites(session: Session) -> list[str]:
    """Sites the service knows: those configured (``PUT /sites/{site}``) and those with assets."""
    rows = session.execute(union(select(SiteRow.site), select(AssetRow.site).distinct()))
    return sorted({r[0] for r in rows})


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    role: str
    technician_id: int | None
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    sites: tuple[str, ...] | None = None
    safety_manager: bool = False


def _principal(row: TokenRow | None, now: datetime) -> Principal | None:
    """The caller a token speaks for, while it is neither revoked nor expired."""
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    sites = frozenset(row.sites) if row.sites is not None else None
    return Principal(
        row.name,
        Role.parse(row.role),
        row.technician_id,
        row.id,
        sites,
        bool(row.safety_manager),
    )


def _info(row: TokenRow) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        row.role,
        row.technician_id,
        row.created_at,
        row.created_by,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
        tuple(row.sites) if row.sites is not None else None,
        bool(row.safety_manager),
    )


class Tokens:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def create(
        self,
        name: str,
        role: Role,
        created_by: str,
        now: datetime,
        expires_at: datetime | None = None,
        technician_id: int | None = None,
        sites: Collection[str] | None = None,
        safety_manager: bool = False,
    ) -> tuple[str, TokenInfo]:
        """A new token: the secret is returned here and never again. With ``sites`` it sees
        and acts on those sites only; each must be known (:class:`UnknownSitesError`)."""
        secret = PREFIX + secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            if sites is not None:
                known = known_sites(session)
                unknown = sorted(set(sites) - set(known))
                if unknown or not sites:
                    raise UnknownSitesError(unknown, known)
            row = TokenRow(
                name=name,
                role=role.label,
                technician_id=technician_id,
                digest=hash_token(secret),
                created_at=now,
                created_by=created_by,
                expires_at=expires_at,
                sites=sorted(set(sites)) if sites is not None else None,
                safety_manager=safety_manager,
            )
            session.add(row)
            session.flush()
            return secret, _info(row)

    def verify(self, secret: str, now: datetime) -> Principal | None:
        if not secret.startswith(PREFIX):
            return None
        with self._sessions() as session:
            row = session.scalars(
                select(TokenRow).where(TokenRow.digest == hash_token(secret))
            ).first()
        principal = _principal(row, now)
        if row is None or principal is None:
            return None
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            # at most once a minute, and in a transaction of its own: on SQLite a writer takes
            # the write lock, which every request (and every open event stream) would queue on
            with self._sessions.begin() as session:
                session.execute(
                    update(TokenRow).where(TokenRow.id == row.id).values(last_used_at=now)
                )
        return principal

    def principal(self, token_id: int, now: datetime) -> Principal | None:
        """Token ``token_id``'s caller while it is valid: a login made with it asks again on
        every request, so revoking the token ends the login too."""
        with self._sessions() as session:
            return _principal(session.get(TokenRow, token_id), now)

    def revoke(self, token_id: int, now: datetime) -> TokenInfo | None:
        with self._sessions.begin() as session:
            row = session.get(TokenRow, token_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = now
            return _info(row)

    def list(self) -> list[TokenInfo]:
        with self._sessions() as session:
            return [_info(r) for r in session.scalars(select(TokenRow).order_by(TokenRow.id))]
