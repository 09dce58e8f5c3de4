"""Secrets for a new installation: generated, never defaulted."""

from __future__ import annotations

import secrets

from facility_dispatch.ingest.topics import SITE_PATTERN


def token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def environment_file(sites: list[str]) -> str:
    """The ``.env`` that docker-compose.yml reads, with a fresh secret for every account."""
    for site in sites:
        if not SITE_PATTERN.fullmatch(site):
            raise ValueError(f"site {site!r} must match {SITE_PATTERN.pattern}")
    devices = ",".join(f"{site}:{token(18)}" for site in sites)
    lines = [
        "# Facility Dispatch secrets, written by `facility init`. Do not commit this file.",
        f"FACILITY_ADMIN_TOKEN={token()}",
        f"FACILITY_MQTT_PASSWORD={token(24)}",
        f"FACILITY_DEVICE_CREDENTIALS={devices}",
        f"FACILITY_INFLUX_TOKEN={token()}",
        f"INFLUXDB_PASSWORD={token(24)}",
        f"POSTGRES_PASSWORD={token(24)}",
        f"GRAFANA_PASSWORD={token(18)}",
    ]
    return "\n".join(lines) + "\n"
