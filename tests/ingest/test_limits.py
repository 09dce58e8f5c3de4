"""What a device can make the service remember is bounded: metrics per reading, distinct
metrics per asset, assets per site and in all. Pure checks of the directory, then the memory
of a running service under metric and asset sprawl through the real broker."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import resource
import uuid
from pathlib import Path

import orjson
import pytest

from facility_dispatch.ingest.assets import AssetDirectory, AssetLimits
from facility_dispatch.kernel.readings import Presence, Reading, RejectReason
from tests.builders import make_settings, publisher, running_service, wait_until
from tests.services import Broker

NOW = 1_795_746_000_000


def reading(site: str, asset: str, *names: str) -> Reading:
    return Reading(site, "water", asset, NOW, dict.fromkeys(names or ("pressure_bar",), 1.0))


def test_distinct_metrics_per_asset_are_bounded_but_known_ones_always_pass() -> None:
    directory = AssetDirectory([], "auto", limits=AssetLimits(metrics_per_asset=5))
    assert directory.admit(reading("s", "a", "m1", "m2", "m3"), NOW) is None
    assert directory.admit(reading("s", "a", "m3", "m4", "m5"), NOW) is None
    refusal = directory.admit(reading("s", "a", "m1", "m6"), NOW)
    assert refusal is not None and refusal[0] is RejectReason.METRIC_LIMIT
    assert "6 distinct" in refusal[1] and "limit is 5" in refusal[1]
    assert directory.admit(reading("s", "a", "m1", "m5"), NOW) is None  # nothing new
    assert directory.admit(reading("s", "b", "m6"), NOW) is None  # another asset, its own


@pytest.mark.parametrize(
    ("limits", "site_b_admitted"),
    [
        (AssetLimits(assets_per_site=3, assets=100), 3),
        (AssetLimits(assets_per_site=100, assets=5), 2),  # 3 at site a, then 2 left in all
    ],
)
def test_new_assets_are_bounded_per_site_and_in_all(
    limits: AssetLimits, site_b_admitted: int
) -> None:
    directory = AssetDirectory([], "auto", limits=limits)
    for i in range(3):
        assert directory.admit(reading("a", f"p{i}"), NOW) is None
    outcomes = [directory.admit(reading("b", f"p{i}"), NOW) for i in range(10)]
    assert sum(o is None for o in outcomes) == site_b_admitted
    refused = [o for o in outcomes if o is not None]
    assert {o[0] for o in refused} == {RejectReason.ASSET_LIMIT}
    assert directory.admit(reading("a", "p0"), NOW) is None  # known assets always pass
    presence = Presence("b", "water", "p-new", True, NOW)
    refusal = directory.presence(presence)
    assert refusal is not None and refusal[0] is RejectReason.ASSET_LIMIT


def rss_mb() -> float:
    """The memory the process holds on to: garbage collected and glibc's free lists handed back
    first, so what is left is what the service keeps, not the allocator's high-water mark (the
    payloads this test builds, and earlier tests in the same xdist worker, leave tens of MB of
    freed arenas that the kernel still counts)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.broker
@pytest.mark.slow
def test_metric_and_asset_sprawl_do_not_grow_memory(broker: Broker, tmp_path: Path) -> None:
    """The tester's attack: 1,000 messages, each naming a new asset with 3,500 new metrics
    (295 -> 955 MB before). Now every one is refused; then 1,000 new assets with 100 new
    metrics each, and one asset offered 40 new metrics a message: bounded by the limits."""
    site = f"sprawl-{uuid.uuid4().hex[:6]}"
    settings = make_settings(
        tmp_path,
        broker.url,
        sites=[site],
        max_assets_per_site=200,
        max_metrics_per_asset=120,
    )
    with running_service(settings) as service, publisher(broker.url) as device:
        before = rss_mb()
        wide = {f"m{i}": i for i in range(3500)}  # 38 kB: within the 64 KiB a message may be
        device.publish_many(
            [
                (f"facility/{site}/water/wide-{n}/telemetry", orjson.dumps({"metrics": wide}))
                for n in range(1000)
            ]
        )
        wait_until(lambda: service.dead_letters.list("too_many_metrics")[1] >= 1000, timeout=60)
        device.publish_many(
            [
                (
                    f"facility/{site}/water/many-{n}/telemetry",
                    orjson.dumps({"metrics": {f"m{n}_{i}": 1 for i in range(100)}}),
                )
                for n in range(1000)
            ]
        )
        wait_until(lambda: service.dead_letters.list("asset_limit")[1] >= 800, timeout=60)
        device.publish_many(
            [
                (
                    f"facility/{site}/water/many-0/telemetry",
                    orjson.dumps({"metrics": {f"x{n}_{i}": 1 for i in range(40)}}),
                )
                for n in range(50)
            ]
        )
        wait_until(lambda: service.dead_letters.list("metric_limit")[1] >= 49, timeout=60)
        service.pipeline.settle(10)
        grown = rss_mb() - before

        _, total = service.assets.query(site, limit=1000)
        assert total == 200  # the site's limit, not 2,000
        latest = service.directory.latest(site, "many-0")
        assert latest is not None and len(latest) <= 120
        assert grown < 60, f"RSS grew {grown:.0f} MB"
        print(f"sprawl: RSS grew {grown:.1f} MB; {total} assets kept")
