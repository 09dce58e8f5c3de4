"""The telemetry store port: where readings are kept, and how history comes back out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal, NamedTuple, Protocol

from facility_dispatch.kernel.readings import MetricValue, Reading

Aggregate = Literal["mean", "min", "max", "last"]


class Point(NamedTuple):
    ts_ms: int
    value: MetricValue


class ReadingRefusedError(Exception):
    """The store cannot keep these readings as they are (a value it cannot represent, a field
    whose type it has fixed otherwise): trying again will not help, unlike an outage.

    Adapters raise it for what their data refuses and let every other failure (a connection,
    a full disk, a lock) through, which the write path takes as "the store is away" and
    retries. The write path isolates the reading at fault by splitting the batch."""


class TelemetryStore(Protocol):
    """Readings by (site, asset), time-ordered.

    Contract shared by every adapter (``tests/ingest/test_store_contract.py`` runs it on each):

    * ``write`` is atomic for a batch and durable when it returns (the caller acknowledges the
      MQTT messages afterwards), and idempotent: a reading whose (asset, ts) or (asset, seq) is
      already stored is left out. It returns the readings that are new, in batch order, so
      that rule evaluation sees each reading once. A batch holding a reading the store can
      never keep raises :class:`ReadingRefusedError` and stores nothing of the batch.
    * ``history`` answers oldest first; with ``every_ms`` it returns one point per bucket
      (bucket start time), aggregated by ``agg`` for numbers and the last value otherwise.
    * ``since`` streams stored readings newer than ``since_ms``, per asset in time order
      (rule recovery after a restart replays them).
    """

    def write(self, readings: Sequence[Reading]) -> list[Reading]: ...

    def history(
        self,
        site: str,
        asset: str,
        metric: str,
        start_ms: int,
        end_ms: int,
        every_ms: int | None = None,
        agg: Aggregate = "mean",
        limit: int = 10_000,
    ) -> list[Point]: ...

    def since(self, since_ms: int) -> Iterator[Reading]: ...

    def prune(self, before_ms: int) -> int: ...

    def maintain(self) -> None:
        """Called every second from the write path's thread: catch up on deferred work (an
        adapter that buffered readings while its server was away sends them now)."""
        ...

    def healthy(self) -> bool: ...

    def close(self) -> None: ...
