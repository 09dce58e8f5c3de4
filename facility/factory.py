"""Build the telemetry store the settings ask for."""

from __future__ import annotations

from facility_dispatch.ingest.store import TelemetryStore
from facility_dispatch.settings import Settings


def make_telemetry_store(settings: Settings) -> TelemetryStore:
    if settings.telemetry_store == "influxdb":
        from facility_dispatch.ingest.influx_store import InfluxTelemetryStore

        if not settings.influx_url or not settings.influx_token:
            raise ValueError(
                "FACILITY_TELEMETRY_STORE=influxdb needs FACILITY_INFLUX_URL and _TOKEN"
            )
        return InfluxTelemetryStore(
            settings.influx_url,
            settings.influx_token.get_secret_value(),
            settings.influx_org,
            settings.influx_bucket,
            spool_dir=settings.data_dir / "spool",
        )
    from facility_dispatch.ingest.sqlite_store import SqliteTelemetryStore

    return SqliteTelemetryStore(settings.telemetry_file)
