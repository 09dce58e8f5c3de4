"""The rule engine: readings and the clock in, alarm changes out. Pure: no I/O, no clock.

Everything is judged in the readings' own time (SPEC section 2), so a replay at any speed
raises the alarms live telemetry would. A ``for``, a window, a rate and a silence measure the
time between readings' timestamps, and every change carries the time it happened in the data:
a ``for`` that runs out fires at the moment it ran out (``since + for``), a device that falls
silent is silent from ``last reading + silent_for``, whether a tick or the device's next
reading finds it. A reading first settles what ran out before it, then is judged.

:meth:`RuleEngine.tick` takes the caller's clock, and turns it into data time: the newest
reading time seen from any asset (never ahead of the clock at which it was heard), moved on by
the clock only for the time since the engine last heard anything at all. So the service's own
lag (a backlog being worked off, a slow batch) never looks like a device's silence, and an
asset from which nothing arrives while the rest of the estate talks is silent by the data,
while an estate where nothing arrives at all is judged by the clock.

A reading older than the newest one already evaluated for its asset is stored by ingest but not
evaluated: rules see each asset's history in order. An episode never resolves before it fired.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from facility_dispatch.kernel.readings import Reading
from facility_dispatch.rules.conditions import (
    AssetState,
    Baseline,
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
from facility_dispatch.rules.feeding import Feed, feed_function
from facility_dispatch.rules.loader import RuleSet, metrics_of
from facility_dispatch.rules.models import (
    SEVERITY_RANK,
    SITE_DEFAULTS,
    AllOf,
    AnyOf,
    Condition,
    Deviation,
    Not,
    Rate,
    RuleSpec,
    Silent,
    Window,
)
from facility_dispatch.rules.screening import Screen, screen_function


def _quiet_ms(condition: Condition | None) -> int:
    """The shortest ``silent_for`` in a condition, in ms; 0 when it has none."""
    if condition is None:
        return 0
    if isinstance(condition, Silent):
        return int(condition.silent_for.total_seconds() * 1000)
    parts: list[Condition] = []
    if isinstance(condition, AllOf):
        parts = condition.all
    elif isinstance(condition, AnyOf):
        parts = condition.any
    elif isinstance(condition, Not):
        parts = [condition.not_]
    spans = [q for q in (_quiet_ms(c) for c in parts) if q > 0]
    return min(spans, default=0)


@dataclass(frozen=True, slots=True)
class SavedBaseline:
    """One asset's learned baseline of one deviation leaf, as stored between runs."""

    site: str
    asset: str
    kind: str
    leaf: str  # the leaf's identity (JSON): metric, window, baseline, min_change, rule
    last_ms: int  # its newest sample
    state: dict[str, Any]  # Baseline.snapshot()


@dataclass(frozen=True, slots=True)
class CompiledRule:
    index: int
    spec: RuleSpec
    metrics: frozenset[str]
    condition: Evaluator
    clear: Evaluator | None
    value: Callable[[AssetState], Any]
    for_ms: int
    quiet_ms: int  # its shortest silent_for; 0: not a silence rule
    rank: int

    @property
    def silent(self) -> bool:
        return self.quiet_ms > 0

    def applies_to(self, site: str) -> bool:
        return any(fnmatchcase(site, pattern) for pattern in self.spec.sites)


@dataclass(frozen=True, slots=True)
class KindRules:
    rules: tuple[CompiledRule, ...]
    by_fault: dict[str, tuple[CompiledRule, ...]]
    leaves: tuple[Leaf, ...]
    leaf_keys: dict[tuple[Any, ...], int]
    silent_rules: tuple[CompiledRule, ...]
    screen: Screen
    feed: Feed  # takes a reading into the leaves' trackers (generated: see rules.feeding)
    position: dict[int, int]  # rule index -> its place in what ``screen`` returns
    slot_of: Callable[[Rate | Window | Deviation], int] = lambda _condition: 0
    quiet_ms: int = 0  # the shortest silence any rule of the kind watches for
    screens: dict[tuple[tuple[str, float], ...], Screen] = field(default_factory=dict)

    def screen_at(self, params: Mapping[str, float]) -> Screen:
        """The screen with limits at these site parameters (generated once per set)."""
        if not params or params == SITE_DEFAULTS:
            return self.screen
        key = tuple(sorted(params.items()))
        screen = self.screens.get(key)
        if screen is None:
            conditions = [r.spec.condition for r in self.rules]
            screen = self.screens[key] = screen_function(conditions, self.slot_of, params)
        return screen

    @property
    def none_hold(self) -> tuple[bool, ...]:
        """What ``screen`` means by None."""
        return (False,) * len(self.rules)


