"""schemathesis against the service's own OpenAPI: generated requests never cause a server
error (5xx), with an admin token, on a running service."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.app import create_app
from facility.service import build_service
from tests.builders import ADMIN_TOKEN, make_settings
from tests.services import Broker

pytestmark = [pytest.mark.broker, pytest.mark.slow]
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_no_generated_request_makes_a_server_error(broker: Broker, tmp_path: Path) -> None:
    service = build_service(make_settings(tmp_path, broker.url, sites=["fuzz"]))
    service.start()
    try:
        app = create_app(service, manage_service=False)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        failures: list[str] = []
        operations = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path == "/api/v1/events":
                continue  # a live stream never ends; tested on its own
            operations += 1

            @given(case=operation.as_strategy())
            @settings(
                max_examples=12,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def exercise(case: schemathesis.Case) -> None:
                response = case.call(headers=AUTH)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.text[:300]}"
                    )

            exercise()
        assert operations >= 40
        assert failures == [], "\n".join(failures[:20])
    finally:
        service.stop()
