"""Logging: readable lines on a terminal, one JSON object a line for a log collector."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure(level: str = "INFO", json: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # one line per HTTP request drowns the domain events (alarm fired, order assigned, at INFO):
    # the access log shows only when debugging
    if root.level > logging.DEBUG:
        logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    for chatty in (
        "alembic",
        "amqtt",
        "transitions",
        "apscheduler.scheduler",
        "apscheduler.executors",
    ):
        logging.getLogger(chatty).setLevel(logging.WARNING)
