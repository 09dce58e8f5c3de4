"""The asset directory: who is out there, when each was last heard, and what it said last.

Kept in memory on the ingest path (a dictionary look-up per reading) and written to the
registry table in the background, so a slow or absent database never holds readings back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from facility.clock import from_ms
from ingest.readings import Presence, Reading, RejectReason
from ingest.sql import AssetRecord, AssetUpdate

AssetPolicy = Literal["auto", "strict"]


@dataclass(slots=True)
class _Entry:
    kind: str
    registered: bool
    last_seen_ms: int | None = None
    online: bool | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


class AssetDirectory:
    """Admits readings by the asset policy and remembers what must be written back."""

    def __init__(
        self,
        records: list[AssetRecord],
        policy: AssetPolicy = "auto",
        lookup: Callable[[str, str], AssetRecord | None] | None = None,
    ) -> None:
        self._policy = policy
        self._lookup = lookup
        self._entries: dict[tuple[str, str], _Entry] = {
            (r.site, r.asset): _Entry(
                r.kind,
                r.registered,
                int(r.last_seen.timestamp() * 1000) if r.last_seen else None,
                r.online,
                dict(r.metrics),
            )
            for r in records
        }
        self._dirty: set[tuple[str, str]] = set()
        self._unwritten: set[tuple[str, str]] = set()  # first seen, not yet in the registry
        self._lock = threading.Lock()
        self._missed: dict[tuple[str, str], int] = {}

    def admit(self, reading: Reading, now_ms: int) -> tuple[RejectReason, str] | None:
        """None if the reading may be stored, else why not."""
        key = (reading.site, reading.asset)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._first_sight(key, reading.kind, now_ms)
            if entry is None:
                return (
                    RejectReason.UNKNOWN_ASSET,
                    f"{reading.site}/{reading.asset} is not registered (asset policy strict)",
                )
        if entry.kind != reading.kind:
            return (
                RejectReason.KIND_MISMATCH,
                f"{reading.site}/{reading.asset} is a {entry.kind}, not a {reading.kind}",
            )
        return None

    def _first_sight(self, key: tuple[str, str], kind: str, now_ms: int) -> _Entry | None:
        if self._policy == "auto":
            entry = _Entry(kind, False)
            self._entries[key] = entry
            self._unwritten.add(key)
            return entry
        # strict: someone may have registered it since we loaded; ask at most every 5 s
        if self._lookup is None or now_ms - self._missed.get(key, -10_000) < 5_000:
            return None
        record = self._lookup(*key)
        if record is None or not record.registered:
            self._missed[key] = now_ms
            return None
        entry = _Entry(record.kind, True)
        self._entries[key] = entry
        return entry

    def saw(self, readings: list[Reading]) -> None:
        """Fold stored readings into last_seen and the latest metrics."""
        with self._lock:
            entries = self._entries
            for reading in readings:
                key = (reading.site, reading.asset)
                entry = entries[key]
                if entry.last_seen_ms is None or reading.ts_ms >= entry.last_seen_ms:
                    entry.last_seen_ms = reading.ts_ms
                    entry.metrics.update(reading.metrics)
                self._dirty.add(key)

    def presence(self, presence: Presence) -> bool:
        """Record online/offline; False if the asset is unknown under the strict policy."""
        key = (presence.site, presence.asset)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                if self._policy == "strict":
                    return False
                entry = _Entry(presence.kind, False)
                self._entries[key] = entry
            entry.online = presence.online
            self._dirty.add(key)
            return True

    def register(self, record: AssetRecord) -> None:
        with self._lock:
            entry = self._entries.get((record.site, record.asset))
            if entry is None:
                self._entries[(record.site, record.asset)] = _Entry(record.kind, True)
            else:
                entry.kind = record.kind
                entry.registered = True
            self._missed.pop((record.site, record.asset), None)

    def latest(self, site: str, asset: str) -> dict[str, Any] | None:
        entry = self._entries.get((site, asset))
        return dict(entry.metrics) if entry else None

    def last_seen_ms(self) -> dict[tuple[str, str], tuple[str, int | None]]:
        """(site, asset) -> (kind, last_seen_ms): the rule engine's silent-device timer uses it."""
        return {k: (e.kind, e.last_seen_ms) for k, e in self._entries.items()}

    @property
    def has_new(self) -> bool:
        """Assets seen for the first time and not yet written: write them before anything
        (an alarm, an order) refers to them."""
        return bool(self._unwritten)

    def take_updates(self) -> list[AssetUpdate]:
        """What changed since the last call; give it back with :meth:`restore` if unwritten."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            self._unwritten.clear()
            updates = []
            for site, asset in dirty:
                entry = self._entries[(site, asset)]
                updates.append(
                    AssetUpdate(
                        site,
                        asset,
                        entry.kind,
                        from_ms(entry.last_seen_ms) if entry.last_seen_ms else None,
                        entry.online,
                        dict(entry.metrics),
                    )
                )
            return updates

    def restore(self, updates: list[AssetUpdate]) -> None:
        with self._lock:
            # new assets among them are written by the periodic flush, not before every batch
            # (the database may be away for a while)
            self._dirty.update((u.site, u.asset) for u in updates)
