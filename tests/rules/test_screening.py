"""The generated screen and the three-valued closures must agree on "the condition holds"."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from facility_dispatch.ingest.catalogue import CATALOGUE, MetricSpec
from facility_dispatch.rules.conditions import AssetState
from facility_dispatch.rules.engine import RuleEngine
from facility_dispatch.rules.loader import default_rules_text, load_default
from tests.rules.helpers import ruleset
from tests.rules.test_engine_properties import value_of

# every number a rule compares with: values exactly at a threshold are where > and >= differ
EDGES = sorted(
    {float(v) for v in re.findall(r"value: (-?[0-9.]+)", default_rules_text())} | {0.0, 1.0, 5.0}
)


def edged(spec: MetricSpec) -> st.SearchStrategy[object]:
    if spec.numeric:
        return value_of(spec) | st.sampled_from(EDGES)
    return value_of(spec)


SYNTHETIC = ruleset(
    {
        "condition": {
            "not": {"any": [{"metric": "pressure_bar", "outside": [1, 5]}, {"silent_for": "1m"}]}
        }
    },
    {
        "condition": {
            "all": [
                {"not": {"metric": "pump_running", "op": "==", "value": True}},
                {"metric": "flow_m3h", "rate_per_min": {"op": ">=", "value": 0}},
            ]
        }
    },
    {
        "condition": {
            "any": [
                {
                    "metric": "tank_level_pct",
                    "window": "1m",
                    "agg": "stddev",
                    "op": ">",
                    "value": 1,
                },
                {"not": {"metric": "leak_detected", "op": "!=", "value": False}},
            ]
        }
    },
)
ENGINES = [RuleEngine(load_default()), RuleEngine(SYNTHETIC)]


@st.composite
def states(draw: st.DrawFn, kind: str) -> AssetState:
    specs = CATALOGUE[kind]
    names = draw(st.lists(st.sampled_from(sorted(specs)), unique=True, max_size=len(specs)))
    state = AssetState("site", kind, "a1")
    state.latest = {name: draw(edged(specs[name])) for name in names}
    # 140 s and 80 s make now - last_ms exactly 1m and 2m: the edges of the silent rules
    state.heard_ms = draw(st.sampled_from([-1, 0, 80_000, 100_000, 140_000, 200_000]))
    for slot in range(8):
        if draw(st.booleans()):
            state.values[slot] = draw(
                st.none() | st.floats(-50, 50, allow_nan=False) | st.sampled_from(EDGES)
            )
    return state


@settings(max_examples=300, deadline=None)
@given(data=st.data(), kind=st.sampled_from(["elevator", "water", "power", "cctv"]))
def test_screen_agrees_with_the_closures(data: st.DataObject, kind: str) -> None:
    state = data.draw(states(kind))
    now = 200_000
    for machine in ENGINES:
        kind_rules = machine._kinds.get(kind)
        if kind_rules is None:
            continue
        screened = kind_rules.screen(state.latest, state.values, now, state.heard_ms)
        expected = tuple(rule.condition(state, now) is True for rule in kind_rules.rules)
        if True in expected:
            assert screened == expected
        else:
            assert screened is None  # "none holds", without the tuple
