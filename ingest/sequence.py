"""Which numbering epoch a reading's ``seq`` belongs to: a device that reboots starts again at 0.

SPEC section 1 makes a repeated (asset, seq) a duplicate. Taken without thought that would
throw away every reading of a device after a reboot until its counter passed the old value, so
a restarted counter opens a new epoch, and only a seq repeated within an epoch is a duplicate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final, NamedTuple

log = logging.getLogger(__name__)

RETRY_SECONDS: Final = 30.0
"""How often a mark that could not be learned (the store was away) is asked for again."""

RESET_GAP: Final = 10_000
"""A seq this far below the highest seen, on a reading with no time of its own, is a restart:
far more than any broker's in-flight window, so a redelivery never looks like one."""


class SeqState(NamedTuple):
    """Per asset, updated for every reading: a tuple, as a frozen dataclass costs 2 µs here."""

    epoch: int
    max_seq: int
    max_ts_ms: int


def next_epoch(
    state: SeqState | None, seq: int, ts_ms: int, ts_given: bool
) -> tuple[int, SeqState]:
    """The epoch of this reading, and the state after it."""
    if state is None:
        return 0, SeqState(0, seq, ts_ms)
    if seq > state.max_seq:
        return state.epoch, SeqState(state.epoch, seq, max(ts_ms, state.max_ts_ms))
    restarted = (ts_given and ts_ms > state.max_ts_ms) or (
        not ts_given and seq < state.max_seq - RESET_GAP
    )
    if restarted:
        return state.epoch + 1, SeqState(state.epoch + 1, seq, ts_ms)
    return state.epoch, SeqState(state.epoch, state.max_seq, max(ts_ms, state.max_ts_ms))


class SeqMarks:
    """Per-asset high-water marks of ``seq`` for readings without a time of their own, for a
    store that cannot keep a unique index on (asset, epoch, seq) (InfluxDB identifies a point
    by its time, and a redelivered untimed reading gets a new receipt time).

    A seq at or below the asset's mark, within its epoch, is a redelivery. The marks are
    learned from the store itself (``load``: the newest stored seq of the asset and its time),
    once per asset per process, so "each reading once" holds across restarts. The price: a
    device that sends its own readings out of order loses the late ones (QoS 1 from one
    device keeps its order)."""

    def __init__(self, load: Callable[[str, str], SeqState | None]) -> None:
        self._load = load
        self._marks: dict[tuple[str, str], SeqState | None] = {}
        self._unloaded: dict[tuple[str, str], float] = {}  # asset -> when to ask again

    def _retry_load(self, key: tuple[str, str]) -> None:
        if time.monotonic() < self._unloaded[key]:
            return
        try:
            stored = self._load(*key)
        except Exception:
            self._unloaded[key] = time.monotonic() + RETRY_SECONDS
            return
        del self._unloaded[key]
        mine = self._marks[key]
        if stored is not None and (mine is None or stored.max_seq > mine.max_seq):
            # what this process took meanwhile may have been redeliveries the store had:
            # the higher mark is the one that spots the rest of them
            self._marks[key] = SeqState(
                mine.epoch if mine else 0,
                stored.max_seq,
                max(stored.max_ts_ms, mine.max_ts_ms if mine else 0),
            )

    def admit(self, site: str, asset: str, seq: int, ts_ms: int) -> tuple[bool, SeqState | None]:
        """Whether this untimed reading is new (its mark is then raised), and the mark before
        it: give that back to :meth:`restore` if the reading is not stored after all."""
        key = (site, asset)
        if key not in self._marks:
            try:
                self._marks[key] = self._load(site, asset)
            except Exception:  # the store is away: judge this one on what this process saw
                log.warning("no seq mark for %s/%s yet (store unavailable)", site, asset)
                self._marks[key] = None
                self._unloaded[key] = time.monotonic() + RETRY_SECONDS
        elif key in self._unloaded:
            self._retry_load(key)
        before = self._marks[key]
        epoch, after = next_epoch(before, seq, ts_ms, False)
        if before is not None and epoch == before.epoch and seq <= before.max_seq:
            return False, before
        self._marks[key] = after
        return True, before

    def restore(self, site: str, asset: str, mark: SeqState | None) -> None:
        self._marks[(site, asset)] = mark
