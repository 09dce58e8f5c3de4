"""schemathesis against the service's own OpenAPI, with all its checks: generated requests,
valid and invalid, never cause a server error, every answer's status, content type, headers
and body are what the document says, invalid input is refused and valid input is not; with an
admin token, on a running service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import FailureGroup

from facility_dispatch.api.app import create_app
from facility_dispatch.service import build_service
from tests.builders import ADMIN_TOKEN, make_settings
from tests.services import Broker

pytestmark = [pytest.mark.broker, pytest.mark.slow]
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EXAMPLES = 12
DERANDOMIZE = bool(os.environ.get("CI"))
"""In CI the generated requests are the same every run, so a landing is judged on the code, not on
the draw; anywhere else each run draws anew and keeps finding what the fixed set does not."""


def valid_data_is_accepted(
    _ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis's positive_data_acceptance, but a rule the document cannot state (start
    before end, a known time zone, ends_at or a duration) may refuse what it allows: with a
    sentence, or an error of the whole body. An error naming one field means the document
    says less than the server checks."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code == 422:
        detail = response.json()["detail"]
        if isinstance(detail, str) or all(len(e["loc"]) <= 1 for e in detail):
            return None
    # 429: a public endpoint's rate limit (per address and phone) refuses valid data too
    assert response.status_code < 400 or response.status_code in (401, 403, 404, 409, 429), (
        f"valid data refused: {response.status_code} {response.text[:300]}"
    )
    return None


def test_generated_requests_get_the_answers_the_document_promises(
    broker: Broker, tmp_path: Path
) -> None:
    service = build_service(make_settings(tmp_path, broker.url, sites=["fuzz"]))
    service.start()
    try:
        app = create_app(service, manage_service=False)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        # unknown query parameters are ignored, as HTTP APIs do (a cache-buster stays harmless);
        # the token is ours to send, not a parameter to leave out
        schema.config.generation.update(
            allow_extra_parameters=False, with_security_parameters=False
        )
        # a body past FACILITY_MAX_REQUEST_BYTES is refused before it is read: 413 is a refusal
        schema.config.checks.negative_data_rejection.expected_statuses.append("413")
        failures: dict[str, str] = {}
        operations = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path == "/api/v1/events":
                continue  # a live stream never ends; tests/api/test_events.py
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=EXAMPLES,
                    derandomize=DERANDOMIZE,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                def exercise(case: schemathesis.Case) -> None:
                    response = case.call(headers=AUTH)
                    try:
                        case.validate_response(
                            response,
                            headers=AUTH,
                            transport_kwargs={"headers": AUTH},
                            excluded_checks=[checks.positive_data_acceptance],
                            additional_checks=[valid_data_is_accepted],
                        )
                    except FailureGroup as group:
                        sent = f"{case.path_parameters} {case.query} {str(case.body)[:200]}"
                        got = f"{response.status_code} {response.text[:300]}"
                        for failure in group.exceptions:
                            mode_ = case.meta.generation.mode if case.meta else "?"
                            where = f"{case.method} {case.path} ({mode_}): {failure.title}"
                            failures.setdefault(where, f"sent {sent}\n    got {got}")

                try:
                    exercise()
                except Unsatisfiable:
                    assert mode == GenerationMode.NEGATIVE  # nothing to send wrong (no input)
        assert operations >= 40
        assert failures == {}, "\n".join(f"{k}\n    {v}" for k, v in list(failures.items())[:30])
    finally:
        service.stop()
