"""Signed, short-lived acknowledgement links: ``/n/ack/<token>`` in a message.

A technician reading an e-mail on a phone has no dashboard login at hand; the link is the
login for one act on one order. The token is ``<order>.<technician or 0>.<expires>.<mac>``,
HMAC-SHA256 over the first three with the installation's secret: it cannot be made for another
order or stretched past its expiry, and it reveals nothing a message does not say already.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


class LinkError(ValueError):
    """A link that is malformed, forged or expired (the message says which)."""


@dataclass(frozen=True, slots=True)
class AckGrant:
    work_order_id: int
    technician_id: int | None
    expires: datetime


def _mac(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:32]


def sign(
    secret: bytes, work_order_id: int, technician_id: int | None, now: datetime, ttl: timedelta
) -> str:
    expires = int((now + ttl).timestamp())
    text = f"{work_order_id}.{technician_id or 0}.{expires}"
    return f"{text}.{_mac(secret, text)}"


def verify(secret: bytes, token: str, now: datetime) -> AckGrant:
    parts = token.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]) or len(token) > 120:
        raise LinkError("this is not an acknowledgement link")
    text = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(secret, text), parts[3]):
        raise LinkError("this link was not signed by this installation")
    order, technician, expires = (int(p) for p in parts[:3])
    if expires > 2**40:
        raise LinkError("this is not an acknowledgement link")
    expiry = datetime.fromtimestamp(expires, UTC)
    if expiry <= now:
        raise LinkError("this link has expired: open the order in the console instead")
    return AckGrant(order, technician or None, expiry)
