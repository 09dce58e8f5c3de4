"""An API client around a real, running service."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.builders import ADMIN_TOKEN, make_settings
from tests.services import Broker


@pytest.fixture
def site() -> str:
    return f"api-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def client(broker: Broker, tmp_path: Path, site: str, database_url: str) -> Iterator[TestClient]:
    """A running service on SQLite and, again, on PostgreSQL."""
    settings = make_settings(tmp_path, broker.url, database_url, sites=[site])
    app = create_app(build_service(settings))
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert app.state.service.mqtt.wait_connected(10)
        yield test_client
