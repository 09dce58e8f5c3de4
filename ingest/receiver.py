"""paho's network loop in a process of its own, beside the service's process.

paho decodes every packet in Python: on the one interpreter lock it shared with decoding,
the rules and storage, so each slowed the other (measured: paho's thread held the lock
25 us a message, our writer 12 us a reading, and the writer's SQLite steps waited for paho
to hand the lock back). Here paho runs alone in a child process and hands the service
batches of messages over a pipe; the service acknowledges each batch once it is stored, and
the child sends the PUBACKs, in order, on the connection that received them.

Nothing is held that the broker does not also hold: the child takes at most ``max_pending``
messages ahead of the service (then paho's thread waits, reads no more from the socket, and
TCP pushes back to the broker, as in the process before), and nothing is acknowledged but
what the service stored. If the service's process dies (kill -9), the child sees its pipe
close and leaves at once, acknowledging nothing more; the broker delivers the rest again.
If the child dies, the service starts another (a new connection: acknowledgements for the
old one's messages are dropped, and the broker delivers those again).

The same surface as :class:`MqttConnection`, which does the MQTT work inside the child.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import Any, Final

from facility_dispatch.ingest.mqtt import (
    ConnectionState,
    InboundMessage,
    MessageSink,
    MqttConnection,
)
from facility_dispatch.kernel.endpoint import MqttEndpoint

log = logging.getLogger(__name__)

GENERATION: Final = 1_000_000
"""A child's connection numbers are offset by this times the children before it, so an ack
meant for a dead child's connection never matches its successor's."""
RESTART_SECONDS: Final = 1.0


class ReceiverProcess(ConnectionState):
    """An MQTT connection whose paho loop runs in a child process."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        client_id: str,
        subscriptions: list[str],
        sink: MessageSink | None = None,
        *,
        max_pending: int = 10_000,
        **options: Any,
    ) -> None:
        self._endpoint = endpoint
        self._args = (endpoint, client_id, subscriptions, options, max_pending)
        self._sink = sink
        self._connected = threading.Event()
        self._connection = 0
        self._generation = 0
        self._closing = False
        self._child: subprocess.Popen[bytes] | None = None
        self._control: Connection | None = None
        self._control_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self.last_error: str | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (benchmarks count its CPU)."""
        child = self._child
        return child.pid if child is not None else None

    def start(self) -> None:
        self._closing = False
        inbox = self._spawn()
        self._reader = threading.Thread(
            target=self._read, args=(inbox,), name="mqtt-receiver-reader", daemon=True
        )
        self._reader.start()

    def _spawn(self) -> Connection:
        """Start a child; the end of the pipe its messages arrive on.

        A fresh interpreter running this module, not multiprocessing's spawn: that imports
        the parent's ``__main__`` again in the child (a script, a test runner, uvicorn), and
        fork is unsafe in a process with threads."""
        inbox, outbox = os.pipe()
        commands, control = os.pipe()
        child = subprocess.Popen(
            [sys.executable, "-m", __spec__.name, str(outbox), str(commands)],
            stdin=subprocess.PIPE,
            pass_fds=(outbox, commands),
        )
        os.close(outbox)  # the child's ends: only the child holds them now
        os.close(commands)
        assert child.stdin is not None
        with child.stdin:
            child.stdin.write(pickle.dumps(self._args))
        self._generation += 1
        with self._control_lock:
            self._child, self._control = child, Connection(control, readable=False)
        return Connection(inbox, writable=False)

    def _read(self, inbox: Connection) -> None:
        """Hand each message to the sink, in the order the child received them; restart the
        child if it dies while the service runs."""
        while True:
            try:
                while True:
                    records = pickle.loads(inbox.recv_bytes())
                    self._take(records)
            except (EOFError, OSError):
                pass
            except Exception:
                log.exception("MQTT receiver: a batch could not be taken; restarting the child")
            inbox.close()
            self._connected.clear()
            if self._closing:
                return
            self.last_error = "the MQTT receiver process stopped"
            log.error("MQTT %r: %s; starting another", self._endpoint, self.last_error)
            self._reap()
            time.sleep(RESTART_SECONDS)
            if self._closing:
                return
            inbox = self._spawn()
            if self._closing:  # stopped while this child started: stop() may have missed it
                inbox.close()
                self._reap()
                return

    def _take(self, records: list[tuple[Any, ...]]) -> None:
        sink = self._sink
        offset = (self._generation - 1) * GENERATION  # the first child's numbers as they are
        for record in records:
            if record[0] is None:
                self._state(record[1], offset + record[2], record[3])
            elif sink is not None:
                topic, payload, qos, mid, received_ms, connection = record
                sink(InboundMessage(topic, payload, qos, mid, received_ms, offset + connection))

    def _state(self, connected: bool | None, connection: int, error: str | None) -> None:
        if connected is None:  # a new connection: its messages may come before the SUBACK
            self._connection = connection  # and are acknowledged on it
        elif connected:
            self._connection = connection
            self.last_error = None
            self._connected.set()
            log.info("MQTT connected to %r (receiver process)", self._endpoint)
        else:
            self._connected.clear()
            if error and not self._closing:
                self.last_error = error
                log.warning("MQTT %r: %s; paho reconnects", self._endpoint, error)

    def _send(self, command: tuple[Any, ...]) -> bool:
        with self._control_lock:
            if self._control is None:
                return False
            try:
                self._control.send(command)
                return True
            except (OSError, ValueError):  # the child is gone: its messages come again
                return False

    def ack(self, messages: Iterable[InboundMessage]) -> None:
        """Acknowledge messages, in the order received, if their connection is still the one."""
        current = self._connection
        mids = [m.mid for m in messages if m.qos == 1 and m.connection == current]
        if mids:
            self._send(("ack", current % GENERATION, mids))

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> bool:
        return self._send(("publish", topic, payload, qos, retain))

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect once the queued acknowledgements are out, then end the child."""
        self._closing = True
        self._send(("stop", timeout))
        self._reap(timeout + 2.0)
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        self._connected.clear()

    def _reap(self, timeout: float = 0.0) -> None:
        with self._control_lock:
            child, control = self._child, self._control
            self._child = self._control = None
        if control is not None:
            control.close()  # the child sees its command pipe close and leaves
        if child is not None:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(1.0)


