"""Bearer tokens and roles: viewer < technician < planner < admin (SPEC section 4)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    """Ordered: each role may do what the roles below it may."""

    VIEWER = 1
    TECHNICIAN = 2
    PLANNER = 3
    ADMIN = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(
                f"role {name!r} is not one of viewer, technician, planner, admin"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's name, its role, the technician it speaks for, if any, and
    the sites it is limited to (``None``: every site; see :mod:`facility_dispatch.api.scope`).

    ``safety_manager`` is a duty, not a rung of the roles: the site's safety manager (安全管理员)
    signs lift and electrical orders off, a legal act an admin does not get by rank."""

    name: str
    role: Role
    technician_id: int | None = None
    token_id: int | None = None
    sites: frozenset[str] | None = None
    safety_manager: bool = False

    def sees(self, site: str | None) -> bool:
        """Whether this caller may see and act on ``site``; a row without a site is seen only
        by a caller limited to no sites."""
        if self.sites is None:
            return True
        return site is not None and site in self.sites


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are long random strings, so no salt or KDF is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
