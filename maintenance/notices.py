"""Resident notices (停水/停电/电梯停运通知): who loses which service, when, in Chinese and English.

Made for preventive works that interrupt a service (from the plan: shown its ``notice_before``
ahead of the works), for orders that announce an interruption, and for emergencies (a burst
pipe, a power cut, a lift stopped) with no known end, worded as happening now. Each names the
building (and the lift) affected, from the asset registry, not the whole estate. Served by the
API, urgent ones first, and published, retained, on ``facility/{site}/notices`` for signage: the
list of notices in force or coming, so a screen that connects sees them all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from facility_dispatch.ingest import topics
from facility_dispatch.kernel.clock import Clock, rfc3339
from facility_dispatch.kernel.db import Sessions
from facility_dispatch.kernel.events import EventLog
from facility_dispatch.maintenance.names import by_language, site_parts
from facility_dispatch.maintenance.people import People
from facility_dispatch.maintenance.sql import NoticeRow

log = logging.getLogger(__name__)

Service = Literal["water", "elevator", "power"]
SERVICES: Final = ("water", "elevator", "power")

_WORDS: Final[dict[str, dict[str, str]]] = {
    "water": {
        "fault_zh": "供水管道故障",
        "fault_en": "a fault in the water supply",
        "title_zh": "停水通知",
        "title_en": "Water supply interruption",
        "what_zh": "供水",
        "what_en": "the water supply",
        "advice_zh": "请提前做好储水准备。",
        "advice_en": "Please store some water beforehand.",
        "now_zh": "请关闭家中水龙头，以免恢复供水时跑水。",
        "now_en": "Please turn your taps off, so that nothing overflows when the water returns.",
    },
    "elevator": {
        "fault_zh": "电梯故障",
        "fault_en": "a lift fault",
        "title_zh": "电梯停运通知",
        "title_en": "Lift out of service",
        "what_zh": "电梯运行",
        "what_en": "the lift",
        "advice_zh": "请使用其他电梯或楼梯，注意安全。",
        "advice_en": "Please use another lift or the stairs.",
        "now_zh": "请使用其他电梯或楼梯；如被困梯内，请按警铃等候救援，切勿自行扒门。",
        "now_en": "Please use another lift or the stairs. If you are trapped in a car, press "
        "the alarm button and wait for help: do not force the doors.",
    },
    "power": {
        "fault_zh": "供电故障",
        "fault_en": "a fault in the power supply",
        "title_zh": "停电通知",
        "title_en": "Power cut",
        "what_zh": "供电",
        "what_en": "the power supply",
        "advice_zh": "请提前做好准备，关闭贵重电器，勿乘电梯。",
        "advice_en": "Please switch off sensitive appliances and do not use the lifts.",
        "now_zh": "请勿乘坐电梯，关闭大功率电器，夜间出行注意安全。",
        "now_en": "Do not use the lifts, switch off large appliances, and take care on the "
        "stairs in the dark.",
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
    asset: str | None = None
    publish_at: datetime | None = None
    """When residents see it: planned works ``notice_before`` ahead, an emergency at once."""

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "site": self.site,
            "building": self.building,
            "asset": self.asset,
            "service": self.service,
            "planned": self.planned,
            "urgent": not self.planned,
            "starts_at": rfc3339(self.starts_at),
            "ends_at": rfc3339(self.ends_at),
            "publish_at": rfc3339(self.publish_at or self.created_at),
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
        row.asset,
        row.publish_at,
    )


def _when(moment: datetime) -> tuple[str, str]:
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}", f"{moment.day} {moment:%b %H:%M}"


_NUMBERED_LIFT: Final = re.compile(r"(?i)(?:lift|elevator|elev)[\s_-]*(\d{1,3})")
"""An ASCII lift name or id that carries its number ("lift-2", "Elevator 3"): "3号电梯"."""


def _in_sentence(text: str) -> str:
    """ "Tank cleaning" read after "because of": its first word lower-cased, not an acronym."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the service is off, in each language residents read: never one language's words
    inside the other's notice. An empty one is worded by :func:`wording` (the service's fault
    in an emergency, "maintenance works" for planned works)."""

    zh: str = ""
    en: str = ""

    @classmethod
    def of(cls, text: str) -> Reason:
        """A reason given in one field, "中文 English" or one language only."""
        return cls(*by_language(text))

    def and_level(self, zh: str, en: str) -> Reason:
        """The level of the visit added ("半年保养" / "half-yearly maintenance")."""
        return Reason(
            f"{self.zh}（{zh}）" if self.zh else zh, f"{self.en} ({en})" if self.en else en
        )


def lift_zh(name: str) -> str:
    """A lift as residents say it: "2号" is "2号电梯"; "2号梯", "客梯" stay as they are; an
    ASCII name with its number ("lift-2") is "2号电梯"."""
    if name.isascii() and (number := _NUMBERED_LIFT.fullmatch(name.strip())):
        return f"{number.group(1)}号电梯"
    return name if name.endswith("梯") else f"{name}电梯"


def lift_en(name: str) -> str:
    """In English: "2号电梯" is "lift 2", an ASCII name ("L2") is "lift L2" ("lift-2" is
    "lift 2"); a Chinese name with no number is "the lift" (its Chinese would be out of place
    in English)."""
    if name.isascii():
        number = _NUMBERED_LIFT.fullmatch(name.strip())
        return f"lift {number.group(1) if number else name}"
    found = re.search(r"([A-Za-z]?\d+)\s*号", name) or re.fullmatch(
        r"([A-Za-z]?\d+)\s*电?梯?", name
    )
    return f"lift {found.group(1)}" if found else "the lift"


def unnamed_lift(asset: str) -> str | None:
    """A lift the registry has no name for: its number when its id says it plainly
    ("lift-2": "2号电梯" / "lift 2"), else None (worded "电梯" / "the lift"): residents are never
    shown an asset id."""
    return asset if _NUMBERED_LIFT.fullmatch(asset) else None


def sign_off(site_name: str, site_name_en: str | None = None) -> tuple[str, str]:
    """The office that signs, in each language: an estate named "绿园 Green Garden" (or
    "绿园" with the English name "Green Garden") signs "绿园物业服务中心" / "Green Garden
    property management office"; with a name in one language only, the other signs
    neutrally ("物业服务中心", "Property management office"), never with a name residents of
    that language cannot read."""
    zh, en = site_parts(site_name, site_name_en)
    return (
        f"{zh}物业服务中心" if zh else "物业服务中心",
        f"{en} property management office" if en else "Property management office",
    )


def wording(
    service: str,
    site_name: str,
    building: str | None,
    starts_at: datetime,
    ends_at: datetime | None,
    reason: Reason,
    planned: bool,
    zone: ZoneInfo,
    lift: str | None = None,
    site_name_en: str | None = None,
) -> tuple[str, str, str, str]:
    """(title_zh, body_zh, title_en, body_en): the notice as a property office writes it.

    It names the building (and the lift) affected, so residents of the other buildings know it
    is not theirs; the whole estate only when no building is known. Planned works say when
    they start and end; an emergency says the service is off now and is being repaired, with
    advice for now (not "please store water", too late when the pipe has burst). Each
    language has its own reason; one missing is the service's fault (an emergency: an alarm's
    rule text is never shown) or plain "maintenance works". The English notice is signed with
    the estate's English name (``site_name_en``) when it has one."""
    words = _WORDS[service]
    reason_zh = reason.zh or (words["fault_zh"] if not planned else "设备检修维护")
    reason_en = _in_sentence(reason.en) or (
        words["fault_en"] if not planned else "maintenance works"
    )
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone) if ends_at else None
    where_zh = f"{building}栋" if building else "全小区"
    where_en = f"building {building}" if building else "the whole estate"
    what_zh, what_en = words["what_zh"], words["what_en"]
    if service == "elevator" and lift:
        what_zh, what_en = f"{lift_zh(lift)}运行", lift_en(lift)
    title_zh = f"{where_zh}{words['title_zh']}" if building else words["title_zh"]
    title_en = words["title_en"] + (f": {where_en}" if building else "")
    office_zh, office_en = sign_off(site_name, site_name_en)
    if not planned:
        back_zh, back_en = "恢复后将另行通知", "we will tell you when it is back"
        if end is not None:
            back_zh = f"预计{_when(end)[0]}恢复"
            back_en = f"we expect it back by {_when(end)[1]}"
        body_zh = (
            f"尊敬的业主、住户：因{reason_zh}，{where_zh}{what_zh}目前已暂停，物业正在抢修，"
            f"{back_zh}。{words['now_zh']}给您带来不便，敬请谅解。{office_zh}"
        )
        body_en = (
            f"Dear residents: because of {reason_en}, {what_en} of {where_en} is off now. We are "
            f"repairing it and {back_en}. {words['now_en']} We apologise for the "
            f"inconvenience. {office_en}"
        )
        return f"紧急：{title_zh}", body_zh, f"Urgent: {title_en}", body_en
    start_zh, start_en = _when(start)
    if end is None:
        until_zh, until_en = "起，恢复时间另行通知", "until further notice"
    elif end.date() == start.date():
        until_zh, until_en = f"至{end:%H:%M}", f"to {end:%H:%M}"
    else:
        until_zh, until_en = (f"至{_when(end)[0]}", f"to {_when(end)[1]}")
    body_zh = (
        f"尊敬的业主、住户：因{reason_zh}，{where_zh}将于{start_zh}{until_zh}暂停{what_zh}。"
        f"{words['advice_zh']}给您带来不便，敬请谅解。{office_zh}"
    )
    body_en = (
        f"Dear residents: because of {reason_en}, {what_en} of {where_en} will be off "
        f"from {start_en} {until_en}. {words['advice_en']} We apologise for the "
        f"inconvenience. {office_en}"
    )
    return title_zh, body_zh, title_en, body_en