class _Outbox:
    """The child's side: messages and connection changes, in order, sent in batches.

    A plain lock and one wake-up a batch: a Condition notified for every message cost paho's
    thread a tenth of its time (measured)."""

    def __init__(self, pipe: Connection, max_pending: int) -> None:
        self._pipe = pipe
        self._max_pending = max_pending
        self._records: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False

    def message(self, message: InboundMessage) -> None:
        """From paho's thread: with ``max_pending`` waiting, wait for room (TCP pushes back)."""
        self._add(tuple(message))
        while len(self._records) >= self._max_pending and not self._closed:
            time.sleep(0.005)

    def state(self, connected: bool | None, connection: int, error: str | None) -> None:
        self._add((None, connected, connection, error))

    def _add(self, record: tuple[Any, ...]) -> None:
        with self._lock:
            self._records.append(record)
            first = len(self._records) == 1
        if first:  # the sender may be asleep: the rest of this batch finds it awake
            self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    def run(self) -> None:
        """Send whatever has gathered, as one batch, as soon as the pipe takes it."""
        while True:
            if not self._closed:
                self._wake.wait()
            self._wake.clear()
            with self._lock:
                records, self._records = self._records, []
            if not records:
                if self._closed:
                    return
                continue
            try:
                self._pipe.send_bytes(pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:  # the service is gone
                os._exit(0)


def _child_main(
    endpoint: MqttEndpoint,
    client_id: str,
    subscriptions: list[str],
    options: dict[str, Any],
    max_pending: int,
    outbox_pipe: Connection,
    commands: Connection,
) -> None:
    """The child: paho's loop, a sender thread, and this thread taking the service's commands.

    Ctrl-C and a supervisor's SIGTERM reach the whole process group (systemd's control group,
    a terminal); the child leaves them to the service, which stops it in its own time, after
    the last acknowledgements are out (ended at once, their messages would come again). A
    service that dies closes the pipe, and the child leaves then."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # the service logs what the child tells it (connects, disconnects, errors) in its own
    # format; the child writes nothing of its own but a crash's traceback
    logging.getLogger().addHandler(logging.NullHandler())
    outbox = _Outbox(outbox_pipe, max_pending)
    connection = MqttConnection(endpoint, client_id, subscriptions, outbox.message, **options)
    connection.on_state(outbox.state)
    sender = threading.Thread(target=outbox.run, name="mqtt-outbox", daemon=True)
    sender.start()
    connection.start()
    while True:
        try:
            command = commands.recv()
        except (EOFError, OSError):  # the service died: acknowledge nothing more, leave now
            os._exit(0)
        if command[0] == "ack":
            connection.ack_mids(command[1], command[2])
        elif command[0] == "publish":
            connection.publish(command[1], command[2], command[3], command[4])
        elif command[0] == "stop":
            connection.stop(command[1])
            outbox.close()
            sender.join(command[1])
            return


if __name__ == "__main__":  # the child: python -m facility_dispatch.ingest.receiver OUT IN
    endpoint, client_id, subscriptions, options, max_pending = pickle.loads(sys.stdin.buffer.read())
    _child_main(
        endpoint,
        client_id,
        subscriptions,
        options,
        max_pending,
        Connection(int(sys.argv[1]), readable=False),
        Connection(int(sys.argv[2]), writable=False),
    )
