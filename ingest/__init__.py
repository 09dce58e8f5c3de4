"""MQTT ingestion: telemetry in, validated readings stored once, bad input dead-lettered."""
