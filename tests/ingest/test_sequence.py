"""Seq epochs: a repeated seq is a duplicate, a device that restarted its counter is not."""

from __future__ import annotations

import pytest

from ingest.sequence import RESET_GAP, SeqState, next_epoch


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