def _compile_kind(rules: list[RuleSpec], start: int) -> KindRules:
    compiler = Compiler()
    compiled = []
    for offset, spec in enumerate(rules):
        compiler.owner = (start + offset, spec.id)
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
                quiet_ms=_quiet_ms(spec.condition),
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
        feed=feed_function(list(by_metric.items())),
        leaf_keys=dict(compiler.leaf_keys()),
        silent_rules=tuple(r for r in compiled if r.silent),
        screen=screen_function([r.spec.condition for r in compiled], compiler.slot_of),
        position={r.index: offset for offset, r in enumerate(compiled)},
        slot_of=compiler.slot_of,
        quiet_ms=min((r.quiet_ms for r in compiled if r.silent), default=0),
    )


SKEW_MS = 30_000
"""How far behind the estate a device's readings may lie and still be its own time for a
silence: the interleaving of a replay, or devices' clocks a little apart. A device further
behind (a clock minutes slow, a gateway catching up) is heard at the estate's time less this,
so it is not taken for silent while it talks."""


class RuleEngine:
    """Holds per-asset state (bounded: latest values, capped sample deques, bucketed baselines,
    rule states) and the data time the estate has reached."""

    def __init__(
        self, ruleset: RuleSet, sites: Mapping[str, Mapping[str, float]] | None = None
    ) -> None:
        self.ruleset = ruleset
        self._kinds = self._compile(ruleset)
        self._assets: dict[tuple[str, str], AssetState] = {}
        self._pending: set[tuple[str, str]] = set()
        self._applies: dict[tuple[int, str], bool] = {}
        self._site_rules: dict[tuple[int, str], tuple[CompiledRule, ...]] = {}
        self._sites: dict[str, dict[str, float]] = {}
        self._watermark_ms = -1  # the newest reading time judged, from any asset
        self._arrival_ms = -1  # the caller's clock when the engine last heard anything
        if sites:
            self.set_sites(sites)

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

    # -- sites ---------------------------------------------------------------------------

    def set_sites(self, sites: Mapping[str, Mapping[str, float]]) -> None:
        """The sites' parameters (``nominal_voltage_v``, ...); a site not named keeps the
        defaults. Limits that name a parameter follow from the next reading on."""
        self._sites = {
            site: {**SITE_DEFAULTS, **{k: float(v) for k, v in params.items()}}
            for site, params in sites.items()
        }
        for state in self._assets.values():
            state.params = self._params(state.site)
            state.screen = None

    def _params(self, site: str) -> dict[str, float]:
        params = self._sites.get(site)
        return params if params is not None else dict(SITE_DEFAULTS)

    def parameters(self, site: str) -> dict[str, float]:
        """The parameters the site's limits are judged with now."""
        return dict(self._params(site))

    # -- state ---------------------------------------------------------------------------

    def _state(self, site: str, asset: str, kind: str) -> AssetState:
        key = (site, asset)
        state = self._assets.get(key)
        if state is None:
            state = AssetState(site, kind, asset, params=self._params(site))
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

    def _feed(self, state: AssetState, kind_rules: KindRules, reading: Reading) -> None:
        ts_ms = state.last_ms = state.heard_ms = reading.ts_ms
        metrics = reading.metrics
        state.latest.update(metrics)
        kind_rules.feed(state, metrics, ts_ms)

    def _rules_at(self, kind_rules: KindRules, site: str) -> tuple[CompiledRule, ...]:
        """The rules of a kind whose ``sites`` globs take this site (worked out once a site)."""
        key = (id(kind_rules), site)
        rules = self._site_rules.get(key)
        if rules is None:
            rules = tuple(r for r in kind_rules.rules if r.applies_to(site))
            self._site_rules[key] = rules
        return rules

    # -- time ------------------------------------------------------------------------------

    def resume(self, reached_ms: int, clock_ms: int) -> None:
        """After a restart: the estate's readings had reached ``reached_ms`` when the service
        stopped, and the engine starts judging at ``clock_ms``. The time the service was away
        is its own, not the devices': their readings of that time wait in the broker and come
        in now, so silence runs on from where the data stopped, not from the stop to now
        (which made every camera silent after a restart longer than its ``silent_for``)."""
        if reached_ms > self._watermark_ms:
            self._watermark_ms = min(reached_ms, clock_ms)
            self._arrival_ms = clock_ms

    def data_now(self, clock_ms: int) -> int:
        """The data time the estate has reached when the caller's clock reads ``clock_ms``."""
        if self._watermark_ms < 0:
            return clock_ms
        return self._watermark_ms + max(0, clock_ms - self._arrival_ms)

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(self, reading: Reading, heard_ms: int | None = None) -> list[AlarmChange]:
        """Feed one reading, heard at ``heard_ms`` on the caller's clock (default: its own
        time); the alarm changes it causes, in order."""
        state = self._assets.get((reading.site, reading.asset))
        if state is None:
            state = self._state(reading.site, reading.asset, reading.kind)
        now = reading.ts_ms
        # how far the estate has got (see data_now), written out: this runs for every reading
        heard = now if heard_ms is None else heard_ms
        if heard > self._arrival_ms:
            self._arrival_ms = heard
        reached = now if now < heard else heard  # a fast clock must not make others silent
        if reached > self._watermark_ms:
            self._watermark_ms = reached
        if now <= state.last_ms:
            return []
        kind_rules = self._kinds.get(reading.kind)
        if kind_rules is None:
            state.last_ms = state.heard_ms = now
            state.latest.update(reading.metrics)
            return []
        changes: list[AlarmChange] = []
        quiet = kind_rules.quiet_ms
        if state.rules or (quiet and state.heard_ms >= 0 and now - state.heard_ms > quiet):
            self._run_out(kind_rules, state, now, changes)  # what ran out before this reading
        self._feed(state, kind_rules, reading)
        if state.heard_ms < self._watermark_ms - SKEW_MS:
            # a device whose clock runs slow, or a gateway sending what it buffered, is talking
            # now: its silence starts from how far the estate has got, less the skew allowed
            state.heard_ms = self._watermark_ms - SKEW_MS
        active = state.rules
        # judged at the reading's time, the device is heard from just now: not silent
        screen = state.screen
        if screen is None or state.screen_of is not kind_rules:
            screen = state.screen = kind_rules.screen_at(state.params)
            state.screen_of = kind_rules
        holds = screen(state.latest, state.values, now, now)
        if holds is None:
            if not active:
                return changes  # nearly every reading: nothing open, nothing holds
            holds = kind_rules.none_hold
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
            state.last_ms = state.heard_ms = reading.ts_ms
            state.latest.update(reading.metrics)
            return
        self._feed(state, kind_rules, reading)

    def tick(self, now_ms: int) -> list[AlarmChange]:
        """Time passes (``now_ms`` on the caller's clock): silent devices, and ``for`` running
        out without a new reading, each at the data time it happened."""
        until = self.data_now(now_ms)
        changes: list[AlarmChange] = []
        for key in list(self._pending):
            state = self._assets[key]
            kind_rules = self._kinds.get(state.kind)
            if kind_rules is not None:
                self._run_out(kind_rules, state, until, changes, silences=False, inclusive=True)
            if not any(not s.firing for s in state.rules.values()):
                self._pending.discard(key)
        silent_kinds = {k: kr for k, kr in self._kinds.items() if kr.silent_rules}
        if silent_kinds:
            for state in self._assets.values():
                kind_rules = silent_kinds.get(state.kind)
                if kind_rules is None or state.heard_ms < 0:
                    continue
                if until - state.heard_ms >= kind_rules.quiet_ms:
                    self._run_out(kind_rules, state, until, changes, inclusive=True)
        return changes

    def _run_out(
        self,
        kind_rules: KindRules,
        state: AssetState,
        until: int,
        changes: list[AlarmChange],
        silences: bool = True,
        inclusive: bool = False,
    ) -> None:
        """Settle what happened on an asset before ``until`` with no reading of its own:
        silences that began (at last reading + silent_for), then ``for`` that ran out (at
        since + for), each judged at the moment it happened. Before a reading (not
        ``inclusive``) what runs out at the reading's own time is left to the reading."""
        end = until + 1 if inclusive else until
        if silences and state.heard_ms >= 0:
            for rule in kind_rules.silent_rules:
                if rule.index in state.rules or not self._applies_to(rule, state.site):
                    continue
                onset = state.heard_ms + rule.quiet_ms
                if onset < end:
                    self._step(rule, kind_rules, state, onset, changes)
        if not state.rules:
            return
        for rule in kind_rules.rules:
            rule_state = state.rules.get(rule.index)
            if rule_state is None or rule_state.firing:
                continue
            deadline = rule_state.since_ms + rule.for_ms
            if deadline < end:
                self._step(rule, kind_rules, state, deadline, changes)

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
                    firing.spec.id, firing.spec.severity, True, begun, value, now
                )
                changes.append(self._change(AlarmFired, state, firing.spec, value, now, begun))
            elif firing.rank > SEVERITY_RANK[current.severity]:
                current.rule_id = firing.spec.id
                current.severity = firing.spec.severity
                current.value = value
                at = max(now, current.fired_ms)
                changes.append(
                    self._change(AlarmEscalated, state, firing.spec, value, at, current.started_ms)
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
                    max(now, current.fired_ms, current.started_ms),
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
            fired = alarm.fired_ms if alarm.fired_ms is not None else -1
            state.alarms[alarm.fault] = FaultAlarm(
                alarm.rule_id, alarm.severity, firing, alarm.started_ms, alarm.value, fired
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
        now_ms = self.data_now(now_ms)
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
            trackers: dict[int, Tracker | Baseline] = {}
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

    # -- learned baselines across restarts ---------------------------------------------------

    def baselines(self) -> Iterator[SavedBaseline]:
        """What every asset's deviation leaves have learned, to be stored (see
        :meth:`load_baselines`); ``last_ms`` says whether it changed since it was last kept."""
        for state in self._assets.values():
            kind_rules = self._kinds.get(state.kind)
            if kind_rules is None:
                continue
            for key, slot in kind_rules.leaf_keys.items():
                tracker = state.trackers.get(slot)
                if isinstance(tracker, Baseline) and tracker.last_ms >= 0:
                    yield SavedBaseline(
                        state.site,
                        state.asset,
                        state.kind,
                        json.dumps(list(key)),
                        tracker.last_ms,
                        tracker.snapshot(),
                    )

    def load_baselines(self, saved: Iterable[SavedBaseline]) -> list[SavedBaseline]:
        """Take back stored baselines (after a restart, before the stored readings are
        replayed: those it had seen are skipped). A baseline of a rule that changed meanwhile
        (another leaf key), or one not well formed, is left out: that rule learns afresh, as
        on a reload. Returns those left out."""
        left: list[SavedBaseline] = []
        for one in saved:
            kind_rules = self._kinds.get(one.kind)
            slot = None
            if kind_rules is not None:
                try:
                    slot = kind_rules.leaf_keys.get(tuple(json.loads(one.leaf)))
                except (ValueError, TypeError):
                    slot = None
            leaf = kind_rules.leaves[slot] if kind_rules is not None and slot is not None else None
            tracker = leaf.tracker() if leaf is not None and leaf.owner >= 0 else None
            if isinstance(tracker, Baseline) and tracker.restore(one.state):
                self._state(one.site, one.asset, one.kind).trackers[slot] = tracker  # type: ignore[index]
            else:
                left.append(one)
        return left

    # -- inspection ------------------------------------------------------------------------

    def open_alarms(self) -> dict[tuple[str, str, str], FaultAlarm]:
        return {
            (s.site, s.asset, fault): alarm
            for s in self._assets.values()
            for fault, alarm in s.alarms.items()
        }

    def size(self) -> dict[str, int]:
        """How much state is held: assets, samples in rate/window deques (and buckets of
        deviation baselines), open rule states."""
        return {
            "assets": len(self._assets),
            "samples": sum(
                len(t.samples) if isinstance(t, Tracker) else len(t.recent) // 4 + len(t.base) // 3
                for s in self._assets.values()
                for t in s.trackers.values()
            ),
            "rule_states": sum(len(s.rules) for s in self._assets.values()),
        }

    def horizon_ms(self) -> int:
        """How far back stored history must be replayed to rebuild windows and rates."""
        spans = [leaf.span_ms for kr in self._kinds.values() for leaf in kr.leaves]
        return max(spans, default=0)


_EMPTY = KindRules((), {}, (), {}, (), lambda latest, values, now, heard: (), feed_function(()), {})
