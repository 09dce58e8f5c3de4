"""The limits a chart draws: each numeric threshold of the rules in force that watch this kind
of asset at this site, as a line at its value (a band's two edges, a window's limit). A limit
that names a site parameter (``{site: nominal_voltage_v, times: 1.10}``) is drawn where the
site's own parameters put it, as the engine judges it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from facility_dispatch.rules.models import (
    SITE_DEFAULTS,
    AllOf,
    AnyOf,
    Band,
    Condition,
    Not,
    RuleSpec,
    SiteValue,
    Threshold,
    Window,
)


def _lines(condition: Condition, params: Mapping[str, float]) -> Iterator[tuple[str, float]]:
    if isinstance(condition, AllOf | AnyOf):
        for part in condition.all if isinstance(condition, AllOf) else condition.any:
            yield from _lines(part, params)
    elif isinstance(condition, Not):
        yield from _lines(condition.not_, params)
    elif isinstance(condition, Threshold):
        value = condition.value
        if isinstance(value, SiteValue):
            yield condition.metric, round(value.at(params), 3)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield condition.metric, float(value)
    elif isinstance(condition, Band):
        yield condition.metric, float(condition.outside[0])
        yield condition.metric, float(condition.outside[1])
    elif isinstance(condition, Window):
        yield condition.metric, float(condition.value)


def limits(
    rules: Iterable[RuleSpec], kind: str, site: str, params: Mapping[str, float] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Metric -> its limits, each once (the worst severity wins when two rules share a value),
    in ascending value. ``params`` are the site's parameters (the defaults when not given)."""
    params = params if params is not None else SITE_DEFAULTS
    rank = {"warning": 1, "minor": 2, "major": 3, "critical": 4}
    found: dict[str, dict[float, dict[str, Any]]] = {}
    for rule in rules:
        if rule.kind != kind or not ("*" in rule.sites or site in rule.sites):
            continue
        for metric, value in _lines(rule.condition, params):
            known = found.setdefault(metric, {}).get(value)
            if known is None or rank[rule.severity] > rank[known["severity"]]:
                found[metric][value] = {"value": value, "severity": rule.severity, "rule": rule.id}
    return {metric: sorted(by.values(), key=lambda x: x["value"]) for metric, by in found.items()}
