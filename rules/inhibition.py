"""Root-cause inhibition: while a source alarm fires at a site, its consequences there are
kept but dispatch nothing of their own (a power cut is one incident, not thirty tickets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from facility_dispatch.rules.models import InhibitSpec


@dataclass(frozen=True, slots=True)
class FiringAlarm:
    """What inhibition needs to know of an alarm."""

    id: int
    site: str
    asset: str
    kind: str
    fault: str


def source_faults(kind: str, rules: Iterable[InhibitSpec]) -> set[str]:
    """The faults whose alarms could inhibit an alarm of ``kind``: the only firing alarms
    worth looking up for it."""
    return {rule.source.fault for rule in rules if kind in rule.targets.kinds}


def inhibitor(
    target: FiringAlarm, firing: Iterable[FiringAlarm], rules: Iterable[InhibitSpec]
) -> FiringAlarm | None:
    """The firing alarm at the same site that inhibits ``target``, if any."""
    rules = list(rules)
    if not rules:
        return None
    for source in firing:
        if source.id == target.id or source.site != target.site:
            continue
        for rule in rules:
            if rule.source.fault != source.fault:
                continue
            if rule.source.kinds is not None and source.kind not in rule.source.kinds:
                continue
            targets = rule.targets
            if target.kind not in targets.kinds or target.fault in targets.except_faults:
                continue
            if targets.faults is not None and target.fault not in targets.faults:
                continue
            if target.fault == source.fault:
                continue  # a fault does not inhibit itself elsewhere at the site
            if rule.scope == "asset" and target.asset != source.asset:
                continue
            return source
    return None
