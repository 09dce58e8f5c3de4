"""Dashboard logins: the cookie holds a session id of its own, never the API token.

A token pasted on the login page is checked once; the browser then gets a random session id
(256 bits) that the database keeps only as its SHA-256, linked to the token. A session lives
while it is used (``idle``) and never past ``max_age`` from the login; it ends at once when its
token is revoked or expires, and at logout, when its row is deleted. The admin token of the
settings has no row of its own: its sessions keep the token's hash instead, so a new admin
token in the settings ends them.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from facility_dispatch.api.auth import Principal, Role, hash_token, same_secret
from facility_dispatch.api.tokens import Tokens
from facility_dispatch.kernel.db import Base, Sessions


class LoginRow(Base):
    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True
    )
    admin_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Logins:
    """Open, check and end dashboard sessions (the store behind the ``facility_token``
    cookie). ``admin_token`` is the settings' admin token, if any."""

    def __init__(
        self,
        sessions: Sessions,
        tokens: Tokens,
        admin_token: str | None,
        idle: timedelta,
        max_age: timedelta,
    ) -> None:
        self._sessions = sessions
        self._tokens = tokens
        self._admin_digest = hash_token(admin_token) if admin_token else None
        self.idle = idle
        self.max_age = max_age

    def open(self, principal: Principal, now: datetime) -> str:
        """A new session for a caller whose token was just checked; the id is returned here
        and never again. Sessions that have ended are swept away on the way."""
        if principal.token_id is None and self._admin_digest is None:
            raise ValueError("a login needs an API token or the settings' admin token")
        secret = secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            session.execute(
                delete(LoginRow).where(
                    or_(LoginRow.expires_at <= now, LoginRow.last_used_at <= now - self.idle)
                )
            )
            session.add(
                LoginRow(
                    digest=hash_token(secret),
                    token_id=principal.token_id,
                    admin_digest=self._admin_digest if principal.token_id is None else None,
                    created_at=now,
                    last_used_at=now,
                    expires_at=now + self.max_age,
                )
            )
        return secret

    def verify(self, secret: str, now: datetime) -> Principal | None:
        """The caller of a live session, or None: unknown, idle too long, too old, or its
        token revoked or expired. Use is recorded at most once a minute."""
        if not secret or len(secret) > 100:
            return None
        with self._sessions() as session:
            row = session.scalars(
                select(LoginRow).where(LoginRow.digest == hash_token(secret))
            ).first()
        if row is None or row.expires_at <= now or now - row.last_used_at >= self.idle:
            return None
        principal = self._principal(row, now)
        if principal is not None and (now - row.last_used_at).total_seconds() > 60:
            with self._sessions.begin() as session:
                session.execute(
                    update(LoginRow).where(LoginRow.id == row.id).values(last_used_at=now)
                )
        return principal

    def _principal(self, row: LoginRow, now: datetime) -> Principal | None:
        if row.token_id is not None:
            return self._tokens.principal(row.token_id, now)
        if (
            row.admin_digest is not None
            and self._admin_digest is not None
            and same_secret(row.admin_digest, self._admin_digest)
        ):
            return Principal("admin", Role.ADMIN)
        return None

    def close(self, secret: str) -> bool:
        """Logout: the session is gone for good. False if there was none."""
        with self._sessions.begin() as session:
            result = session.execute(delete(LoginRow).where(LoginRow.digest == hash_token(secret)))
            return bool(getattr(result, "rowcount", 0))
