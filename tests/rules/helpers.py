"""Building small rule sets and readings for the engine's tests."""

from __future__ import annotations

from typing import Any

import yaml

from facility_dispatch.kernel.readings import Reading
from facility_dispatch.rules.engine import RuleEngine
from facility_dispatch.rules.events import AlarmChange
from facility_dispatch.rules.loader import RuleSet, parse

T0 = 1_795_746_000_000  # 2026-11-27T02:20:00Z


def ruleset(*rules: dict[str, Any], inhibit: list[dict[str, Any]] | None = None) -> RuleSet:
    document: dict[str, Any] = {"rules": [dict(r) for r in rules]}
    for number, rule in enumerate(document["rules"]):
        rule.setdefault("id", f"rule-{number}")
        rule.setdefault("kind", "water")
        rule.setdefault("severity", "major")
        rule.setdefault("fault", f"fault_{number}")
    if inhibit:
        document["inhibit"] = inhibit
    return parse(yaml.safe_dump(document))


def engine(*rules: dict[str, Any]) -> RuleEngine:
    return RuleEngine(ruleset(*rules))


def reading(
    seconds: float,
    kind: str = "water",
    asset: str = "pump-1",
    site: str = "estate-1",
    **metrics: Any,
) -> Reading:
    return Reading(site, kind, asset, T0 + int(seconds * 1000), metrics)


def kinds(changes: list[AlarmChange]) -> list[str]:
    return [type(c).__name__.removeprefix("Alarm") for c in changes]


def feed(
    machine: RuleEngine, *steps: tuple[float, dict[str, Any]], kind: str = "water"
) -> list[str]:
    """Feed readings at the given seconds; the changes of all of them, in order."""
    out: list[AlarmChange] = []
    for seconds, metrics in steps:
        out.extend(machine.evaluate(reading(seconds, kind, **metrics)))
    return kinds(out)
