"""Patrol rounds, pure: due times in the site's zone, scanning in order, missed, templates."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from facility_dispatch.maintenance.rounds import (
    TEMPLATES,
    OutOfOrderError,
    RoundError,
    RoundFacts,
    check_results,
    check_scan,
    due_rounds,
    findings_per_round,
    missed,
    on_time_ratio,
    parse_times,
    template,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 local


def test_rounds_fall_at_local_times() -> None:
    due = due_rounds((time(9), time(21)), timedelta(hours=2), SHANGHAI, T0, T0 + timedelta(days=1))
    assert [(d.key, d.starts_at.hour, d.due_by.hour) for d in due] == [
        ("2026-11-27T21:00", 13, 15),
        ("2026-11-28T09:00", 1, 3),
    ]


@pytest.mark.parametrize(
    ("visited", "scan", "error"),
    [
        ((), 1, None),
        ((1,), 2, None),
        ((1,), 3, "number 2 comes next"),
        ((), 3, "number 1 comes next"),
        ((1, 2), 2, "recorded already"),
        ((1, 2), 9, "not on this route"),
        ((1, 2), 3, None),
    ],
)
def test_checkpoints_are_scanned_in_order(
    visited: tuple[int, ...], scan: int, error: str | None
) -> None:
    order = (1, 2, 3)
    if error is None:
        check_scan(order, visited, scan)
    else:
        with pytest.raises(OutOfOrderError, match=error):
            check_scan(order, visited, scan)


@pytest.mark.parametrize(
    ("finished", "now", "expected"),
    [
        (None, T0 - timedelta(seconds=1), False),
        (None, T0, False),
        (None, T0 + timedelta(seconds=1), True),
        (T0 - timedelta(minutes=5), T0 + timedelta(days=1), False),
        (T0 + timedelta(minutes=5), T0 + timedelta(days=1), True),  # late counts as missed
    ],
)
def test_missed(finished: datetime | None, now: datetime, expected: bool) -> None:
    assert missed(T0, finished, now) is expected


def test_kpis() -> None:
    facts = [
        RoundFacts(T0, T0 - timedelta(minutes=3), 2),
        RoundFacts(T0, None, 0),
        RoundFacts(T0 + timedelta(days=1), None, 0),  # not due yet: not judged
    ]
    assert on_time_ratio(facts, T0 + timedelta(hours=1)) == 0.5
    assert findings_per_round(facts) == 2.0
    assert on_time_ratio([], T0) is None


def test_results_answer_every_item() -> None:
    check_results(["a", "b"], {"a": True, "b": False})
    with pytest.raises(RoundError, match="no result for item b"):
        check_results(["a", "b"], {"a": True})
    with pytest.raises(RoundError, match="no item c"):
        check_results(["a"], {"a": True, "c": True})


@pytest.mark.parametrize("bad", ["9", "25:00", "09:00:30", "nine"])
def test_start_times_are_hh_mm(bad: str) -> None:
    with pytest.raises(RoundError, match="HH:MM"):
        parse_times([bad])


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templates_in_both_languages(name: str) -> None:
    zh, en = template(name, "zh"), template(name, "en")
    assert len(zh["checkpoints"]) == len(en["checkpoints"]) >= 2
    for a, b in zip(zh["checkpoints"], en["checkpoints"], strict=True):
        assert [i["key"] for i in a["items"]] == [i["key"] for i in b["items"]]
        assert a["name"] != b["name"]
    parse_times(zh["times"])
