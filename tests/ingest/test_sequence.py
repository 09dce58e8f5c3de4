"""Seq epochs: a repeated seq is a duplicate, a device that restarted its counter is not."""

from __future__ import annotations

import pytest

from facility_dispatch.ingest.sequence import (
    RESET_GAP,
    RETRY_SECONDS,
    SeqMarks,
    SeqState,
    next_epoch,
)


@pytest.mark.parametrize(
    ("state", "seq", "ts", "given", "epoch", "after"),
    [
        (None, 5, 100, True, 0, SeqState(0, 5, 100)),
        (SeqState(0, 5, 100), 6, 110, True, 0, SeqState(0, 6, 110)),
        # a redelivery: same seq, same or older time -> same epoch (the store spots the repeat)
        (SeqState(0, 6, 110), 6, 110, True, 0, SeqState(0, 6, 110)),
        (SeqState(0, 6, 110), 3, 80, True, 0, SeqState(0, 6, 110)),
        # the device restarted: its counter went back but its clock went on
        (SeqState(0, 6, 110), 0, 120, True, 1, SeqState(1, 0, 120)),
        # no clock of its own: only a fall far beyond any in-flight window is a restart
        (SeqState(2, 50_000, 110), 49_000, 500, False, 2, SeqState(2, 50_000, 500)),
        (SeqState(2, 50_000, 110), 3, 500, False, 3, SeqState(3, 3, 500)),
        (SeqState(0, RESET_GAP + 1, 0), 0, 5, False, 1, SeqState(1, 0, 5)),
    ],
)
def test_next_epoch(
    state: SeqState | None, seq: int, ts: int, given: bool, epoch: int, after: SeqState
) -> None:
    assert next_epoch(state, seq, ts, given) == (epoch, after)


def test_seq_marks_learn_from_the_store_once_and_spot_redeliveries_after_a_restart() -> None:
    asked: list[tuple[str, str]] = []

    def stored(site: str, asset: str) -> SeqState | None:
        asked.append((site, asset))
        return SeqState(0, 41, 1_000) if asset == "p1" else None

    marks = SeqMarks(stored)  # a new process: the store holds p1's readings up to seq 41
    assert marks.admit("s", "p1", 40, 5_000) == (False, SeqState(0, 41, 1_000))  # redelivered
    assert marks.admit("s", "p1", 41, 5_000)[0] is False
    assert marks.admit("s", "p1", 42, 5_001) == (True, SeqState(0, 41, 1_000))
    assert marks.admit("s", "p1", 42, 5_002)[0] is False  # the same one again
    assert marks.admit("s", "p2", 7, 5_000) == (True, None)
    assert marks.admit("s", "p1", 0, 9_000)[0] is False  # a small fall is not a reboot ...
    assert marks.admit("s", "p1", 42 + RESET_GAP + 5, 9_000)[0] is True
    assert marks.admit("s", "p1", 1, 9_500)[0] is True  # ... a fall past the gap is
    assert asked == [("s", "p1"), ("s", "p2")]  # once per asset


def test_a_mark_not_stored_after_all_is_given_back() -> None:
    marks = SeqMarks(lambda _site, _asset: None)
    fresh, before = marks.admit("s", "p1", 10, 100)
    assert fresh and before is None
    marks.restore("s", "p1", before)  # the store refused the batch
    assert marks.admit("s", "p1", 10, 200)[0] is True  # so the retry is not a "duplicate"


def test_a_store_that_is_away_is_asked_again_later(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[object] = [ConnectionError("away"), SeqState(0, 99, 50)]

    def stored(_site: str, _asset: str) -> SeqState | None:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    clock = [1000.0]
    monkeypatch.setattr("facility_dispatch.ingest.sequence.time.monotonic", lambda: clock[0])
    marks = SeqMarks(stored)
    assert marks.admit("s", "p1", 5, 100)[0] is True  # judged on what this process saw
    assert marks.admit("s", "p1", 6, 101)[0] is True  # not asked again yet
    clock[0] += RETRY_SECONDS
    assert marks.admit("s", "p1", 50, 102)[0] is False  # the store knew better: up to 99
    assert answers == []
