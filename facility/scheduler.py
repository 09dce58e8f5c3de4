"""The scheduler: APScheduler 3 running the service's timed work.

Interval jobs only (deadlines, substitutes, retries, sweeps, retention), defined in code and
kept in memory, run by the worker that leads. Nothing of the schedule is stored: what must
happen once (a plan's occurrence, an alarm's order) is found by a sweep from the records
themselves, so a restart or a new leader has no stale job to run or to miss.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, timezone: str) -> None:
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=timezone,
        )

    def every(self, interval: timedelta, job: Callable[[], Any], name: str) -> None:
        """Run ``job`` every ``interval``, never two at once; a failure is logged, not fatal."""

        def guarded() -> None:
            try:
                job()
            except Exception:
                log.exception("scheduled job %s failed; it runs again next time", name)

        self._scheduler.add_job(
            guarded,
            "interval",
            seconds=interval.total_seconds(),
            id=name,
            name=name,
            replace_existing=True,
        )

    def start(self, paused: bool = False) -> None:
        if not self._scheduler.running:
            self._scheduler.start(paused=paused)

    def resume(self) -> None:
        """Run the jobs (this worker leads the scheduler)."""
        self.start()
        self._scheduler.resume()

    def pause(self) -> None:
        """Hold the jobs (another worker leads)."""
        if self._scheduler.running:
            self._scheduler.pause()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
