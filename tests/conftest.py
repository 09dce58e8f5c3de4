"""Fixtures shared by every test package: real brokers and real databases."""

from __future__ import annotations

import tracemalloc  # noqa: F401  (see below)
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import Broker, postgres_available, postgres_database, running_broker

# tracemalloc is imported before any test: pytest's hook for an object the garbage collector
# finishes (an unclosed socket) imports it on first use, and once a second such object was
# collected during that import, the hook found the module half made and failed the test
# (AttributeError: partially initialized module 'tracemalloc', a kill -9 fault test under -n 3)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One Mosquitto for the session (tests keep apart by site names and client ids)."""
    with running_broker(tmp_path_factory.mktemp("broker")) as running:
        yield running


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto for this test alone: it may be stopped, killed and restarted."""
    with running_broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database test runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'facility.db'}"
        return
    if not postgres_available():
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (start it: see .ci/run)")
    with postgres_database() as url:
        yield url
