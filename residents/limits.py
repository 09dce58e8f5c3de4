"""Rate limits of the public endpoints: a token bucket per client address and per phone.

The arithmetic is pure (:func:`take` takes the bucket and ``now``); :class:`SqlRateLimiter`
keeps the buckets in the database, so a limit holds across restarts and across workers behind
one balancer (an in-process dict would give each worker, and each restart, a fresh allowance).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select, text

from facility_dispatch.kernel.db import Sessions
from facility_dispatch.residents.sql import RateBucketRow


@dataclass(frozen=True, slots=True)
class Allowance:
    """``burst`` at once, then one more every ``every``."""

    burst: int
    every: timedelta


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    at: datetime


REPORTS_PER_ADDRESS: Final = Allowance(burst=20, every=timedelta(minutes=3))
"""Residents behind one carrier NAT share an address: room for a lobby, not for a script."""
REPORTS_PER_PHONE: Final = Allowance(burst=5, every=timedelta(minutes=30))
READS_PER_ADDRESS: Final = Allowance(burst=120, every=timedelta(seconds=1))
"""Tracking pages and ratings: a person reloads; a guesser of tokens is slowed to a crawl."""


def take(bucket: Bucket | None, allowance: Allowance, now: datetime) -> tuple[Bucket, float]:
    """The bucket after one request, and 0 if it may go, else the seconds until it may."""
    tokens = float(allowance.burst)
    if bucket is not None:
        refill = max(0.0, (now - bucket.at) / allowance.every)
        tokens = min(float(allowance.burst), bucket.tokens + refill)
    if tokens >= 1.0:
        return Bucket(tokens - 1.0, now), 0.0
    wait = (1.0 - tokens) * allowance.every.total_seconds()
    return Bucket(tokens, now), wait


def client_of(address: str) -> str:
    """The client a rate limit counts: an IPv4 address, or an IPv6 address's /64 (one home or
    phone is given a whole /64 and can take a new address from it for each request)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def key_of(kind: str, value: str) -> str:
    """A bucket's key: the kind and a hash (no phone number or address kept in the table)."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


class SqlRateLimiter:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def take(self, wanted: list[tuple[str, Allowance]], now: datetime) -> int:
        """One request against every bucket named: 0 if all allow it (each is charged), else
        the whole seconds to wait (none is charged, so a refused request costs nothing)."""
        with self._sessions.begin() as session:
            for key, _ in wanted:
                session.execute(
                    text(
                        "INSERT INTO rate_buckets (key, tokens, at) VALUES (:key, -1, :at) "
                        "ON CONFLICT (key) DO NOTHING"
                    ),
                    {"key": key, "at": now},
                )
            rows = {
                row.key: row
                for row in session.scalars(
                    select(RateBucketRow)
                    .where(RateBucketRow.key.in_([k for k, _ in wanted]))
                    .with_for_update()
                )
            }
            results = []
            for key, allowance in wanted:
                row = rows[key]
                before = None if row.tokens < 0 else Bucket(row.tokens, _aware(row.at, now))
                results.append((row, *take(before, allowance, now)))
            wait = max(w for _, _, w in results)
            if wait > 0:
                for row, _, _ in results:
                    if row.tokens < 0:  # created by this request: starts full
                        row.tokens = float(dict(wanted)[row.key].burst)
                        row.at = now
                return max(1, math.ceil(wait))
            for row, after, _ in results:
                row.tokens, row.at = after.tokens, after.at
            return 0

    def prune(self, before: datetime) -> None:
        """Buckets untouched since ``before`` are full again: forget them."""
        with self._sessions.begin() as session:
            session.execute(delete(RateBucketRow).where(RateBucketRow.at < before))


def _aware(at: datetime, like: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=like.tzinfo)
