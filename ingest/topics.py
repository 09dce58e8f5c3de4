"""The topic tree of SPEC section 1: ``facility/{site}/{kind}/{asset}/{telemetry|status|alarm}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

KINDS: Final = ("elevator", "water", "power", "cctv")
SITE_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
ASSET_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ROOT: Final = "facility"


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """A parsed device topic."""

    site: str
    kind: str
    asset: str
    channel: str  # telemetry | status | alarm


class TopicError(ValueError):
    """A topic outside the contract; the message says which part is wrong."""


def parse(topic: str) -> DeviceTopic:
    """Split and check a device topic; raise :class:`TopicError` naming the bad part."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT:
        raise TopicError(f"topic {topic[:200]!r} is not facility/{{site}}/{{kind}}/{{asset}}/...")
    _, site, kind, asset, channel = parts
    if not SITE_PATTERN.fullmatch(site):
        raise TopicError(f"site {site[:80]!r} must match [a-z0-9][a-z0-9_-]{{0,63}}")
    if kind not in KINDS:
        raise TopicError(f"kind {kind[:80]!r} must be one of {', '.join(KINDS)}")
    if not ASSET_PATTERN.fullmatch(asset):
        raise TopicError(f"asset {asset[:80]!r} must match [A-Za-z0-9][A-Za-z0-9_.-]{{0,63}}")
    if channel not in ("telemetry", "status", "alarm"):
        raise TopicError(f"channel {channel[:80]!r} must be telemetry or status")
    return DeviceTopic(site, kind, asset, channel)


def telemetry(site: str, kind: str, asset: str) -> str:
    return f"{ROOT}/{site}/{kind}/{asset}/telemetry"


def status(site: str, kind: str, asset: str) -> str:
    return f"{ROOT}/{site}/{kind}/{asset}/status"


def alarm(site: str, kind: str, asset: str) -> str:
    return f"{ROOT}/{site}/{kind}/{asset}/alarm"


def notices(site: str) -> str:
    return f"{ROOT}/{site}/notices"


def subscriptions(sites: list[str], shared_group: str | None = None) -> list[str]:
    """What the service subscribes to: every site, or only its partition (``FACILITY_SITES``)."""
    scopes = sites or ["+"]
    filters = [f"{ROOT}/{s}/+/+/{ch}" for s in scopes for ch in ("telemetry", "status")]
    if shared_group:
        filters = [f"$share/{shared_group}/{f}" for f in filters]
    return filters
