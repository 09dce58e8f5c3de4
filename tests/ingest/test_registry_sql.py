"""The asset registry and dead letters on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from facility_dispatch.ingest.sql import AssetUpdate, SqlAssetRegistry, SqlDeadLetters
from facility_dispatch.kernel.db import make_engine, make_sessions
from facility_dispatch.kernel.readings import DeadLetter, RejectReason
from facility_dispatch.schema import migrate

T = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker]:  # type: ignore[type-arg]
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


def test_assets_appear_and_keep_their_latest_state(sessions: sessionmaker) -> None:  # type: ignore[type-arg]
    registry = SqlAssetRegistry(sessions)
    registry.apply([AssetUpdate("e1", "pump-1", "water", T, None, {"pressure_bar": 3.1})])
    registry.apply(
        [
            AssetUpdate("e1", "pump-1", "water", T + timedelta(seconds=5), True, {"flow_m3h": 9}),
            AssetUpdate("e1", "pump-1", "water", T - timedelta(hours=1), None, {}),  # late news
        ]
    )
    pump = registry.get("e1", "pump-1")
    assert pump is not None
    assert pump.last_seen == T + timedelta(seconds=5)
    assert pump.last_seen.tzinfo is not None
    assert pump.online is True
    assert pump.metrics == {"pressure_bar": 3.1, "flow_m3h": 9}
    assert pump.registered is False
    registered = registry.register("e1", "pump-1", "water", "Booster 1", "B2")
    assert registered.registered and registered.building == "B2"
    assert registry.query("e1", "water")[1] == 1
    assert registry.query("e2")[1] == 0


def test_one_flush_of_new_and_known_assets_keeps_every_value_as_given(
    sessions: sessionmaker,  # type: ignore[type-arg]
) -> None:
    """A flush writes all its assets in one statement: the known ones updated, the new ones
    created, each metric kept exactly (no float turned into digits, no key lost), presence
    kept where the flush says nothing, and a time never moved back."""
    registry = SqlAssetRegistry(sessions)
    registry.apply(
        [AssetUpdate("e1", f"pump-{i}", "water", T, True, {"flow_m3h": 9}) for i in range(3)]
    )
    exotic = {"flow_m3h": 1e308, "pressure_bar": -0.0, "fault_code": 'E"1\\门', "n": 2**63 - 1}
    registry.apply(
        [
            AssetUpdate("e1", "pump-0", "water", T + timedelta(seconds=1), None, exotic),
            AssetUpdate("e1", "pump-1", "water", T - timedelta(minutes=1), False, {"x": 1.5}),
            AssetUpdate("e1", "pump-9", "water", T, None, {"flow_m3h": 0.1}),  # first sight
            AssetUpdate("e2", "pump-0", "water", None, True, {}),  # another site, first sight
        ]
    )
    pump0, pump1, pump2 = (registry.get("e1", f"pump-{i}") for i in range(3))
    assert pump0 is not None and pump1 is not None and pump2 is not None
    assert pump0.metrics == exotic and [repr(v) for v in pump0.metrics.values()] == [
        repr(v) for v in exotic.values()
    ]
    assert (pump0.last_seen, pump0.online) == (T + timedelta(seconds=1), True)
    assert pump1.metrics == {"flow_m3h": 9, "x": 1.5}
    assert (pump1.last_seen, pump1.online) == (T, False)
    assert (pump2.last_seen, pump2.online, pump2.metrics) == (T, True, {"flow_m3h": 9})
    new = registry.get("e1", "pump-9")
    assert new is not None and new.first_seen == T and new.metrics == {"flow_m3h": 0.1}
    other = registry.get("e2", "pump-0")
    assert other is not None and other.online is True and other.last_seen is None
    assert registry.query()[1] == 5


def test_dead_letters_are_bounded_newest_first(sessions: sessionmaker) -> None:  # type: ignore[type-arg]
    letters = SqlDeadLetters(sessions, keep=100)
    for batch in range(3):
        letters.add(
            [
                DeadLetter(
                    1_795_746_000_000 + batch * 100 + i,
                    "facility/x",
                    "{",
                    RejectReason.INVALID_JSON,
                    f"n{batch * 100 + i}",
                )
                for i in range(60)
            ]
        )
    rows, total = letters.list(limit=5)
    assert total == 100  # the oldest 80 were dropped
    assert rows[0].detail == "n259"
    assert rows[0].received_at.tzinfo is not None
    assert letters.list(reason="too_large")[1] == 0
