"""Silences: planned works mute an asset, a kind at a site, or a whole site, for a window;
with a ``fault``, only that fault (a known nuisance on one camera, the rest still heard).

Pure matching; the store of silences is :mod:`facility_dispatch.rules.sql`. A silence with no end
lasts until it is ended (the works of a preventive order that is in progress)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    site: str
    asset: str | None
    kind: str | None
    starts_at: datetime
    ends_at: datetime | None
    reason: str
    created_by: str
    work_order_id: int | None = None
    fault: str | None = None

    def active(self, at: datetime) -> bool:
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    def covers(
        self, site: str, asset: str, kind: str, at: datetime, fault: str | None = None
    ) -> bool:
        return (
            self.site == site
            and (self.asset is None or self.asset == asset)
            and (self.kind is None or self.kind == kind)
            and (self.fault is None or self.fault == fault)
            and self.active(at)
        )


def silencing(
    silences: Iterable[Silence],
    site: str,
    asset: str,
    kind: str,
    at: datetime,
    fault: str | None = None,
) -> Silence | None:
    """The silence that mutes this asset's ``fault`` at this time, if any (the one ending
    last). A silence of one fault mutes nothing when no fault is asked about."""
    found = [s for s in silences if s.covers(site, asset, kind, at, fault)]
    if not found:
        return None
    return max(found, key=lambda s: (s.ends_at is None, s.ends_at or s.starts_at))
