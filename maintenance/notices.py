"""Resident notices (停水/停电/电梯停运通知): who loses which service, when, in Chinese and English.

Made for preventive works that interrupt a service (from the plan, ahead of the works), for
orders that announce an interruption, and for emergencies (a burst pipe, a power cut) with no
known end. Served by the API and published, retained, on ``facility/{site}/notices`` for
signage: the list of notices in force or coming, so a screen that connects sees them all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select

from facility_dispatch.ingest import topics
from facility_dispatch.kernel.clock import Clock, rfc3339
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.sql import NoticeRow

log = logging.getLogger(__name__)

Service = Literal["water", "elevator", "power"]
SERVICES: Final = ("water", "elevator", "power")

_WORDS: Final[dict[str, dict[str, str]]] = {
    "water": {
        "title_zh": "停水通知",
        "title_en": "Water supply interruption",
        "what_zh": "供水",
        "what_en": "the water supply",
        "advice_zh": "请提前做好储水准备。",
        "advice_en": "Please store some water beforehand.",
    },
    "elevator": {
        "title_zh": "电梯停运通知",
        "title_en": "Lift out of service",
        "what_zh": "电梯运行",
        "what_en": "the lift",
        "advice_zh": "请使用其他电梯或楼梯，注意安全。",
        "advice_en": "Please use another lift or the stairs.",
    },
    "power": {
        "title_zh": "停电通知",
        "title_en": "Power cut",
        "what_zh": "供电",
        "what_en": "the power supply",
        "advice_zh": "请提前做好准备，关闭贵重电器，勿乘电梯。",
        "advice_en": "Please switch off sensitive appliances and do not use the lifts.",
    },
}


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    site: str
    building: str | None
    service: str
    planned: bool
    starts_at: datetime
    ends_at: datetime | None
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    work_order_id: int | None
    plan_id: int | None
    created_at: datetime
    cancelled_at: datetime | None

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "site": self.site,
            "building": self.building,
            "service": self.service,
            "planned": self.planned,
            "starts_at": rfc3339(self.starts_at),
            "ends_at": rfc3339(self.ends_at),
            "zh": {"title": self.title_zh, "body": self.body_zh},
            "en": {"title": self.title_en, "body": self.body_en},
            "work_order_id": self.work_order_id,
        }


def _notice(row: NoticeRow) -> Notice:
    return Notice(
        row.id,
        row.site,
        row.building,
        row.service,
        row.planned,
        row.starts_at,
        row.ends_at,
        row.title_zh,
        row.body_zh,
        row.title_en,
        row.body_en,
        row.work_order_id,
        row.plan_id,
        row.created_at,
        row.cancelled_at,
    )


def wording(
    service: str,
    site_name: str,
    building: str | None,
    starts_at: datetime,
    ends_at: datetime | None,
    reason: str,
    planned: bool,
    zone: ZoneInfo,
) -> tuple[str, str, str, str]:
    """(title_zh, body_zh, title_en, body_en): the notice as a property office writes it."""
    words = _WORDS[service]
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone) if ends_at else None
    where_zh = f"{building}栋" if building else "全小区"
    where_en = f"building {building}" if building else "the whole estate"
    start_zh = f"{start.month}月{start.day}日 {start:%H:%M}"
    start_en = f"{start.day} {start:%b %H:%M}"
    if end is None:
        until_zh, until_en = "起至抢修完毕", "until the repair is complete"
    elif end.date() == start.date():
        until_zh, until_en = f"至{end:%H:%M}", f"to {end:%H:%M}"
    else:
        until_zh, until_en = (
            f"至{end.month}月{end.day}日 {end:%H:%M}",
            f"to {end.day} {end:%b %H:%M}",
        )
    urgent_zh, urgent_en = ("", "") if planned else ("紧急", "Urgent: ")
    title_zh = f"{urgent_zh}{words['title_zh']}"
    title_en = f"{urgent_en}{words['title_en']}"
    body_zh = (
        f"尊敬的业主、住户：因{reason}，{where_zh}将于{start_zh}{until_zh}暂停{words['what_zh']}。"
        f"{words['advice_zh']}给您带来不便，敬请谅解。{site_name}物业服务中心"
    )
    body_en = (
        f"Dear residents: because of {reason}, {words['what_en']} of {where_en} will be off "
        f"from {start_en} {until_en}. {words['advice_en']} We apologise for the "
        f"inconvenience. {site_name} property management office"
    )
    return title_zh, body_zh, title_en, body_en


class Notices:
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        people: People,
        clock: Clock,
        timezone: str,
        publish: Callable[[str, bytes, bool], object] | None = None,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._people = people
        self._clock = clock
        self._default_zone = timezone
        self._publish = publish

    def _site(self, site: str) -> tuple[str, ZoneInfo]:
        known = self._people.site(site)
        if known is None:
            return site, ZoneInfo(self._default_zone)
        return known.name, ZoneInfo(known.timezone)

    def announce(
        self,
        site: str,
        service: str,
        starts_at: datetime,
        ends_at: datetime | None,
        reason: str,
        *,
        building: str | None = None,
        planned: bool = True,
        work_order_id: int | None = None,
        plan_id: int | None = None,
    ) -> Notice:
        if service not in SERVICES:
            raise ValueError(f"service {service!r} is not one of {', '.join(SERVICES)}")
        name, zone = self._site(site)
        title_zh, body_zh, title_en, body_en = wording(
            service, name, building, starts_at, ends_at, reason, planned, zone
        )
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = NoticeRow(
                site=site,
                building=building,
                service=service,
                planned=planned,
                starts_at=starts_at,
                ends_at=ends_at,
                title_zh=title_zh,
                body_zh=body_zh,
                title_en=title_en,
                body_en=body_en,
                work_order_id=work_order_id,
                plan_id=plan_id,
                created_at=now,
            )
            session.add(row)
            session.flush()
            notice = _notice(row)
            self._events.record(session, "notice.published", now, notice.public(), site)
        self._events.notify()
        self.publish(site)
        return notice

    def cancel_for_order(self, work_order_id: int) -> None:
        now = self._clock.now()
        sites = set()
        with self._sessions.begin() as session:
            for row in session.scalars(
                select(NoticeRow).where(
                    NoticeRow.work_order_id == work_order_id, NoticeRow.cancelled_at.is_(None)
                )
            ):
                row.cancelled_at = now
                sites.add(row.site)
                self._events.record(
                    session, "notice.cancelled", now, _notice(row).public(), row.site
                )
        self._events.notify()
        for site in sites:
            self.publish(site)

    def end_for_order(self, work_order_id: int) -> None:
        """The works are over: an open-ended (emergency) notice gets its end."""
        now = self._clock.now()
        sites = set()
        with self._sessions.begin() as session:
            for row in session.scalars(
                select(NoticeRow).where(
                    NoticeRow.work_order_id == work_order_id,
                    NoticeRow.cancelled_at.is_(None),
                    NoticeRow.ends_at.is_(None),
                )
            ):
                row.ends_at = now
                sites.add(row.site)
        for site in sites:
            self.publish(site)

    def query(
        self, site: str | None = None, in_force_at: datetime | None = None, limit: int = 100
    ) -> list[Notice]:
        """Newest first; with ``in_force_at``, the notices in force then or still to come."""
        with self._sessions() as session:
            stmt = select(NoticeRow).where(NoticeRow.cancelled_at.is_(None))
            if site:
                stmt = stmt.where(NoticeRow.site == site)
            if in_force_at is not None:
                stmt = stmt.where((NoticeRow.ends_at.is_(None)) | (NoticeRow.ends_at > in_force_at))
            rows = session.scalars(stmt.order_by(NoticeRow.starts_at.desc()).limit(limit))
            return [_notice(r) for r in rows]

    def publish(self, site: str) -> None:
        if self._publish is None:
            return
        current = [n.public() for n in self.query(site, self._clock.now())]
        try:
            self._publish(topics.notices(site), orjson.dumps(current), True)
        except Exception:
            log.exception("notices of %s not published", site)
