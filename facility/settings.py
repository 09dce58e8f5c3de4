"""Settings, read once from ``FACILITY_*`` variables and a ``.env`` file (SPEC section 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from facility_dispatch.kernel.endpoint import MqttEndpoint


class Settings(BaseSettings):
    """Everything an operator can set. Defaults run the embedded stack under ``./data``."""

    model_config = SettingsConfigDict(
        env_prefix="FACILITY_", env_file=".env", extra="ignore", frozen=True
    )

    # MQTT (ingest/)
    mqtt_url: str | None = Field(
        default=None,
        description="mqtt://user:pass@host:1883; unset: 127.0.0.1:1883 for run, embedded for demo",
    )
    mqtt_client_id: str = "facility-dispatch"
    mqtt_session_expiry: int = Field(
        default=7 * 24 * 3600,
        ge=3600,
        description="seconds the broker keeps our session (and queues readings) while we are away",
    )
    mqtt_receive_maximum: int = Field(default=2000, ge=10, le=65535)
    mqtt_protocol: Literal["5", "3.1.1"] = "5"
    mqtt_receiver_process: bool = Field(
        default=True,
        description="run paho's network loop in a process of its own (false: a thread of the "
        "service's process, where it shares one interpreter lock with decoding, rules and storage)",
    )
    ingest_max_queued: int = Field(
        default=10_000,
        ge=100,
        le=1_000_000,
        description="messages taken from the broker and not yet stored; past it the broker keeps "
        "the backlog (paho's thread waits for room)",
    )
    ingest_lag_degraded_seconds: float = Field(
        default=120.0,
        gt=0,
        description="health says degraded while the newest stored reading is older than this",
    )
    mqtt_ca_file: Path | None = None
    sites: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="static partitioning: this worker takes only these sites (comma separated)",
    )
    mqtt_shared_group: str | None = Field(
        default=None, description="MQTT 5 shared subscription group for scale-out"
    )

    # Validation (SPEC section 1)
    asset_policy: Literal["auto", "strict"] = "auto"
    retention_days: int = Field(
        default=400, ge=1, description="older readings are refused, and pruned from SQLite"
    )
    events_retention_days: int = Field(
        default=30, ge=1, description="the event log (live stream history) is pruned past it"
    )
    max_future_seconds: int = 300
    dead_letters_kept: int = Field(default=100_000, ge=100)

    # What devices may make the service remember (a forged or faulty device must not grow it)
    max_metrics_per_reading: int = Field(default=128, ge=1, le=10_000)
    max_metrics_per_asset: int = Field(default=256, ge=1, le=100_000)
    max_assets_per_site: int = Field(default=5_000, ge=1)
    max_assets: int = Field(default=50_000, ge=1)

    # Storage
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite under data_dir"
    )
    database_statement_timeout_ms: int = 15_000
    telemetry_store: Literal["sqlite", "influxdb"] = "sqlite"
    telemetry_path: Path | None = None
    influx_url: str | None = None
    influx_token: SecretStr | None = None
    influx_org: str = "facility"
    influx_bucket: str = "telemetry"

    # Rules
    rules: Path | None = None
    baseline_flush_seconds: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description="how often the deviation rules' learned baselines are stored (and at stop)",
    )

    # Notifications (SPEC section 6)
    notify: Path | None = Field(
        default=None, description="the notifications file (receivers and routes); none: no sends"
    )
    public_url: str | None = Field(
        default=None,
        description="the dashboard's address as people reach it, for links in messages; "
        "default http://HTTP_HOST:HTTP_PORT",
    )

    # HTTP
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="reverse proxies (addresses or CIDRs, comma-separated) whose "
        "X-Forwarded-For gives the client's address; empty: none",
    )
    admin_token: SecretStr | None = None
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="a request body past this is refused (413) before it is read or authenticated",
    )
    max_page_bytes: int = Field(
        default=4 * 1_048_576,
        ge=1024,
        description="a collection page stops adding items here (always one); next_offset goes on",
    )
    session_idle_hours: float = Field(
        default=12, gt=0, description="a dashboard login unused this long must log in again"
    )
    session_max_days: float = Field(
        default=7, gt=0, description="a dashboard login lasts at most this long, used or not"
    )

    # Dispatch
    max_open_orders: int = Field(
        default=8,
        ge=1,
        description="a technician with this many open orders gets no more (P1 aside)",
    )

    # Residents (SPEC section 5)
    requests_retention_days: int = Field(
        default=365,
        ge=1,
        description="residents' requests and their photos are deleted this long after they came",
    )

    # Statutory items (issue 19): the periodic inspection, the rescue drill, certificates
    compliance_lead_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="a statutory item is reminded of this many days before it falls due",
    )

    # Sites' local time (calendars, notices)
    timezone: str = "Asia/Shanghai"

    @field_validator("sites", mode="before")
    @classmethod
    def _split_sites(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @property
    def mqtt(self) -> MqttEndpoint:
        return MqttEndpoint(self.mqtt_url or "mqtt://127.0.0.1:1883")

    @property
    def link_base(self) -> str:
        """Where links in messages point: ``public_url``, else the address the API listens on."""
        return self.public_url or f"http://{self.http_host}:{self.http_port}"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'facility.db').as_posix()}"

    @property
    def telemetry_file(self) -> Path:
        return self.telemetry_path or self.data_dir / "telemetry.db"
