"""Whatever the readings, the engine never raises and keeps one open alarm per (asset, fault)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from facility_dispatch.ingest.catalogue import CATALOGUE, DOOR_STATES, MetricSpec, MetricType
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.rules.engine import RuleEngine
from facility_dispatch.rules.events import (
    AlarmChange,
    AlarmDiscarded,
    AlarmEscalated,
    AlarmFired,
    AlarmPending,
    AlarmResolved,
)
from facility_dispatch.rules.loader import load_default
from tests.rules.helpers import T0

PACK = load_default()


def value_of(spec: MetricSpec) -> st.SearchStrategy[object]:
    if spec.type is MetricType.BOOL:
        return st.booleans()
    if spec.type is MetricType.ENUM:
        return st.sampled_from(DOOR_STATES)
    if spec.type is MetricType.STRING:
        return st.sampled_from(["", "E30 door lock"])
    if spec.type is MetricType.INTEGER:
        return st.integers(-3, 40)
    low = spec.low if spec.low is not None else 0.0
    high = spec.high if spec.high is not None else 10_000.0
    return st.floats(low, high, allow_nan=False)


def metrics_for(kind: str) -> st.SearchStrategy[dict[str, object]]:
    specs = CATALOGUE[kind]
    return st.lists(st.sampled_from(sorted(specs)), min_size=1, max_size=5, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: value_of(specs[k]) for k in keys})
    )


step = st.one_of(
    st.tuples(
        st.just("reading"),
        st.sampled_from(["elevator", "water", "power", "cctv"]),
        st.sampled_from(["a1", "a2"]),
        st.integers(0, 200_000),
    ).flatmap(lambda t: st.tuples(st.just(t), metrics_for(t[1]))),
    st.tuples(
        st.tuples(st.just("tick"), st.just(""), st.just(""), st.integers(0, 400_000)), st.just({})
    ),
)

ALLOWED = {
    None: {AlarmPending, AlarmFired},
    "pending": {AlarmFired, AlarmDiscarded},
    "firing": {AlarmEscalated, AlarmResolved},
}


def check(
    changes: list[AlarmChange],
    open_: dict[tuple[str, str, str], str],
    since: dict[tuple[str, str, str], int] | None = None,
) -> None:
    since = {} if since is None else since
    for change in changes:
        state = open_.get(change.key)
        assert type(change) in ALLOWED[state], f"{type(change).__name__} after {state}"
        # an episode's changes never go back in time: it never resolves before it fired
        assert change.at_ms >= since.get(change.key, change.at_ms), change
        since[change.key] = change.at_ms
        if isinstance(change, AlarmResolved | AlarmDiscarded):
            since.pop(change.key)
        if isinstance(change, AlarmPending):
            open_[change.key] = "pending"
        elif isinstance(change, AlarmFired):
            open_[change.key] = "firing"
        elif isinstance(change, AlarmResolved | AlarmDiscarded):
            del open_[change.key]


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(step, max_size=60))
def test_any_sequence_keeps_the_episodes_consistent(steps: list) -> None:  # type: ignore[type-arg]
    machine = RuleEngine(PACK)
    open_: dict[tuple[str, str, str], str] = {}
    since: dict[tuple[str, str, str], int] = {}
    clock = T0
    for (action, kind, asset, gap), metrics in steps:
        clock += gap
        if action == "tick":
            check(machine.tick(clock), open_, since)
        else:
            kind_asset = f"{kind}-{asset}"  # one kind per asset, as ingest guarantees
            reading = Reading("site", kind, kind_asset, clock, metrics)
            check(machine.evaluate(reading), open_, since)
    engine_view = {
        key: ("firing" if a.firing else "pending") for key, a in machine.open_alarms().items()
    }
    assert engine_view == open_