Locate = Callable[[str, str], tuple[str | None, str | None]]
"""(site, asset) -> (its building, its name), from the asset registry."""


class Notices:
    def __init__(
        self,
        sessions: Sessions,
        events: EventLog,
        people: People,
        clock: Clock,
        timezone: str,
        publish: Callable[[str, bytes, bool], object] | None = None,
        locate: Locate | None = None,
    ) -> None:
        self._sessions = sessions
        self._events = events
        self._people = people
        self._clock = clock
        self._default_zone = timezone
        self._publish = publish
        self._locate = locate

    def _site(self, site: str) -> tuple[str, str | None, ZoneInfo]:
        """The estate's name, its English name and its local time (a site with no record:
        its key and the service's time)."""
        known = self._people.site(site)
        if known is None:
            return site, None, ZoneInfo(self._default_zone)
        return known.name, known.name_en, ZoneInfo(known.timezone)

    def announce(
        self,
        site: str,
        service: str,
        starts_at: datetime,
        ends_at: datetime | None,
        reason: Reason | str,
        *,
        building: str | None = None,
        asset: str | None = None,
        planned: bool = True,
        work_order_id: int | None = None,
        plan_id: int | None = None,
        publish_at: datetime | None = None,
        within: Session | None = None,
    ) -> Notice:
        """Record a notice; residents see it from ``publish_at`` (planned works: their
        ``notice_before`` ahead of the start; default and emergencies: now). ``within``
        writes it in the caller's transaction (the occurrence of the works it announces):
        the caller then calls :meth:`shown` once that commits. A ``reason`` given as one text
        is split by language (:meth:`Reason.of`)."""
        if service not in SERVICES:
            raise ValueError(f"service {service!r} is not one of {', '.join(SERVICES)}")
        name, name_en, zone = self._site(site)
        lift = None
        if asset and self._locate is not None:
            located_building, asset_name = self._locate(site, asset)
            building = building or located_building
            lift = asset_name or unnamed_lift(asset)
        elif asset:
            lift = unnamed_lift(asset)
        why = Reason.of(reason) if isinstance(reason, str) else reason
        title_zh, body_zh, title_en, body_en = wording(
            service, name, building, starts_at, ends_at, why, planned, zone, lift, name_en
        )
        now = self._clock.now()
        shown_now = publish_at is None or publish_at <= now
        with nullcontext(within) if within is not None else self._sessions.begin() as session:
            row = NoticeRow(
                site=site,
                building=building,
                asset=asset,
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
                publish_at=publish_at or now,
                published_at=now if shown_now else None,
            )
            session.add(row)
            session.flush()
            notice = _notice(row)
            if shown_now:
                self._events.record(session, "notice.published", now, notice.public(), site)
        if within is None:
            self.shown(notice)
        return notice

    def shown(self, notice: Notice) -> None:
        """After the notice's transaction commits: the live views woken, and the signage's
        list republished if residents see it already."""
        self._events.notify()
        if notice.publish_at is None or notice.publish_at <= notice.created_at:
            self.publish(notice.site)

    def publish_due(self) -> int:
        """The scheduler's sweep: notices whose time to be shown has come are published
        (the event, and the retained list on MQTT). Returns how many."""
        now = self._clock.now()
        sites = set()
        with self._sessions.begin() as session:
            for row in session.scalars(
                select(NoticeRow)
                .where(
                    NoticeRow.published_at.is_(None),
                    NoticeRow.publish_at <= now,
                    NoticeRow.cancelled_at.is_(None),
                )
                .with_for_update(skip_locked=True)
            ):
                row.published_at = now
                sites.add(row.site)
                self._events.record(
                    session, "notice.published", now, _notice(row).public(), row.site
                )
        self._events.notify()
        for site in sites:
            self.publish(site)
        return len(sites)

    def withdraw(self, notice_id: int) -> Notice | None:
        """A planner takes a notice back (the works called off, a notice issued by mistake):
        residents no longer see it, on the page, the API or the signage. Withdrawing it again
        changes nothing. None: no such notice."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = session.get(NoticeRow, notice_id)
            if row is None:
                return None
            withdrawn = row.cancelled_at is None
            if withdrawn:
                row.cancelled_at = now
                self._events.record(
                    session, "notice.cancelled", now, _notice(row).public(), row.site
                )
            notice = _notice(row)
        if withdrawn:
            self._events.notify()
            self.publish(notice.site)
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
        """Urgent (unplanned) notices first, then the latest start; with ``in_force_at``, the
        notices residents see then: published, and in force or still to come."""
        with self._sessions() as session:
            stmt = select(NoticeRow).where(NoticeRow.cancelled_at.is_(None))
            if site:
                stmt = stmt.where(NoticeRow.site == site)
            if in_force_at is not None:
                stmt = stmt.where(
                    (NoticeRow.ends_at.is_(None)) | (NoticeRow.ends_at > in_force_at),
                    (NoticeRow.publish_at.is_(None)) | (NoticeRow.publish_at <= in_force_at),
                )
            rows = session.scalars(
                stmt.order_by(
                    NoticeRow.planned, NoticeRow.starts_at.desc(), NoticeRow.id.desc()
                ).limit(limit)
            )
            return [_notice(r) for r in rows]

    def publish(self, site: str) -> None:
        if self._publish is None:
            return
        current = [n.public() for n in self.query(site, self._clock.now())]
        try:
            self._publish(topics.notices(site), orjson.dumps(current), True)
        except Exception:
            log.exception("notices of %s not published", site)
