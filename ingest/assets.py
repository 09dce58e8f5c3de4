"""The asset directory: who is out there, when each was last heard, and what it said last.

Kept in memory on the ingest path (a dictionary look-up per reading) and written to the
registry table in the background, so a slow or absent database never holds readings back.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from facility_dispatch.ingest.sql import AssetRecord, AssetUpdate
from facility_dispatch.kernel.clock import from_ms
from facility_dispatch.kernel.readings import Presence, Reading, RejectReason

AssetPolicy = Literal["auto", "strict"]
_MISSES_KEPT: Final = 10_000


@dataclass(frozen=True, slots=True)
class AssetLimits:
    """What one device (or a forged topic) may make the service remember.

    Under the ``auto`` policy every new topic is a new asset and every new metric name a new
    entry; without bounds a device could grow memory and the registry without end (measured:
    1,000 messages naming new assets with 3,500 metrics each took the service from 295 MB to
    955 MB)."""

    metrics_per_asset: int = 256
    assets_per_site: int = 5_000
    assets: int = 50_000


@dataclass(slots=True)
class _Entry:
    kind: str
    registered: bool
    last_seen_ms: int | None = None
    online: bool | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    """Every metric admitted so far (``metrics`` holds only what has been stored)."""


class AssetDirectory:
    """Admits readings by the asset policy and remembers what must be written back."""

    def __init__(
        self,
        records: list[AssetRecord],
        policy: AssetPolicy = "auto",
        lookup: Callable[[str, str], AssetRecord | None] | None = None,
        limits: AssetLimits | None = None,
    ) -> None:
        self._policy = policy
        self._lookup = lookup
        self._limits = limits or AssetLimits()
        self._entries: dict[tuple[str, str], _Entry] = {
            (r.site, r.asset): _Entry(
                r.kind,
                r.registered,
                int(r.last_seen.timestamp() * 1000) if r.last_seen else None,
                r.online,
                dict(r.metrics),
                set(r.metrics),
            )
            for r in records
        }
        self._per_site: Counter[str] = Counter(site for site, _ in self._entries)
        # changed and not yet written, in the order they first changed (a dict as an ordered
        # set): a flush of part of them takes the oldest, so none waits behind the others
        self._dirty: dict[tuple[str, str], None] = {}
        self._unwritten: set[tuple[str, str]] = set()  # first seen, not yet in the registry
        self._lock = threading.Lock()
        self._missed: OrderedDict[tuple[str, str], int] = OrderedDict()

    def admit(self, reading: Reading, now_ms: int) -> tuple[RejectReason, str] | None:
        """None if the reading may be stored, else why not."""
        key = (reading.site, reading.asset)
        entry = self._entries.get(key)
        if entry is None:
            full = self._full(reading.site)
            if full is not None:
                return RejectReason.ASSET_LIMIT, full
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
        names = entry.names
        if not names.issuperset(reading.metrics):
            new = reading.metrics.keys() - names
            limit = self._limits.metrics_per_asset
            if len(names) + len(new) > limit:
                return (
                    RejectReason.METRIC_LIMIT,
                    f"{reading.site}/{reading.asset} would have {len(names) + len(new)} distinct"
                    f" metrics, the limit is {limit} (FACILITY_MAX_METRICS_PER_ASSET)",
                )
            names.update(new)
        return None

    def _full(self, site: str) -> str | None:
        """Why no new asset may be remembered at ``site``, or None if one may."""
        limits = self._limits
        if self._per_site[site] >= limits.assets_per_site:
            return (
                f"site {site} has {limits.assets_per_site} assets already"
                " (FACILITY_MAX_ASSETS_PER_SITE)"
            )
        if len(self._entries) >= limits.assets:
            return f"the service holds {limits.assets} assets already (FACILITY_MAX_ASSETS)"
        return None

    def _add(self, key: tuple[str, str], entry: _Entry) -> None:
        self._entries[key] = entry
        self._per_site[key[0]] += 1

    def _first_sight(self, key: tuple[str, str], kind: str, now_ms: int) -> _Entry | None:
        if self._policy == "auto":
            entry = _Entry(kind, False)
            self._add(key, entry)
            self._unwritten.add(key)
            return entry
        # strict: someone may have registered it since we loaded; ask at most every 5 s
        if self._lookup is None or now_ms - self._missed.get(key, -10_000) < 5_000:
            return None
        record = self._lookup(*key)
        if record is None or not record.registered:
            self._missed[key] = now_ms
            self._missed.move_to_end(key)
            if len(self._missed) > _MISSES_KEPT:  # forged names must not grow it without end
                self._missed.popitem(last=False)
            return None
        entry = _Entry(record.kind, True)
        self._add(key, entry)
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
                self._dirty[key] = None

    def presence(self, presence: Presence) -> tuple[RejectReason, str] | None:
        """Record online/offline; else why not (unknown under the strict policy, or full)."""
        key = (presence.site, presence.asset)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                if self._policy == "strict":
                    return (
                        RejectReason.UNKNOWN_ASSET,
                        f"{presence.site}/{presence.asset} is not registered",
                    )
                full = self._full(presence.site)
                if full is not None:
                    return RejectReason.ASSET_LIMIT, full
                entry = _Entry(presence.kind, False)
                self._add(key, entry)
            entry.online = presence.online
            self._dirty[key] = None
            return None

    def register(self, record: AssetRecord) -> None:
        with self._lock:
            entry = self._entries.get((record.site, record.asset))
            if entry is None:  # registered by a person: not held to the limits of discovery
                self._add((record.site, record.asset), _Entry(record.kind, True))
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

    def take_updates(self, limit: int | None = None) -> list[AssetUpdate]:
        """What changed since the last call; give it back with :meth:`restore` if unwritten.

        With ``limit``, the ``limit`` assets that changed first, and every asset seen for
        the first time (an alarm or an order may name it next); the rest wait for the next
        call. A fleet's flush of every asset that spoke held the ingest writer for a sixth
        of a second; in parts it holds it for a few hundredths."""
        with self._lock:
            if limit is None or len(self._dirty) <= limit:
                dirty: list[tuple[str, str]] = list(self._dirty)
                self._dirty = {}
            else:
                dirty = list(itertools.islice(self._dirty, limit))
                taken = set(dirty)
                dirty += [k for k in self._unwritten if k in self._dirty and k not in taken]
                for key in dirty:
                    del self._dirty[key]
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
            self._dirty.update(dict.fromkeys((u.site, u.asset) for u in updates))
