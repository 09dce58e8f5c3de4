"""Prometheus series of ingestion (names from SPEC section 4), on a registry the root owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "facility_readings_received", "Readings received (good or bad)", registry=registry
        )
        self.stored = Counter(
            "facility_readings_stored", "Readings stored for the first time", registry=registry
        )
        self.duplicates = Counter(
            "facility_readings_duplicate",
            "Readings already stored (QoS 1 redelivery, gateway replays)",
            registry=registry,
        )
        self.rejected = Counter(
            "facility_readings_rejected",
            "Readings or messages refused, by reason (each is dead-lettered)",
            ["reason"],
            registry=registry,
        )
        self.messages = Counter(
            "facility_mqtt_messages_received", "MQTT messages received", registry=registry
        )
        self.queue_depth = Gauge(
            "facility_ingest_queue_depth",
            "Messages received and not yet stored",
            registry=registry,
        )
        self.backpressure = Counter(
            "facility_ingest_backpressure",
            "Times the ingest queue was full and paho's thread waited (the broker kept the rest)",
            registry=registry,
        )
        self.lag = Gauge(
            "facility_ingest_lag_seconds",
            "Age of the newest reading of the last stored batch when it was stored",
            registry=registry,
        )
        self.batch = Histogram(
            "facility_ingest_batch_readings",
            "Readings per stored batch",
            buckets=(1, 10, 50, 100, 500, 1000, 5000, 20000),
            registry=registry,
        )
        self.store_errors = Counter(
            "facility_telemetry_store_errors",
            "Failed telemetry writes (retried)",
            registry=registry,
        )
        self.worker_errors = Counter(
            "facility_ingest_worker_errors",
            "Faults of ours on the ingest thread, survived (the message at fault dead-lettered)",
            registry=registry,
        )
