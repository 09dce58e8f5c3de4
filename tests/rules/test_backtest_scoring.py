"""Issue 17's scoring: "an alarm that overlaps a labelled fault or ends within 60 s of it
counts as a detection", by an alarm that fired at most 60 s before the fault began (one that
fires once and never resolves must not detect every fault after it). Pure: alarms and
episodes in, a score out."""

from __future__ import annotations

import pytest

from facility_dispatch.rules.backtest import BacktestAlarm, Episode, Score, score

S = 1000
FAULT = Episode("estate-1", "pump-1", 1000 * S, 1100 * S)  # a fault from 1000 s to 1100 s
END = 5000 * S  # the end of the data


def alarm(fired_s: int, resolved_s: int | None, asset: str = "pump-1") -> BacktestAlarm:
    return BacktestAlarm(
        "estate-1",
        asset,
        "water_pump",
        "flow_abnormal",
        "rule",
        "warning",
        fired_s * S,
        None if resolved_s is None else resolved_s * S,
        False,
    )


@pytest.mark.parametrize(
    ("fired_s", "resolved_s", "detects", "delay_s"),
    [
        (1010, 1050, True, 10.0),  # inside the fault
        (940, 1200, True, 0.0),  # on 60 s before it and after it
        (939, 1200, False, None),  # on 61 s before it: raised by something else
        (100, 1200, False, None),  # on long before it
        (1090, 3000, True, 90.0),  # fires during it, lasts long after
        (950, 1000, True, 0.0),  # ends as it begins
        (945, 940, True, 0.0),  # ends 60 s before it began
        (945, 939, False, None),  # ends 61 s before it began
        (1101, 1150, True, 101.0),  # fires after it, and is over 50 s after it ended
        (1101, 1160, True, 101.0),  # ... over 60 s after
        (1101, 1161, False, None),  # ... over 61 s after: its end is not within 60 s
        (1130, 3000, False, None),  # fires 30 s after it ended and stays on long after
        (1101, None, False, None),  # fires after it and never ends: no overlap, no end
        (1050, None, True, 50.0),  # fires during it, still on at the end of the data
        (990, None, True, 0.0),
        (900, None, False, None),  # on 100 s before it and never ends
    ],
)
def test_an_alarm_detects_by_overlap_or_by_ending_within_60_s(
    fired_s: int, resolved_s: int | None, detects: bool, delay_s: float | None
) -> None:
    result = score([alarm(fired_s, resolved_s)], [FAULT], END)
    assert result.detected == int(detects)
    assert result.false_alarms == int(not detects)
    assert result.mean_delay_s == delay_s


def test_an_alarm_of_another_asset_detects_nothing() -> None:
    result = score([alarm(1010, 1050, asset="pump-2")], [FAULT], END)
    assert (result.detected, result.false_alarms) == (0, 1)


def test_one_alarm_that_never_resolves_scores_badly() -> None:
    """The strategy "fire once at the start and never resolve" covers every fault: it must not
    score. Sixteen faults, 20 minutes apart, one alarm on from the first second."""
    faults = [
        Episode("estate-1", "pump-1", (1200 * n + 600) * S, (1200 * n + 1000) * S)
        for n in range(16)
    ]
    always_on = score([alarm(0, None)], faults, 1200 * 16 * S)
    assert (always_on.detected, always_on.false_alarms) == (0, 1)
    assert always_on.recall == 0.0 and always_on.precision == 0.0
    # nor when it fires just before the first fault: it detects that one only
    early = score([alarm(590, None)], faults, 1200 * 16 * S)
    assert early.detected == 1 and early.recall == 1 / 16 and early.precision == 1.0
    # while an alarm for each fault, each over when its fault is, finds them all
    each = [alarm(f.start_ms // S + 20, f.end_ms // S + 30) for f in faults]
    assert score(each, faults, 1200 * 16 * S).recall == 1.0


def test_scores_of_separate_runs_add_up() -> None:
    first = score([alarm(1010, 1050)], [FAULT], END)  # detected after 10 s
    second = score([alarm(1030, 1050), alarm(2000, 2100)], [FAULT], END)  # 30 s, and a false one
    both = first.plus(second)
    assert (both.episodes, both.detected, both.alarms, both.false_alarms) == (2, 2, 3, 1)
    assert both.mean_delay_s == 20.0 and both.precision == 2 / 3
    assert Score(0, 0, 0, 0).plus(first) == first
