"""How fast fleet mode publishes, and how much of it the broker delivers end to end.

Starts a private Mosquitto with the project's queue limits (``tests/services.running_broker``),
a raw-socket subscriber in a process of its own (QoS 1, counting the readings in every message),
then runs fleet mode in stages of rising target rate. Each stage reports the rate the fleet
achieved, what the broker acknowledged, and what reached the subscriber. The ramp stops at
the first stage that cannot hold its target; the last line is

    sim_publish_rate=<readings/s> delivered_share=<0..1> ...

where ``sim_publish_rate`` is the highest achieved rate of a stage that held its target
(within 5%) and ``delivered_share`` the share of that stage's readings the subscriber got.

Run: ``.venv/bin/python benchmarks/simulator_rate.py`` (about 1.5 minutes).
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
import time
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facility_dispatch.simulators.estate import SiteLayout  # noqa: E402
from facility_dispatch.simulators.fleet import Fleet  # noqa: E402
from tests.services import running_broker  # noqa: E402

DEVICES_PER_KIND = 1250  # 5,000 devices and their 79 NVRs
TARGETS = (25_000, 50_000, 100_000, 125_000, 150_000, 175_000, 200_000, 250_000)
STAGE_SECONDS = 8.0
BATCH = 20
CONNECTIONS = 4
HELD = 0.95


def _length(n: int) -> bytes:
    """MQTT's variable-length 'remaining length'."""
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def subscribe(port: int, counted: Synchronized[int], ready: Event, stop: Event) -> None:
    """A raw-socket MQTT 3.1.1 subscriber at QoS 1: counts ``"seq":`` in every telemetry message.

    Raw rather than paho because on a 2-core machine a paho subscriber needs most of a core at
    these rates and would take it from the broker and the fleet being measured; this one
    parses packets with bytes operations and acknowledges a whole read's PUBLISHes in one send.
    """
    import socket

    sock = socket.create_connection(("127.0.0.1", port))
    client_id = b"bench-sub"
    connect = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id
    sock.sendall(b"\x10" + _length(len(connect)) + connect)
    topic = b"facility/+/+/+/telemetry"
    subscribe = b"\x00\x01" + len(topic).to_bytes(2, "big") + topic + b"\x01"
    sock.sendall(b"\x82" + _length(len(subscribe)) + subscribe)
    sock.settimeout(0.05)
    buffer = bytearray()
    total = 0
    last_ping = time.monotonic()
    while not stop.is_set():
        if time.monotonic() - last_ping > 20:
            sock.sendall(b"\xc0\x00")  # PINGREQ: keep-alive is 60 s
            last_ping = time.monotonic()
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            counted.value = total
            continue
        if not chunk:
            break
        buffer += chunk
        pos, size, acks = 0, len(buffer), []
        while size - pos >= 2:
            header, i, remaining, shift = buffer[pos], pos + 1, 0, 0
            while i < size:
                byte = buffer[i]
                remaining |= (byte & 0x7F) << shift
                shift += 7
                i += 1
                if byte < 0x80:
                    break
            else:
                break  # the length itself is not complete yet
            end = i + remaining
            if end > size:
                break
            kind = header >> 4
            if kind == 3:  # PUBLISH
                start = i + 2 + int.from_bytes(buffer[i : i + 2], "big")
                if header & 0x06:
                    acks.append(b"\x40\x02" + bytes(buffer[start : start + 2]))
                    start += 2
                total += buffer.count(b'"seq":', start, end)
            elif kind == 9:  # SUBACK
                ready.set()
            pos = end
        del buffer[:pos]
        if acks:
            sock.sendall(b"".join(acks))
        counted.value = total
    counted.value = total
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()


def wait_delivered(counted: Synchronized[int], expected: int, timeout: float) -> int:
    """Wait until the subscriber has counted ``expected`` readings or stops counting."""
    deadline = time.monotonic() + timeout
    last, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        value = counted.value
        if value >= expected:
            return value
        if value != last:
            last, still_since = value, time.monotonic()
        elif time.monotonic() - still_since > 2.0:
            break
        time.sleep(0.05)
    return counted.value


def main() -> None:
    context = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp) / "broker") as broker:
        counted: Synchronized[int] = context.Value("q", 0)  # type: ignore[assignment]
        ready, stop = context.Event(), context.Event()
        reader = context.Process(target=subscribe, args=(broker.port, counted, ready, stop))
        reader.start()
        if not ready.wait(15):
            raise SystemExit("the subscriber did not subscribe")
        print(
            f"broker on port {broker.port}; {DEVICES_PER_KIND * 4} devices (+NVRs), batch "
            f"{BATCH}, {CONNECTIONS} connections, {STAGE_SECONDS:g}s per stage, QoS 1"
        )
        best: tuple[float, float, int] | None = None
        peak = 0.0
        try:
            for stage, target in enumerate(TARGETS, start=1):
                layout = SiteLayout(
                    f"bench-{stage}",
                    elevators=DEVICES_PER_KIND,
                    water=DEVICES_PER_KIND,
                    power=DEVICES_PER_KIND,
                    cctv=DEVICES_PER_KIND,
                )
                devices = DEVICES_PER_KIND * 4 + layout.recorders
                fleet = Fleet(
                    [layout],
                    broker.url,
                    rate=target / devices,
                    batch=BATCH,
                    connections=CONNECTIONS,
                    presence=False,
                    seed=stage,
                    client_prefix=f"bench-{stage}",
                )
                before = counted.value
                report = fleet.run(STAGE_SECONDS, report_every=None)
                got = wait_delivered(counted, before + report.readings, timeout=30) - before
                share = got / report.readings if report.readings else 0.0
                held = report.achieved_rate >= HELD * report.target_rate
                peak = max(peak, report.achieved_rate)
                print(
                    f"stage {stage}: target {report.target_rate:>9,.0f} readings/s  achieved "
                    f"{report.achieved_rate:>9,.0f}  acknowledged {report.acknowledged_rate:>9,.0f}"
                    f"  delivered {got:>9,}/{report.readings:,} ({share:.4f})"
                    f"  {'held' if held else 'NOT held'}",
                    flush=True,
                )
                if not held:
                    break
                if best is None or report.achieved_rate > best[0]:
                    best = (report.achieved_rate, share, stage)
        finally:
            stop.set()
            reader.join(10)
    if best is None:
        raise SystemExit("no stage held its target")
    rate, share, stage = best
    print(
        f"sim_publish_rate={rate:.1f} delivered_share={share:.4f} peak_achieved={peak:.1f} "
        f"stage={stage} batch={BATCH} connections={CONNECTIONS}"
    )


if __name__ == "__main__":
    main()
