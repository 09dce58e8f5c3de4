"""The ingest worker: messages in, readings stored once, then acknowledged and handed on.

One thread owns the write path, so batches are stored in arrival order and the broker is
acknowledged in that order too (MQTT asks for PUBACKs in order). It takes everything queued at
each turn: under load the batches grow, and batched SQLite writes are where the rate comes from.

The queue between paho's thread and this one is bounded. Under more load than the machine can
take, the backlog must wait in the broker's queue (built and configured for it), not in this
process: Mosquitto 2.0 does not hold to the client's MQTT 5 Receive Maximum once messages for
many topics arrive while we are connected (measured: 29,600 unacknowledged deliveries against a
Receive Maximum of 2,000), and an unbounded queue grew past a million messages and a gigabyte.
When the queue is full, paho's thread waits in ``submit`` until the writer has made room; it
reads no more from the socket meanwhile, so TCP pushes back to the broker, which keeps the rest.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Final

from facility_dispatch.ingest import topics
from facility_dispatch.ingest.assets import AssetDirectory
from facility_dispatch.ingest.decoding import DecodePolicy, decode_status, decode_telemetry
from facility_dispatch.ingest.metrics import IngestMetrics
from facility_dispatch.ingest.mqtt import InboundMessage
from facility_dispatch.ingest.sql import SqlAssetRegistry, SqlDeadLetters
from facility_dispatch.ingest.store import ReadingRefusedError, TelemetryStore
from facility_dispatch.kernel.readings import DeadLetter, Presence, Reading, Rejection, RejectReason

log = logging.getLogger(__name__)

PAYLOAD_HEAD_BYTES: Final = 256
MAX_BATCH_MESSAGES: Final = 5000
MAX_QUEUED_MESSAGES: Final = 10_000
"""Messages taken from the broker and not yet stored: two full batches, a few MB at most."""
FULL_QUEUE_WAIT_SECONDS: Final = 5.0
"""How long paho's thread waits for room before it takes one more message anyway: if the
writer is stalled (the store is away), paho's thread still turns now and then."""
LINGER_SECONDS: Final = 0.02
"""After the first message of a batch, wait this long for more when few are queued: a commit
costs about the same for 1 reading as for 100, so a few milliseconds of latency buy throughput."""
REGISTRY_FLUSH_SECONDS: Final = 1.0
REGISTRY_FLUSH_MAX_SECONDS: Final = 10.0
REGISTRY_FLUSH_SHARE: Final = 0.05
REGISTRY_FLUSH_ASSETS: Final = 2000
"""Assets written by one flush while ingest runs (the oldest changes first): a flush of 10,000
held the writer, and every reading and alarm behind it, for about 0.17 s."""
_STOP: Final = object()


def flush_interval(spent_seconds: float) -> float:
    """Seconds until the next asset-registry flush, after one that took ``spent_seconds``.

    Every second while a flush is short. A fleet's flush writes every asset that spoke (10,000
    rows of last-seen and latest values): flushed every second it took a sixth of the writer's
    time under 10,000 readings/s (measured with py-spy, issue 18), so a flush comes as often
    as keeps it to 1/20 of that time, never more than 10 s apart; and it writes at most
    :data:`REGISTRY_FLUSH_ASSETS` (see there). A clean stop flushes everything; after a kill -9
    a stored last-seen lags by what was not yet flushed (silence rules wait minutes)."""
    paced = spent_seconds / REGISTRY_FLUSH_SHARE
    return min(max(REGISTRY_FLUSH_SECONDS, paced), REGISTRY_FLUSH_MAX_SECONDS)


ReadingsHook = Callable[[list[Reading]], None]
PresenceHook = Callable[[list[Presence]], None]
"""Called once a batch with its presences: 5,000 devices coming online at once are one
transaction, not 5,000 (measured: a minute of ingest stalled behind them)."""
TickHook = Callable[[int], None]
AckHook = Callable[[list[InboundMessage]], None]


def dead_letter(message: InboundMessage, rejection: Rejection) -> DeadLetter:
    head = message.payload[:PAYLOAD_HEAD_BYTES].decode("utf-8", errors="replace")
    detail = rejection.detail
    if rejection.index is not None:
        detail = f"reading [{rejection.index}]: {detail}"
    return DeadLetter(message.received_ms, message.topic, head, rejection.reason, detail)


