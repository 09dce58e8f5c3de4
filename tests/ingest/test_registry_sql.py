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
