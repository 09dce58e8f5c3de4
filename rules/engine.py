"""The rule engine: readings and the clock in, alarm changes out. Pure: no I/O, no clock.

Time is the readings' own (event time) on :meth:`RuleEngine.evaluate`, and the caller's ``now``
on :meth:`RuleEngine.tick`, which is what catches silent devices and lets a ``for`` run out on
a device that reports only on change. Silence is measured from when the service last heard
from a device (``heard_ms``, the caller's clock), not from the time its readings carry: a
gateway catching up on half an hour of buffered readings is talking, not silent. A reading
older than the newest one already evaluated for its asset is stored by ingest but not
evaluated: rules see each asset's history in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from facility_dispatch.kernel.readings import Reading
from facility_dispatch.rules.conditions import (
    AssetState,
    Compiler,
    Evaluator,
    FaultAlarm,
    Leaf,
    RuleState,
    Tracker,
)
from facility_dispatch.rules.events import (
    AlarmChange,
    AlarmDiscarded,
    AlarmEscalated,
    AlarmFired,
    AlarmPending,
    AlarmResolved,
    OpenAlarm,
)
from facility_dispatch.rules.loader import RuleSet, metrics_of
from facility_dispatch.rules.models import (
    SEVERITY_RANK,
    AllOf,
    AnyOf,
    Condition,
    Not,
    RuleSpec,
    Silent,
)
from facility_dispatch.rules.screening import Screen, screen_function


def _has_silent(condition: Condition | None) -> bool:
    if condition is None:
        return False
    if isinstance(condition, Silent):
        return True
    if isinstance(condition, AllOf):
        return any(_has_silent(c) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(_has_silent(c) for c in condition.any)
    if isinstance(condition, Not):
        return _has_silent(condition.not_)
    return False


@dataclass(frozen=True, slots=True)
class CompiledRule:
    index: int
    spec: RuleSpec
    metrics: frozenset[str]
    condition: Evaluator
    clear: Evaluator | None
    value: Callable[[AssetState], Any]
    for_ms: int
    silent: bool
    rank: int

    def applies_to(self, site: str) -> bool:
        return any(fnmatchcase(site, pattern) for pattern in self.spec.sites)


@dataclass(frozen=True, slots=True)
class KindRules:
    rules: tuple[CompiledRule, ...]
    by_fault: dict[str, tuple[CompiledRule, ...]]
    leaves: tuple[Leaf, ...]
    feeds: tuple[tuple[str, tuple[Leaf, ...]], ...]  # metric -> its leaves, walked per reading
    leaf_keys: dict[tuple[Any, ...], int]
    silent_rules: tuple[CompiledRule, ...]
    screen: Screen
    position: dict[int, int]  # rule index -> its place in what ``screen`` returns

    @property
    def none_hold(self) -> tuple[bool, ...]:
        """What ``screen`` means by None."""
        return (False,) * len(self.rules)


def _compile_kind(rules: list[RuleSpec], start: int) -> KindRules:
    compiler = Compiler()
    compiled = []
    for offset, spec in enumerate(rules):
        condition, value = compiler.compile(spec.condition)
        clear = compiler.compile(spec.clear)[0] if spec.clear is not None else None
        compiled.append(
            CompiledRule(
                index=start + offset,
                spec=spec,
                metrics=frozenset(metrics_of(spec.condition))
                | frozenset(metrics_of(spec.clear) if spec.clear else ()),
                condition=condition,
                clear=clear,
                value=value,
                for_ms=int(spec.for_.total_seconds() * 1000),
                silent=_has_silent(spec.condition) or _has_silent(spec.clear),
                rank=SEVERITY_RANK[spec.severity],
            )
        )
    by_fault: dict[str, list[CompiledRule]] = defaultdict(list)
    for rule in compiled:
        by_fault[rule.spec.fault].append(rule)
    by_metric: dict[str, list[Leaf]] = defaultdict(list)
    for leaf in compiler.leaves:
        by_metric[leaf.metric].append(leaf)
    return KindRules(
        rules=tuple(compiled),
        by_fault={f: tuple(rs) for f, rs in by_fault.items()},
        leaves=tuple(compiler.leaves),
        feeds=tuple((m, tuple(ls)) for m, ls in by_metric.items()),
        leaf_keys=dict(compiler.leaf_keys()),
        silent_rules=tuple(r for r in compiled if r.silent),
        screen=screen_function([r.spec.condition for r in compiled], compiler.slot_of),
        position={r.index: offset for offset, r in enumerate(compiled)},
    )


class RuleEngine:
    """Holds per-asset state (bounded: latest values, capped sample deques, rule states)."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._kinds = self._compile(ruleset)
        self._assets: dict[tuple[str, str], AssetState] = {}
        self._pending: set[tuple[str, str]] = set()
        self._applies: dict[tuple[int, str], bool] = {}
        self._site_rules: dict[tuple[int, str], tuple[CompiledRule, ...]] = {}

    @staticmethod
    def _compile(ruleset: RuleSet) -> dict[str, KindRules]:
        grouped: dict[str, list[RuleSpec]] = defaultdict(list)
        for rule in ruleset.rules:
            grouped[rule.kind].append(rule)
        kinds = {}
        start = 0
        for kind, specs in grouped.items():
            kinds[kind] = _compile_kind(specs, start)
            start += len(specs)
        return kinds

    # -- state ---------------------------------------------------------------------------

    def _state(self, site: str, asset: str, kind: str) -> AssetState:
        key = (site, asset)
        state = self._assets.get(key)
        if state is None:
            state = AssetState(site, kind, asset)
            self._assets[key] = state
        return state

    def _applies_to(self, rule: CompiledRule, site: str) -> bool:
        key = (rule.index, site)
        applies = self._applies.get(key)
        if applies is None:
            applies = rule.applies_to(site)
            self._applies[key] = applies
        return applies

    def seed(self, site: str, asset: str, kind: str, metrics: dict[str, Any]) -> None:
        """Latest values kept by the registry: a baseline before stored history is replayed."""
        self._state(site, asset, kind).latest.update(metrics)

    def know(self, site: str, asset: str, kind: str, last_seen_ms: int | None) -> None:
        """An asset from the registry: silent-device rules watch it even before it speaks."""
        state = self._state(site, asset, kind)
        if last_seen_ms is not None:
            state.last_ms = max(state.last_ms, last_seen_ms)
            state.heard_ms = max(state.heard_ms, last_seen_ms)

    def _feed(
        self, state: AssetState, kind_rules: KindRules, reading: Reading, heard_ms: int
    ) -> None:
        ts_ms = state.last_ms = reading.ts_ms
        if heard_ms > state.heard_ms:
            state.heard_ms = heard_ms
        metrics = reading.metrics
        state.latest.update(metrics)
        trackers = state.trackers
        values = state.values
        for metric, leaves in kind_rules.feeds:
            value = metrics.get(metric)
            if value is None:
                continue
            number = float(value) if type(value) is not str else 1.0
            for leaf in leaves:
                slot = leaf.slot
                tracker = trackers.get(slot)
                if tracker is None:
                    tracker = trackers[slot] = Tracker(leaf.span_ms)
                tracker.add(ts_ms, number)
                values[slot] = leaf.measure(tracker)

    def _rules_at(self, kind_rules: KindRules, site: str) -> tuple[CompiledRule, ...]:
        """The rules of a kind whose ``sites`` globs take this site (worked out once a site)."""
        key = (id(kind_rules), site)
        rules = self._site_rules.get(key)
        if rules is None:
            rules = tuple(r for r in kind_rules.rules if r.applies_to(site))
            self._site_rules[key] = rules
        return rules

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(self, reading: Reading, heard_ms: int | None = None) -> list[AlarmChange]:
        """Feed one reading, heard at ``heard_ms`` (default: its own time); the alarm changes
        it causes, in order."""
        state = self._assets.get((reading.site, reading.asset))
        if state is None:
            state = self._state(reading.site, reading.asset, reading.kind)
        now = reading.ts_ms
        heard = now if heard_ms is None else heard_ms
        if now <= state.last_ms:
            state.heard_ms = max(state.heard_ms, heard)
            return []
        kind_rules = self._kinds.get(reading.kind)
        if kind_rules is None:
            state.last_ms = now
            state.heard_ms = max(state.heard_ms, heard)
            state.latest.update(reading.metrics)
            return []
        self._feed(state, kind_rules, reading, heard)
        active = state.rules
        # judged at the reading's time, the device is heard from just now: not silent
        holds = kind_rules.screen(state.latest, state.values, now, now)
        if holds is None:
            if not active:
                return []  # nearly every reading: nothing open, nothing holds
            holds = kind_rules.none_hold
        changes: list[AlarmChange] = []
        position = kind_rules.position
        for rule in self._rules_at(kind_rules, state.site):
            # the common case: nothing open for the rule and its condition does not hold
            if rule.index in active or holds[position[rule.index]]:
                self._step(rule, kind_rules, state, now, changes)
        return changes

    def evaluate_all(
        self, readings: Iterable[Reading], heard_ms: int | None = None
    ) -> list[AlarmChange]:
        changes: list[AlarmChange] = []
        for reading in readings:
            changes.extend(self.evaluate(reading, heard_ms))
        return changes

    def warm(self, reading: Reading) -> None:
        """Rebuild values, rates and windows from stored history without judging anything."""
        state = self._state(reading.site, reading.asset, reading.kind)
        if reading.ts_ms <= state.last_ms:
            return
        kind_rules = self._kinds.get(reading.kind)
        if kind_rules is None:
            state.last_ms = reading.ts_ms
            state.heard_ms = max(state.heard_ms, reading.ts_ms)
            state.latest.update(reading.metrics)
            return
        self._feed(state, kind_rules, reading, reading.ts_ms)

    def tick(self, now_ms: int) -> list[AlarmChange]:
        """Time passes: silent devices, and ``for`` running out without a new reading."""
        changes: list[AlarmChange] = []
        for key in list(self._pending):
            state = self._assets[key]
            kind_rules = self._kinds.get(state.kind)
            if kind_rules is not None:
                for rule in kind_rules.rules:
                    rule_state = state.rules.get(rule.index)
                    if rule_state is not None and not rule_state.firing and not rule.silent:
                        self._step(rule, kind_rules, state, now_ms, changes)
            if not any(not s.firing for s in state.rules.values()):
                self._pending.discard(key)
        silent_kinds = {k: kr for k, kr in self._kinds.items() if kr.silent_rules}
        if silent_kinds:
            for state in self._assets.values():
                kind_rules = silent_kinds.get(state.kind)
                if kind_rules is None:
                    continue
                for rule in kind_rules.silent_rules:
                    if self._applies_to(rule, state.site):
                        self._step(rule, kind_rules, state, now_ms, changes)
        return changes

    def _step(
        self,
        rule: CompiledRule,
        kind_rules: KindRules,
        state: AssetState,
        now: int,
        changes: list[AlarmChange],
    ) -> None:
        result = rule.condition(state, now)
        rule_state = state.rules.get(rule.index)
        if rule_state is None:
            if result is not True:
                return
            value = rule.value(state)
            if rule.for_ms == 0:
                state.rules[rule.index] = RuleState(True, now, value)
            else:
                state.rules[rule.index] = RuleState(False, now, value)
                self._pending.add((state.site, state.asset))
        elif not rule_state.firing:
            if result is False:
                del state.rules[rule.index]
            elif result is True and now - rule_state.since_ms >= rule.for_ms:
                rule_state.firing = True
                rule_state.value = rule.value(state)
            else:
                return
        else:
            # firing: it ends on its clear condition (hysteresis), else when it stops holding
            done = rule.clear(state, now) is True if rule.clear is not None else result is False
            if not done:
                return
            del state.rules[rule.index]
        self._settle(rule.spec.fault, kind_rules, state, now, changes)

    def _settle(
        self,
        fault: str,
        kind_rules: KindRules,
        state: AssetState,
        now: int,
        changes: list[AlarmChange],
    ) -> None:
        """Fold the rules of one fault into one alarm episode and report what changed."""
        firing: CompiledRule | None = None
        pending: CompiledRule | None = None
        started = now
        for rule in kind_rules.by_fault.get(fault, ()):
            rule_state = state.rules.get(rule.index)
            if rule_state is None:
                continue
            started = min(started, rule_state.since_ms)
            if rule_state.firing:
                if firing is None or rule.rank > firing.rank:
                    firing = rule
            elif pending is None:
                pending = rule
        current = state.alarms.get(fault)
        if firing is not None:
            value = state.rules[firing.index].value
            if current is None or not current.firing:
                begun = current.started_ms if current is not None else started
                state.alarms[fault] = FaultAlarm(
                    firing.spec.id, firing.spec.severity, True, begun, value
                )
                changes.append(self._change(AlarmFired, state, firing.spec, value, now, begun))
            elif firing.rank > SEVERITY_RANK[current.severity]:
                current.rule_id = firing.spec.id
                current.severity = firing.spec.severity
                current.value = value
                changes.append(
                    self._change(AlarmEscalated, state, firing.spec, value, now, current.started_ms)
                )
        elif pending is not None:
            if current is None:
                value = state.rules[pending.index].value
                state.alarms[fault] = FaultAlarm(
                    pending.spec.id, pending.spec.severity, False, started, value
                )
                changes.append(self._change(AlarmPending, state, pending.spec, value, now, started))
        elif current is not None:
            del state.alarms[fault]
            change = AlarmResolved if current.firing else AlarmDiscarded
            changes.append(
                change(
                    state.site,
                    state.asset,
                    state.kind,
                    fault,
                    current.rule_id,
                    current.severity,
                    current.value,
                    now,
                    current.started_ms,
                )
            )

    @staticmethod
    def _change(
        cls: type[AlarmChange],
        state: AssetState,
        spec: RuleSpec,
        value: Any,
        now: int,
        started: int,
    ) -> AlarmChange:
        return cls(
            state.site,
            state.asset,
            state.kind,
            spec.fault,
            spec.id,
            spec.severity,
            value,
            now,
            started,
        )

    # -- restart and reload ----------------------------------------------------------------

    def restore(self, alarms: Iterable[OpenAlarm]) -> None:
        """Take back the open alarms of the alarm store, so nothing fires twice."""
        for alarm in alarms:
            state = self._state(alarm.site, alarm.asset, alarm.kind)
            firing = alarm.state == "firing"
            state.alarms[alarm.fault] = FaultAlarm(
                alarm.rule_id, alarm.severity, firing, alarm.started_ms, alarm.value
            )
            kind_rules = self._kinds.get(alarm.kind)
            rule = next(
                (r for r in (kind_rules.rules if kind_rules else ()) if r.spec.id == alarm.rule_id),
                None,
            )
            if rule is not None and rule.spec.fault == alarm.fault:
                since = alarm.started_ms
                state.rules[rule.index] = RuleState(firing, since, alarm.value)
                if not firing:
                    self._pending.add((alarm.site, alarm.asset))

    def reconcile(self, now_ms: int) -> list[AlarmChange]:
        """Judge every asset once against what is known now (after restore and warm-up):
        fires the alarms whose change was lost in a crash, resolves what ended meanwhile."""
        changes: list[AlarmChange] = []
        for state in list(self._assets.values()):
            kind_rules = self._kinds.get(state.kind)
            for fault in list(state.alarms):
                if kind_rules is None or fault not in kind_rules.by_fault:
                    self._settle(fault, kind_rules or _EMPTY, state, now_ms, changes)
            if kind_rules is None:
                continue
            for rule in kind_rules.rules:
                if self._applies_to(rule, state.site):
                    self._step(rule, kind_rules, state, now_ms, changes)
        return changes

    def replace(self, ruleset: RuleSet, now_ms: int) -> list[AlarmChange]:
        """Swap in new rules, keeping what still applies: values, samples of unchanged leaves,
        and open episodes of faults that some rule still raises; then judge everything."""
        old_kinds = self._kinds
        self.ruleset = ruleset
        self._kinds = self._compile(ruleset)
        self._applies.clear()
        self._site_rules.clear()
        for state in self._assets.values():
            old = old_kinds.get(state.kind)
            new = self._kinds.get(state.kind)
            trackers: dict[int, Tracker] = {}
            values: dict[int, float | None] = {}
            rule_states: dict[int, RuleState] = {}
            if old is not None and new is not None:
                for key, slot in new.leaf_keys.items():
                    old_slot = old.leaf_keys.get(key)
                    if old_slot is not None and old_slot in state.trackers:
                        trackers[slot] = state.trackers[old_slot]
                        values[slot] = state.values.get(old_slot)
                new_by_id = {r.spec.id: r for r in new.rules}
                for old_rule in old.rules:
                    kept = state.rules.get(old_rule.index)
                    target = new_by_id.get(old_rule.spec.id)
                    if (
                        kept is not None
                        and target is not None
                        and (target.spec.fault == old_rule.spec.fault)
                    ):
                        rule_states[target.index] = kept
            state.trackers, state.values, state.rules = trackers, values, rule_states
        self._pending = {
            key for key, s in self._assets.items() if any(not r.firing for r in s.rules.values())
        }
        return self.reconcile(now_ms)

    # -- inspection ------------------------------------------------------------------------

    def open_alarms(self) -> dict[tuple[str, str, str], FaultAlarm]:
        return {
            (s.site, s.asset, fault): alarm
            for s in self._assets.values()
            for fault, alarm in s.alarms.items()
        }

    def size(self) -> dict[str, int]:
        """How much state is held: assets, samples in rate/window deques, open rule states."""
        return {
            "assets": len(self._assets),
            "samples": sum(
                len(t.samples) for s in self._assets.values() for t in s.trackers.values()
            ),
            "rule_states": sum(len(s.rules) for s in self._assets.values()),
        }

    def horizon_ms(self) -> int:
        """How far back stored history must be replayed to rebuild windows and rates."""
        spans = [leaf.span_ms for kr in self._kinds.values() for leaf in kr.leaves]
        return max(spans, default=0)


_EMPTY = KindRules((), {}, (), (), {}, (), lambda latest, values, now, heard: (), {})
