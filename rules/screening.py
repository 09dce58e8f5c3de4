"""A kind's conditions generated into one Python function that says which ones hold now.

The engine asks this first for every reading: one call instead of a closure call per leaf, with the
metrics read once into local variables. It answers only "is the condition True", which is all that
matters for a rule with nothing open (it cannot change otherwise). Rules with an open episode go
through the three-valued closures of :mod:`facility_dispatch.rules.conditions`, and a property test
holds the two to the same answers.

The generated source contains only catalogue metric names, operators from a fixed set and
validated numbers, booleans and strings, each written with ``repr``. A limit that names a site
parameter is written as its value at one site: the engine generates one function per set of
site parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from facility_dispatch.rules.models import (
    SITE_DEFAULTS,
    AllOf,
    AnyOf,
    Band,
    Condition,
    Deviation,
    Not,
    Rate,
    Silent,
    SiteValue,
    Threshold,
    Window,
)

Screen = Callable[[dict[str, Any], dict[int, Any], int, int], tuple[bool, ...] | None]
_OPS = {"<", "<=", ">", ">=", "==", "!="}


SlotOf = Callable[[Rate | Window | Deviation], int]


class _Writer:
    def __init__(self, slot_of: SlotOf, params: Mapping[str, float]) -> None:
        self.slot_of = slot_of
        self.params = params
        self.metrics: dict[str, str] = {}
        self.slots: dict[int, str] = {}

    def metric(self, name: str) -> str:
        return self.metrics.setdefault(name, f"m{len(self.metrics)}")

    def slot(self, condition: Rate | Window | Deviation) -> str:
        slot = self.slot_of(condition)
        return self.slots.setdefault(slot, f"v{slot}")

    def true(self, condition: Condition) -> str:
        if isinstance(condition, AllOf):
            return "(" + " and ".join(self.true(c) for c in condition.all) + ")"
        if isinstance(condition, AnyOf):
            return "(" + " or ".join(self.true(c) for c in condition.any) + ")"
        if isinstance(condition, Not):
            return self.false(condition.not_)
        return self._leaf(condition, negate=False)

    def false(self, condition: Condition) -> str:
        if isinstance(condition, AllOf):
            return "(" + " or ".join(self.false(c) for c in condition.all) + ")"
        if isinstance(condition, AnyOf):
            return "(" + " and ".join(self.false(c) for c in condition.any) + ")"
        if isinstance(condition, Not):
            return self.true(condition.not_)
        return self._leaf(condition, negate=True)

    def _leaf(self, condition: Condition, negate: bool) -> str:
        if isinstance(condition, Silent):
            quiet = int(condition.silent_for.total_seconds() * 1000)
            op = "<" if negate else ">="
            return f"(heard >= 0 and now - heard {op} {quiet!r})"
        if isinstance(condition, Deviation):
            name = self.slot(condition)
            z, direction = float(condition.deviation.z), condition.deviation.direction
            score = f"abs({name})" if direction == "both" else name
            test = f"< {-z!r}" if direction == "down" else f"> {z!r}"
            if negate:
                return f"({name} is not None and not ({score} {test}))"
            return f"({name} is not None and {score} {test})"
        if isinstance(condition, Threshold):
            value = condition.value
            if isinstance(value, SiteValue):
                value = float(value.at(self.params))
            name, test = self.metric(condition.metric), f"{condition.op} {value!r}"
        elif isinstance(condition, Band):
            name = self.metric(condition.metric)
            low, high = condition.outside
            return (
                f"({name} is not None and {'not ' if negate else ''}"
                f"({name} < {float(low)!r} or {name} > {float(high)!r}))"
            )
        elif isinstance(condition, Rate):
            name = self.slot(condition)
            test = f"{condition.rate_per_min.op} {float(condition.rate_per_min.value)!r}"
        else:
            assert isinstance(condition, Window)
            name, test = self.slot(condition), f"{condition.op} {float(condition.value)!r}"
        assert test.split()[0] in _OPS
        if negate:
            return f"({name} is not None and not ({name} {test}))"
        return f"({name} is not None and {name} {test})"


def screen_function(
    conditions: Sequence[Condition],
    slot_of: SlotOf,
    params: Mapping[str, float] = SITE_DEFAULTS,
) -> Screen:
    """One function for a kind's rule conditions at a site with these parameters, in order: a
    tuple of "holds now", or None when none holds."""
    writer = _Writer(slot_of, params)
    tests = [writer.true(c) for c in conditions]
    lines = ["def screen(latest, values, now, heard):", "    get = latest.get"]
    lines += [f"    {var} = get({name!r})" for name, var in writer.metrics.items()]
    if writer.slots:
        lines.append("    fetch = values.get")
        lines += [f"    {var} = fetch({slot!r})" for slot, var in writer.slots.items()]
    # nearly always nothing holds: say so without building the tuple
    lines.append("    if not (" + " or ".join(tests or ["False"]) + "):")
    lines.append("        return None")
    lines.append("    return (")
    lines += [f"        bool{test}," for test in tests]
    lines.append("    )")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<rules screen>", "exec"), namespace)
    screen: Screen = namespace["screen"]
    return screen
