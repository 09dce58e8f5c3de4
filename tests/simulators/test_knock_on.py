"""A mains failure at one site stops its lifts, pumps and non-UPS cameras; the rest carry on."""

from __future__ import annotations

from datetime import datetime, timedelta

from facility_dispatch.kernel.readings import Reading
from facility_dispatch.simulators.elevator import Elevator
from facility_dispatch.simulators.estate import Estate, SiteLayout
from facility_dispatch.simulators.telemetry import Tick
from tests.simulators.helpers import MORNING, decode_tick

SITES = [SiteLayout("north", elevators=3, cctv=4), SiteLayout("south", elevators=3, cctv=4)]


def metrics(tick: Tick, site: str, asset: str) -> dict[str, object]:
    reading = tick.reading(asset, site)
    assert reading is not None, f"{site}/{asset} published nothing"
    return dict(reading.metrics)


def until_a_car_carries_riders(estate: Estate, site: str, start: datetime) -> tuple[str, datetime]:
    """Step until a lift at ``site`` is running with people inside (the seed makes it certain)."""
    now = start
    for _ in range(3600):
        estate.step(now)
        for n in (1, 2, 3):
            car = estate.model(f"lift-{n}", site)
            assert isinstance(car, Elevator)
            if car.moving and car.riders and car.speed > 1.0:
                return f"lift-{n}", now
        now += timedelta(seconds=1)
    raise AssertionError("no lift carried anybody for an hour")


def test_mains_failure_knocks_on_across_kinds_at_one_site_only() -> None:
    estate = Estate(SITES, seed=4)
    trapped, now = until_a_car_carries_riders(estate, "north", MORNING)
    estate.inject("mains_failure", site="north", duration=timedelta(minutes=3))
    ticks: list[Tick] = []
    for _ in range(180):
        now += timedelta(seconds=1)
        ticks.append(estate.step(now))
    for tick in ticks:
        decode_tick(tick)  # every reading of the outage is still valid
    first, late = ticks[0], ticks[-1]

    assert [(p.site, p.asset, p.online) for p in first.presence] == [
        ("north", "cam-2", False),
        ("north", "cam-4", False),
    ]
    for tick in ticks:
        board = metrics(tick, "north", "board-1")
        assert board["mains_ok"] is False and board["voltage_v"] == 0.0
        for n in (1, 2, 3):
            lift = metrics(tick, "north", f"lift-{n}")
            assert lift["moving"] is False and lift["speed_mps"] == 0.0
        assert tick.reading("cam-2", "north") is None and tick.reading("cam-4", "north") is None
        assert metrics(tick, "north", "cam-1")["online"] is True  # on the UPS
        assert metrics(tick, "north", "nvr-1")["recording"] is True
        assert metrics(tick, "north", "pump-1")["pump_running"] is False
        assert metrics(tick, "south", "board-1")["mains_ok"] is True
        assert metrics(tick, "south", "pump-1")["pump_running"] is True
        assert tick.reading("cam-2", "south") is not None

    car = metrics(late, "north", trapped)  # the car that was carrying riders: an entrapment
    assert car["occupied"] is True and car["alarm_button"] is True
    assert car["door_state"] == "closed" and str(car["fault_code"]).startswith("E5")
    assert metrics(late, "north", "board-1")["generator_running"] is True
    assert float(metrics(late, "north", "pump-1")["pressure_bar"]) < 1.5
    assert metrics(late, "north", "nvr-1")["cameras_online"] == 2
    assert float(metrics(late, "north", "board-1")["ups_battery_pct"]) < 95
    south_moving = [metrics(t, "south", f"lift-{n}")["moving"] for t in ticks for n in (1, 2, 3)]
    assert any(south_moving)

    recovery: list[Tick] = []
    for _ in range(120):
        now += timedelta(seconds=1)
        recovery.append(estate.step(now))
    assert {(p.asset, p.online) for p in recovery[0].presence} == {
        ("cam-2", True),
        ("cam-4", True),
    }
    late = recovery[-1]
    assert metrics(late, "north", "board-1")["mains_ok"] is True
    assert metrics(late, "north", "board-1")["generator_running"] is False
    assert float(metrics(late, "north", "pump-1")["pressure_bar"]) > 3.0
    released = metrics(late, "north", trapped)
    assert released["alarm_button"] is False and "fault_code" not in released
    seen: list[Reading] = [r for t in recovery for r in decode_tick(t) if r.asset == trapped]
    assert any(r.metrics.get("fault_code") == "" for r in seen)  # cleared once, with null
    assert any(r.metrics["door_state"] == "open" for r in seen)  # riders let out
    assert metrics(late, "north", "nvr-1")["cameras_online"] == 4


def test_a_flat_ups_takes_down_the_ups_cameras_and_the_recorder() -> None:
    estate = Estate.single("dark", elevators=1, cctv=4, seed=2)
    estate.inject("mains_failure", generator_fails=True)
    offline: list[tuple[int, str]] = []
    for minute in range(0, 70):
        tick = estate.step(MORNING + timedelta(minutes=minute))
        offline.extend((minute, p.asset) for p in tick.presence if not p.online)
        board = metrics(tick, "dark", "board-1")
        assert board["generator_running"] is False
    assert [a for m, a in offline if m == 0] == ["cam-2", "cam-4"]
    flat = [(m, a) for m, a in offline if m > 0]
    assert {a for _, a in flat} == {"cam-1", "cam-3", "nvr-1"}
    assert all(45 <= m <= 55 for m, _ in flat)  # about 2%/min from a full battery


def test_a_site_without_a_board_can_still_lose_its_mains() -> None:
    estate = Estate(SiteLayout("bare", elevators=1, water=1, power=0, cctv=2), seed=1)
    assert estate.inject("mains_failure", site="bare") == []
    for n in range(60):
        tick = estate.step(MORNING + timedelta(seconds=n))
    assert metrics(tick, "bare", "pump-1")["pump_running"] is False
    assert tick.reading("cam-2") is None and tick.reading("cam-1") is not None
    estate.clear("mains_failure")
    tick = estate.step(MORNING + timedelta(seconds=61))
    assert metrics(tick, "bare", "pump-1")["pump_running"] is True
    assert tick.reading("cam-2") is not None
