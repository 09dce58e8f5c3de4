"""A disk spool for readings the telemetry store could not take: kept in order, drained later.

Each batch is one file (line protocol text), named by a counter so that the drain takes them
oldest first. A file is written to a temporary name, fsynced, then renamed, so a crash leaves
either the whole batch or none of it. Past ``max_bytes`` the spool refuses more, and the
caller stops acknowledging MQTT: the broker's queue becomes the buffer (back-pressure).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class SpoolFullError(Exception):
    """The spool holds ``max_bytes`` already: stop taking readings until it drains."""


class DiskSpool:
    def __init__(self, directory: Path, max_bytes: int = 5 * 1024**3) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        for leftover in self._dir.glob("*.tmp"):
            leftover.unlink()
        existing = self._segments()
        self._next = int(existing[-1].stem) + 1 if existing else 0
        self._bytes = sum(p.stat().st_size for p in existing)

    def _segments(self) -> list[Path]:
        return sorted(self._dir.glob("*.lp"), key=lambda p: int(p.stem))

    def __len__(self) -> int:
        return len(self._segments())

    @property
    def bytes(self) -> int:
        return self._bytes

    def append(self, lines: str) -> None:
        data = lines.encode()
        with self._lock:
            if self._bytes + len(data) > self._max_bytes:
                raise SpoolFullError(f"spool at {self._dir} holds {self._bytes} bytes")
            name = f"{self._next:012d}"
            self._next += 1
            tmp = self._dir / f"{name}.tmp"
            with tmp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.rename(self._dir / f"{name}.lp")
            self._bytes += len(data)

    def drain(
        self,
        send: Callable[[str], None],
        limit: int = 100,
        refused: Callable[[Exception], bool] = lambda _error: False,
    ) -> int:
        """Send the oldest batches until one fails or ``limit`` are sent; returns how many.

        A batch whose failure ``refused`` says is its own (not the store's absence) is moved to
        ``refused/`` and kept for someone to look at; the drain goes on past it."""
        sent = 0
        with self._lock:
            for segment in self._segments()[:limit]:
                text = segment.read_text()
                size = segment.stat().st_size
                try:
                    send(text)  # raises when the store is still away: the batch stays
                except Exception as error:
                    if not refused(error):
                        raise
                    aside = self._dir / "refused"
                    aside.mkdir(exist_ok=True)
                    segment.rename(aside / segment.name)
                    log.error("spooled batch %s refused (%s); set aside", segment.name, error)
                else:
                    segment.unlink()
                    sent += 1
                self._bytes -= size
        return sent