class IngestPipeline:
    """Runs the write path on its own thread. ``submit`` is called from paho's thread."""

    def __init__(
        self,
        store: TelemetryStore,
        directory: AssetDirectory,
        registry: SqlAssetRegistry,
        dead_letters: SqlDeadLetters,
        metrics: IngestMetrics,
        *,
        policy: DecodePolicy,
        now_ms: Callable[[], int],
        ack: AckHook,
        tick_seconds: float = 1.0,
        max_queued: int = MAX_QUEUED_MESSAGES,
        lag_limit_seconds: float = 120.0,
    ) -> None:
        self._store = store
        self._directory = directory
        self._registry = registry
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._policy = policy
        self._now_ms = now_ms
        self._ack = ack
        self._tick_seconds = tick_seconds
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._max_queued = max_queued
        self._room = threading.Condition()
        self._waiting = False
        self.peak_queue_depth = 0
        self.lag_seconds = 0.0
        self._lag_limit_seconds = lag_limit_seconds
        self._pending_letters: list[DeadLetter] = []
        self._readings_hooks: list[ReadingsHook] = []
        self._presence_hooks: list[PresenceHook] = []
        self._tick_hooks: list[TickHook] = []
        self._thread: threading.Thread | None = None
        self._last_tick = 0.0
        self._last_flush = 0.0
        self._flush_interval = REGISTRY_FLUSH_SECONDS
        self.store_healthy = True
        self._devices: dict[str, topics.DeviceTopic] = {}
        self._busy = False
        self._last_submit = 0.0

    def on_readings(self, hook: ReadingsHook) -> None:
        self._readings_hooks.append(hook)

    def on_presence(self, hook: PresenceHook) -> None:
        self._presence_hooks.append(hook)

    def on_tick(self, hook: TickHook) -> None:
        self._tick_hooks.append(hook)

    def submit(self, message: InboundMessage) -> None:
        """Queue a message; with the queue full, wait (on paho's thread) until there is room."""
        self._queue.put(message)
        self._last_submit = time.monotonic()
        depth = self._queue.qsize()
        if depth > self.peak_queue_depth:
            self.peak_queue_depth = depth
        if depth >= self._max_queued:
            self._wait_for_room()

    def _wait_for_room(self) -> None:
        self._metrics.backpressure.inc()
        deadline = time.monotonic() + FULL_QUEUE_WAIT_SECONDS
        with self._room:
            self._waiting = True
            try:
                while self._queue.qsize() >= self._max_queued:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._thread is None:
                        return
                    self._room.wait(min(remaining, 0.05))  # short: a missed notify costs little
            finally:
                self._waiting = False

    def _made_room(self) -> None:
        if self._waiting:
            with self._room:
                self._room.notify_all()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Store what is queued, write the registry and the dead letters, then return."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None
        self._made_room()

    def settle(self, timeout: float = 3.0, quiet: float = 0.2) -> None:
        """Wait until what has arrived is stored and acknowledged and the broker has stopped
        sending for ``quiet`` seconds (messages of the receive window may still be on the
        way): a clean stop then leaves the broker nothing to deliver again. Under a stream
        that never pauses it gives up after ``timeout``: those are delivered again, once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (
            self._queue.qsize() or self._busy or time.monotonic() - self._last_submit < quiet
        ):
            time.sleep(0.01)

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    @property
    def behind(self) -> bool:
        """Ingest is further behind the devices than the operator allows: health says
        ``degraded`` (the readings are old when judged; a backlog waits in the broker)."""
        return self.lag_seconds > self._lag_limit_seconds

    @property
    def alive(self) -> bool:
        """False once the write thread has died: health and readiness say so, and ``facility
        run`` stops rather than run on without ingest."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            while self._turn():
                pass
        except BaseException:
            log.critical("the ingest thread stopped on an error", exc_info=True)
            raise

    def _turn(self) -> bool:
        """One batch (or one idle tick); False once stopped. Survives anything a batch does."""
        try:
            first = self._queue.get(timeout=self._tick_seconds)
        except queue.Empty:
            self._survive(self._housekeeping, False)
            return True
        self._busy = True  # from the first message on, until its batch is acknowledged
        batch: list[InboundMessage] = []
        stopping = first is _STOP
        if not stopping:
            batch.append(first)  # type: ignore[arg-type]
            if self._queue.qsize() < 100:
                time.sleep(LINGER_SECONDS)
        while len(batch) < MAX_BATCH_MESSAGES:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stopping = True
                continue
            batch.append(item)  # type: ignore[arg-type]
        self._made_room()
        try:
            if batch:
                self._process_surviving(batch)
        finally:
            self._busy = False
        if stopping:
            while not self._queue.empty():  # whatever paho delivered before it stopped
                rest = [m for m in self._drain() if m is not _STOP]
                if rest:
                    self._process_surviving(rest)  # type: ignore[arg-type]
            self._survive(self._housekeeping, True)
            return False
        self._survive(self._housekeeping, False)
        return True

    def _process_surviving(self, batch: list[InboundMessage]) -> None:
        """``process``, and if a fault of ours escapes it, each message on its own: the one
        that trips it is dead-lettered and acknowledged, the others go through."""
        try:
            self.process(batch)
            return
        except Exception:
            self._metrics.worker_errors.inc()
            log.exception("a batch of %d messages failed; taking them one by one", len(batch))
        for message in batch:
            try:
                self.process([message])
            except Exception as error:
                self._metrics.worker_errors.inc()
                log.exception("message on %s could not be handled; dead-lettered", message.topic)
                self._refuse_unhandled(message, error)

    def _refuse_unhandled(self, message: InboundMessage, error: Exception) -> None:
        letter = dead_letter(
            message,
            Rejection(RejectReason.UNHANDLED, f"could not be handled ({type(error).__name__})"),
        )
        self._metrics.rejected.labels(letter.reason.value).inc()
        self._pending_letters.append(letter)
        try:
            self._ack([message])
        except Exception:
            log.exception("acknowledging %s failed", message.topic)

    def _survive(self, work: Callable[..., None], *args: object) -> None:
        try:
            work(*args)
        except Exception:
            self._metrics.worker_errors.inc()
            log.exception("ingest housekeeping failed; ingest carries on")

    def _drain(self) -> list[object]:
        items: list[object] = []
        while len(items) < MAX_BATCH_MESSAGES:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._made_room()
        return items

    def process(self, batch: list[InboundMessage]) -> list[Reading]:
        """Decode, admit, store (retrying until stored), ack, hand on. Never raises on input."""
        now_ms = self._now_ms()
        readings: list[Reading] = []
        origins: list[InboundMessage] = []  # the message each reading came in
        rejected: list[DeadLetter] = []
        presences: list[Presence] = []
        received = 0
        devices = self._devices
        for message in batch:
            device = devices.get(message.topic)
            if device is None:
                try:
                    device = topics.parse(message.topic)
                except topics.TopicError as error:
                    rejected.append(
                        dead_letter(message, Rejection(RejectReason.BAD_TOPIC, str(error)))
                    )
                    received += 1
                    continue
                if len(devices) > 100_000:  # made-up topics must not grow it without end
                    devices.clear()
                devices[message.topic] = device
            if device.channel == "status":
                status = decode_status(device, message.payload, message.received_ms)
                if isinstance(status, Rejection):
                    rejected.append(dead_letter(message, status))
                    continue
                refusal = self._directory.presence(status)
                if refusal is None:
                    presences.append(status)
                else:
                    rejected.append(dead_letter(message, Rejection(*refusal)))
                continue
            if device.channel != "telemetry":
                continue  # our own alarm topic, if a wildcard ever brings it
            decoded = decode_telemetry(device, message.payload, message.received_ms, self._policy)
            received += len(decoded.readings) + len(decoded.rejections)
            for rejection in decoded.rejections:
                rejected.append(dead_letter(message, rejection))
            for index, reading in enumerate(decoded.readings):
                refusal = self._directory.admit(reading, now_ms)
                if refusal is None:
                    readings.append(reading)
                    origins.append(message)
                else:
                    reason, detail = refusal
                    position = index if len(decoded.readings) > 1 else None
                    rejected.append(dead_letter(message, Rejection(reason, detail, position)))

        refused_before = len(rejected)
        stored = self._store_isolating(readings, origins, rejected)
        refused_by_store = len(rejected) - refused_before
        if stored:
            self._directory.saw(stored)
        if self._directory.has_new:
            self.flush_registry(REGISTRY_FLUSH_ASSETS)
        self._ack(batch)

        metrics = self._metrics
        metrics.messages.inc(len(batch))
        metrics.received.inc(received)
        metrics.stored.inc(len(stored))
        if len(readings) > len(stored) + refused_by_store:
            metrics.duplicates.inc(len(readings) - len(stored) - refused_by_store)
        if readings:
            metrics.batch.observe(len(readings))
            self.lag_seconds = max(0.0, (now_ms - max(r.ts_ms for r in readings)) / 1000)
            metrics.lag.set(self.lag_seconds)
        for letter in rejected:
            metrics.rejected.labels(letter.reason.value).inc()
        metrics.queue_depth.set(self._queue.qsize())
        if rejected:
            self._pending_letters.extend(rejected)
            if len(self._pending_letters) > 10_000:  # the database is away: keep the newest
                del self._pending_letters[:-10_000]

        if presences:
            for presence_hook in self._presence_hooks:
                self._call(presence_hook, presences)
        if stored:
            for hook in self._readings_hooks:
                self._call(hook, stored)
        return stored

    def _store_isolating(
        self, readings: list[Reading], origins: list[InboundMessage], rejected: list[DeadLetter]
    ) -> list[Reading]:
        """Store the readings; those the store refuses for what they hold are found by halving
        the batch, dead-lettered and left out, so that one can never hold up the rest.

        Good readings are never dropped: while the store is away (any other failure) the
        write is retried with backoff until it takes them."""
        if not readings:
            return []
        delay = 0.1
        while True:
            try:
                stored = self._store.write(readings)
                self.store_healthy = True
                return stored
            except ReadingRefusedError as error:  # the adapter says: this data, not an outage
                self._metrics.store_errors.inc()
                if len(readings) > 1:
                    half = len(readings) // 2
                    return self._store_isolating(
                        readings[:half], origins[:half], rejected
                    ) + self._store_isolating(readings[half:], origins[half:], rejected)
                origin = origins[0]
                log.warning("telemetry store refused a reading from %s: %s", origin.topic, error)
                detail = f"the store refused it: {error}"[:300]
                rejected.append(dead_letter(origin, Rejection(RejectReason.STORE_REFUSED, detail)))
                return []
            except Exception:
                self.store_healthy = False
                self._metrics.store_errors.inc()
                log.exception("telemetry store refused a batch of %d; retrying", len(readings))
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _call(self, hook: Callable[..., None], *args: object) -> None:
        try:
            hook(*args)
        except Exception:
            log.exception("a consumer of ingested readings failed; ingest carries on")

    def _housekeeping(self, force: bool) -> None:
        now = time.monotonic()
        if force or now - self._last_flush >= self._flush_interval:
            self._last_flush = now
            self.flush_registry(None if force else REGISTRY_FLUSH_ASSETS)
            self._flush_interval = flush_interval(time.monotonic() - now)
        if now - self._last_tick >= self._tick_seconds:
            self._last_tick = now
            self._call(self._store.maintain)
            now_ms = self._now_ms()
            for hook in self._tick_hooks:
                self._call(hook, now_ms)

    def flush_registry(self, limit: int | None = None) -> None:
        """Write asset changes (of at most ``limit`` assets besides new ones) and dead letters;
        if the database is away, keep them for later."""
        updates = self._directory.take_updates(limit)
        try:
            self._registry.apply(updates)
        except Exception:
            self._directory.restore(updates)
            log.warning("asset registry not written (database unavailable?); will retry")
        letters, self._pending_letters = self._pending_letters, []
        try:
            self._dead_letters.add(letters)
        except Exception:
            self._pending_letters = letters + self._pending_letters
            log.warning("dead letters not written (database unavailable?); will retry")
