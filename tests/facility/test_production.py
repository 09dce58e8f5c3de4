"""Production settings: migrations step by step, statement timeouts, the compose stack."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from facility_dispatch.kernel.db import make_engine
from facility_dispatch.schema import alembic_config, migrate
from tests.services import ROOT, postgres_available, postgres_database


def test_every_migration_step_up_and_back_down(database_url: str) -> None:
    """From an empty database through each revision (each a past release's schema), down to
    nothing, and up again."""
    engine = make_engine(database_url)
    config = alembic_config(engine)
    revisions = [
        r.revision for r in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))
    ]
    assert revisions[0] == "0001" and len(revisions) >= 5
    for revision in revisions:
        migrate(engine, revision)
        with engine.connect() as connection:
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                == revision
            )
    command.downgrade(config, "base")
    migrate(engine)
    engine.dispose()


@pytest.mark.postgres
def test_statement_timeout_on_postgresql() -> None:
    if not postgres_available():
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432")
    with postgres_database() as url:
        engine = make_engine(url, statement_timeout_ms=200)
        with (
            pytest.raises(OperationalError, match="statement timeout"),
            engine.connect() as connection,
        ):
            connection.execute(text("SELECT pg_sleep(2)"))
        engine.dispose()


def test_the_compose_stack_has_no_secrets_and_checks_its_health() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"mosquitto", "influxdb", "postgres", "facility", "grafana"}
    for name, service in services.items():
        if name.endswith("-init"):
            continue
        assert "healthcheck" in service, name
        assert service.get("restart") == "unless-stopped", name
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|TOKEN|SECRET", key) and "_FILE" not in key:
                assert "${" in str(value), f"{name}.{key} must come from .env, not the file"
    assert "FACILITY_DATABASE_URL" in services["facility"]["environment"]
    assert services["facility"]["environment"]["FACILITY_TELEMETRY_STORE"] == "influxdb"


def test_the_shipped_broker_config_keeps_qos1_readings() -> None:
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf and "acl_file" in conf and "password_file" in conf
    assert "include_dir /mosquitto/config/conf.d" in conf
    limits = (ROOT / "deploy" / "mosquitto" / "conf.d" / "limits.conf").read_text()
    queued = int(re.search(r"^max_queued_messages (\d+)", limits, re.M).group(1))  # type: ignore[union-attr]
    assert queued >= 1_000_000  # Mosquitto's default of 1000 drops readings
    assert re.search(r"^persistence true", limits, re.M)
    acl = (ROOT / "deploy" / "mosquitto" / "acl").read_text()
    assert "pattern write facility/%u/+/+/telemetry" in acl


def test_grafana_is_provisioned() -> None:
    board = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "equipment.json").read_text())
    assert board["uid"] == "facility-equipment" and len(board["panels"]) >= 8
    sources = yaml.safe_load(
        (ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "facility.yaml").read_text()
    )
    assert {s["uid"] for s in sources["datasources"]} == {"facility-influx", "facility-postgres"}
