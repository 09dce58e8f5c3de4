"""Loading a rules file: YAML in, a checked :class:`RuleSet` out, or one clear refusal.

Everything is checked before anything is used (SPEC section 2): the shape by pydantic, then
what pydantic cannot know: metrics against the catalogue of the rule's kind, operators and
values against the metric's type, duplicate ids, and inhibitions that name faults no rule
raises. The first problem found refuses the whole file, naming the rule and the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from facility_dispatch.ingest.catalogue import CATALOGUE, MetricSpec, MetricType
from facility_dispatch.kernel.durations import format_duration
from facility_dispatch.rules.errors import RulesFileError
from facility_dispatch.rules.models import (
    AllOf,
    AnyOf,
    Band,
    Condition,
    Deviation,
    InhibitSpec,
    Not,
    Rate,
    RulesFile,
    RuleSpec,
    Silent,
    SiteValue,
    Threshold,
    Window,
)


@dataclass(frozen=True)
class RuleSet:
    """Checked rules and inhibitions, as loaded from one file."""

    rules: tuple[RuleSpec, ...]
    inhibit: tuple[InhibitSpec, ...]
    source: str = "<built-in>"

    def by_id(self, rule_id: str) -> RuleSpec | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def default_rules_text() -> str:
    return (
        resources.files("facility_dispatch.rules")
        .joinpath("default_rules.yaml")
        .read_text(encoding="utf-8")
    )


def load_default() -> RuleSet:
    return parse(default_rules_text(), "<built-in default pack>")


def load_file(path: Path) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesFileError(f"cannot read {path}: {error.strerror}") from None
    return parse(text, str(path))


def parse(text: str, source: str = "<text>") -> RuleSet:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RulesFileError(f"not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(document, dict):
        raise RulesFileError("a rules file is a mapping with a 'rules:' list")
    try:
        model = RulesFile.model_validate(document)
    except ValidationError as error:
        raise _refusal(error, document) from None
    _check(model)
    return RuleSet(tuple(model.rules), tuple(model.inhibit), source)


def _refusal(error: ValidationError, document: dict[str, Any]) -> RulesFileError:
    first = error.errors()[0]
    loc = list(first["loc"])
    rule = None
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        raw = document.get("rules") or []
        entry = raw[loc[1]] if loc[1] < len(raw) else None
        rule = (
            str(entry.get("id"))
            if isinstance(entry, dict) and entry.get("id")
            else f"#{loc[1] + 1}"
        )
        loc = loc[2:]
    elif loc and loc[0] == "inhibit":
        loc = loc[:]
    field = _field_path(loc)
    message = first["msg"].removeprefix("Value error, ")
    return RulesFileError(message, rule, field or None)


def _field_path(loc: list[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            if parts:
                parts[-1] += f"[{item}]"
            else:
                parts.append(f"[{item}]")
        elif str(item).startswith("<"):
            continue  # the discriminator's tag of a condition form, not a field
        else:
            parts.append({"for_": "for", "not_": "not"}.get(str(item), str(item)))
    return ".".join(parts)


def _check(model: RulesFile) -> None:
    seen: set[str] = set()
    for rule in model.rules:
        if rule.id in seen:
            raise RulesFileError("duplicate id: rule ids must be unique", rule.id, "id")
        seen.add(rule.id)
        _check_condition(rule, rule.condition, "condition")
        if rule.clear is not None:
            _check_condition(rule, rule.clear, "clear")
    faults = {rule.fault for rule in model.rules}
    for index, inhibition in enumerate(model.inhibit):
        if inhibition.source.fault not in faults:
            raise RulesFileError(
                f"no rule raises fault {inhibition.source.fault!r}",
                None,
                f"inhibit[{index}].source.fault",
            )
        for fault in (inhibition.targets.faults or []) + inhibition.targets.except_faults:
            if fault not in faults:
                raise RulesFileError(
                    f"no rule raises fault {fault!r}", None, f"inhibit[{index}].targets"
                )


def _check_condition(rule: RuleSpec, condition: Condition, path: str) -> None:
    if isinstance(condition, AllOf):
        for index, part in enumerate(condition.all):
            _check_condition(rule, part, f"{path}.all[{index}]")
        return
    if isinstance(condition, AnyOf):
        for index, part in enumerate(condition.any):
            _check_condition(rule, part, f"{path}.any[{index}]")
        return
    if isinstance(condition, Not):
        _check_condition(rule, condition.not_, f"{path}.not")
        return
    if isinstance(condition, Silent):
        return
    spec = _metric(rule, condition.metric, f"{path}.metric")
    if isinstance(condition, Threshold):
        _check_threshold(rule, spec, condition, path)
    elif isinstance(condition, Band | Rate | Deviation) and not spec.numeric:
        raise RulesFileError(f"{spec.name} is not a number", rule.id, f"{path}.metric")
    elif isinstance(condition, Window) and condition.agg != "count" and not spec.numeric:
        raise RulesFileError(
            f"{spec.name} is not a number: only agg 'count' applies", rule.id, f"{path}.agg"
        )


def _metric(rule: RuleSpec, metric: str, path: str) -> MetricSpec:
    spec = CATALOGUE[rule.kind].get(metric)
    if spec is None:
        known = ", ".join(sorted(CATALOGUE[rule.kind]))
        raise RulesFileError(
            f"{metric!r} is not a {rule.kind} metric (known: {known})", rule.id, path
        )
    return spec


def _check_threshold(rule: RuleSpec, spec: MetricSpec, condition: Threshold, path: str) -> None:
    value = condition.value
    if spec.type is MetricType.BOOL:
        if not isinstance(value, bool):
            raise RulesFileError(f"{spec.name} is true or false", rule.id, f"{path}.value")
        if condition.op not in ("==", "!="):
            raise RulesFileError(f"{spec.name} is a boolean: use == or !=", rule.id, f"{path}.op")
    elif spec.type in (MetricType.ENUM, MetricType.STRING):
        if not isinstance(value, str):
            raise RulesFileError(f"{spec.name} is text: quote the value", rule.id, f"{path}.value")
        if spec.choices and value not in spec.choices:
            raise RulesFileError(
                f"{spec.name} is one of {', '.join(spec.choices)}", rule.id, f"{path}.value"
            )
        if condition.op not in ("==", "!="):
            raise RulesFileError(f"{spec.name} is text: use == or !=", rule.id, f"{path}.op")
    elif isinstance(value, bool) or not isinstance(value, float | int | SiteValue):
        raise RulesFileError(f"{spec.name} is a number", rule.id, f"{path}.value")
    if isinstance(value, SiteValue) and not spec.numeric:
        raise RulesFileError(
            f"{spec.name} is not a number: a site parameter cannot be its limit",
            rule.id,
            f"{path}.value",
        )


def metrics_of(condition: Condition) -> Iterator[str]:
    """Every metric a condition reads, in the order written."""
    if isinstance(condition, AllOf):
        for part in condition.all:
            yield from metrics_of(part)
    elif isinstance(condition, AnyOf):
        for part in condition.any:
            yield from metrics_of(part)
    elif isinstance(condition, Not):
        yield from metrics_of(condition.not_)
    elif not isinstance(condition, Silent):
        yield condition.metric


def describe(condition: Condition) -> str:
    """A one-line reading of a condition, for ``facility rules check``."""
    if isinstance(condition, AllOf):
        return "(" + " and ".join(describe(c) for c in condition.all) + ")"
    if isinstance(condition, AnyOf):
        return "(" + " or ".join(describe(c) for c in condition.any) + ")"
    if isinstance(condition, Not):
        return f"not {describe(condition.not_)}"
    if isinstance(condition, Silent):
        return f"silent for {format_duration(condition.silent_for)}"
    if isinstance(condition, Threshold):
        value = condition.value
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        if isinstance(value, float):
            shown = f"{value:g}"
        elif isinstance(value, SiteValue):
            shown = f"{value.times:g} x site {value.site}"
        return f"{condition.metric} {condition.op} {shown}"
    if isinstance(condition, Band):
        return f"{condition.metric} outside {condition.outside[0]:g}..{condition.outside[1]:g}"
    if isinstance(condition, Rate):
        limit = condition.rate_per_min
        least = f" (by {condition.min_change:g} at least)" if condition.min_change else ""
        return f"{condition.metric} changes {limit.op} {limit.value:g}/min{least}"
    if isinstance(condition, Deviation):
        spec = condition.deviation
        sign = {"up": "above", "down": "below", "both": "away from"}[spec.direction]
        return (
            f"mean({condition.metric}, {format_duration(spec.window)}) {spec.z:g} sd {sign} "
            f"its own {format_duration(spec.baseline)} before"
        )
    window = format_duration(condition.window)
    return f"{condition.agg}({condition.metric}, {window}) {condition.op} {condition.value:g}"
