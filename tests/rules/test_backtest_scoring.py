"""Issue 17's scoring: "an alarm that overlaps a labelled fault or ends within 60 s of it
counts as a detection". Pure: alarms and episodes in, a score out."""

from __future__ import annotations

import pytest

from facility_dispatch.rules.backtest import BacktestAlarm, Episode, score

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
        (900, 1200, True, 0.0),  # on before it and after it
        (1090, 3000, True, 90.0),  # fires during it, lasts long after
        (900, 1000, True, 0.0),  # ends as it begins
        (800, 940, True, 0.0),  # ends 60 s before it began
        (800, 939, False, None),  # ends 61 s before it began
        (1101, 1150, True, 101.0),  # fires after it, and is over 50 s after it ended
        (1101, 1160, True, 101.0),  # ... over 60 s after
        (1101, 1161, False, None),  # ... over 61 s after: its end is not within 60 s
        (1130, 3000, False, None),  # fires 30 s after it ended and stays on long after
        (1101, None, False, None),  # fires after it and never ends: no overlap, no end
        (1050, None, True, 50.0),  # fires during it, still on at the end of the data
        (990, None, True, 0.0),
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
