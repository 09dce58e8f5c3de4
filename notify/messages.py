"""Messages in the site's language: what happened, the order number, asset, fault, deadline,
and links to the order and to acknowledge it. Pure: facts and links in, text out.

An order's title, fault and status are worded as the console words them (an alarm's order is
titled by the service in English; in Chinese it is the asset and the fault's Chinese name; a
status is the console's ``wo_status.*``): the notifier is handed that wording
(:data:`OrderWording`) by the service, so there is one copy of it, the console's, and this
package stays below the console."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from facility_dispatch.maintenance.orders import WorkOrder

Lang = Literal["zh", "en"]

_EVENTS: Final[dict[str, dict[Lang, str]]] = {
    "alarm.fired": {"zh": "告警", "en": "Alarm"},
    "work_order.opened": {"zh": "新工单", "en": "New work order"},
    "work_order.assigned": {"zh": "工单已派", "en": "Work order assigned"},
    "work_order.escalated": {"zh": "工单升级", "en": "Work order escalated"},
    "work_order.breached": {"zh": "工单超时", "en": "Work order overdue"},
    "request.received": {"zh": "住户报修", "en": "Resident request"},
    "request.feedback_low": {"zh": "住户差评", "en": "Low resident rating"},
    "part.low_stock": {"zh": "备件不足", "en": "Part low on stock"},
    "plan.due": {"zh": "计划保养到期", "en": "Planned maintenance due"},
    "handover.flagged": {"zh": "交接班未确认", "en": "Handover not acknowledged"},
    "round.missed": {"zh": "巡检漏巡", "en": "Round missed"},
    "roster.gap": {"zh": "排班缺岗", "en": "Roster gap"},
    "compliance.due_soon": {"zh": "法定项目即将到期", "en": "Statutory item due soon"},
    "compliance.overdue": {"zh": "法定项目已逾期", "en": "Statutory item overdue"},
}

_SUPERVISION: Final[dict[str, dict[Lang, str]]] = {
    "handover.flagged": {
        "zh": "{site}{post}的交接班记录（交班人 {outgoing}）应于 {acknowledge_by} 前确认，"
        "至今无人确认",
        "en": "The handover at {site}{post} (from {outgoing}) was due to be acknowledged by "
        "{acknowledge_by} and nobody has",
    },
    "round.missed": {
        "zh": "{site}巡检路线「{route}」应于 {due_by} 前走完，未完成",
        "en": "The round of route {route} at {site} was due by {due_by} and is not finished",
    },
    "roster.gap": {
        "zh": "{site}岗位「{post}」{day} {shift} 班（{starts_at} 开始）需 {needed} 人，"
        "仅排 {present_count} 人",
        "en": "{site}, post {post}: the {shift} shift on {day} (starts {starts_at}) needs "
        "{needed}, {present_count} rostered",
    },
    "compliance.due_soon": {
        "zh": "{site}{asset}的{item}应于 {due_on} 前完成（还有 {days_left} 天）",
        "en": "{site}{asset}: the {item} is due on {due_on} (in {days_left} days)",
    },
    "compliance.overdue": {
        "zh": "{site}{asset}的{item}已于 {due_on} 到期，尚未登记完成",
        "en": "{site}{asset}: the {item} was due on {due_on} and is not recorded done",
    },
}
_ITEMS: Final[dict[str, dict[Lang, str]]] = {
    "inspection": {"zh": "定期检验", "en": "periodic inspection"},
    "drill": {"zh": "应急救援演练", "en": "emergency rescue drill"},
    "certificate": {"zh": "证书", "en": "certificate renewal"},
    "operator_certificate": {"zh": "作业人员证", "en": "operator certificate renewal"},
}
"""The statutory items (maintenance/compliance.py) as a reminder names them."""
"""Wording of the events a supervisor is told of (no order behind them): where, what, by when."""

_LABELS: Final[dict[Lang, dict[str, str]]] = {
    "zh": {
        "site": "小区",
        "asset": "设备",
        "fault": "故障",
        "priority": "优先级",
        "status": "状态",
        "respond_by": "响应期限",
        "resolve_by": "修复期限",
        "open": "查看工单",
        "ack": "确认接单（链接 {hours} 小时内有效）",
        "repeat": "第 {n} 次提醒：尚无人确认",
        "escalation": "已升级：{after} 内无人确认",
        "details": "详情",
        "at": "时间",
    },
    "en": {
        "site": "Site",
        "asset": "Asset",
        "fault": "Fault",
        "priority": "Priority",
        "status": "Status",
        "respond_by": "Respond by",
        "resolve_by": "Resolve by",
        "open": "Open the order",
        "ack": "Acknowledge (link valid {hours} h)",
        "repeat": "Reminder {n}: nobody has acknowledged yet",
        "escalation": "Escalated: not acknowledged within {after}",
        "details": "Details",
        "at": "At",
    },
}


@dataclass(frozen=True, slots=True)
class Worded:
    """An order's title, the name of its fault and its status as a reader of one language
    knows them (the console's words: a message and the order's page say the same)."""

    title: str
    fault: str | None
    status: str


OrderWording = Callable[[WorkOrder, Lang], Worded]
"""How an order's title, fault and status read in a language (the console's wording, passed
in)."""


@dataclass(frozen=True, slots=True)
class EventWords:
    """An event without an order (an alarm that opened none yet, a resident's request, a part
    low on stock) as a reader of one language is told it: the subject after the event's name,
    the lines of the body, and when it happened (shown in the site's zone)."""

    subject: str
    lines: tuple[str, ...]
    at: datetime | None = None


EventWording = Callable[[str, dict[str, Any], Lang], "EventWords | None"]
"""How an event without an order reads in a language (the console's wording, passed in); None:
an event it has no words for, told by its facts."""


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What a message says about a work order (read at the time it is recorded)."""

    number: str
    title: str
    site: str
    asset: str | None
    fault: str | None
    priority: str
    status: str
    """as worded in the message's language, not the lifecycle's code"""
    respond_by: datetime
    resolve_by: datetime

    @classmethod
    def of(
        cls, order: WorkOrder | None, site_name: str | None, worded: Worded | None
    ) -> OrderFacts | None:
        """The order as a message tells it: the site by the name people know it by, the title,
        fault and status as ``worded`` in the message's language."""
        if order is None or worded is None:
            return None
        return cls(
            order.number,
            worded.title,
            site_name or order.site,
            order.asset,
            worded.fault,
            order.priority,
            worded.status,
            order.respond_by,
            order.resolve_by,
        )


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def language_of(locale: str | None) -> Lang:
    """A site's locale (``zh-CN``, ``en-GB``) as one of the two languages we write."""
    return "en" if (locale or "zh").lower().startswith("en") else "zh"


def render(
    event: str,
    lang: Lang,
    zone: ZoneInfo,
    order: OrderFacts | None,
    payload: dict[str, Any],
    *,
    reminder: int = 0,
    escalated_after: str | None = None,
    order_link: str | None = None,
    ack_link: str | None = None,
    ack_hours: int = 24,
    site_name: str | None = None,
    event_words: EventWords | None = None,
) -> Message:
    """The title and body of one message. ``reminder`` > 0 says it is a repeat;
    ``escalated_after`` (a duration as written) says it is the escalation; ``site_name`` is
    the site as people know it, for an event without an order; ``event_words`` that event as
    the console words it (else its facts are listed)."""
    words = _LABELS[lang]
    what = _EVENTS.get(event, {"zh": event, "en": event})[lang]
    lines: list[str] = []
    if escalated_after is not None:
        lines.append(words["escalation"].format(after=escalated_after))
    elif reminder:
        lines.append(words["repeat"].format(n=reminder))
    if order is not None:
        subject = " ".join(
            part for part in (order.priority, order.number, order.asset, order.fault) if part
        )
        title = f"[{what}] {subject}"
        lines.append(order.title)
        lines.append(f"{words['site']}: {order.site}")
        if order.asset:
            lines.append(f"{words['asset']}: {order.asset}")
        if order.fault:
            lines.append(f"{words['fault']}: {order.fault}")
        lines.append(f"{words['priority']}: {order.priority}  {words['status']}: {order.status}")
        lines.append(f"{words['respond_by']}: {_local(order.respond_by, zone)}")
        lines.append(f"{words['resolve_by']}: {_local(order.resolve_by, zone)}")
    elif event in _SUPERVISION:
        title, said = _supervision(event, lang, zone, payload, site_name)
        lines.append(said)
    elif event_words is not None:
        site = site_name or str(payload.get("site") or "")
        title = f"[{what}] {' '.join(p for p in (site, event_words.subject) if p)}".strip()
        if site:
            lines.append(f"{words['site']}: {site}")
        lines.extend(event_words.lines)
        if event_words.at is not None:
            lines.append(f"{words['at']}: {_local(event_words.at, zone)}")
    else:
        about = " ".join(
            str(payload[k]) for k in ("site", "asset", "fault", "sku", "category") if payload.get(k)
        )
        title = f"[{what}] {about}".strip()
        details = ", ".join(
            f"{k}={v}"
            for k, v in payload.items()
            if isinstance(v, str | int | float) and k != "id" and not _private(k)
        )
        if details:
            lines.append(f"{words['details']}: {details[:500]}")
    if order_link:
        lines.append(f"{words['open']}: {order_link}")
    if ack_link:
        lines.append(f"{words['ack'].format(hours=ack_hours)}: {ack_link}")
    return Message(title, "\n".join(lines))


def _supervision(
    event: str, lang: Lang, zone: ZoneInfo, payload: dict[str, Any], site_name: str | None
) -> tuple[str, str]:
    """Title and sentence for a flag to a supervisor, times in the site's zone."""
    facts = {k: v for k, v in payload.items() if isinstance(v, str | int | float)}
    site = site_name or str(payload.get("site") or "")
    for key in ("acknowledge_by", "due_by", "starts_at"):
        if isinstance(payload.get(key), str):
            with contextlib.suppress(ValueError):
                facts[key] = _local(datetime.fromisoformat(payload[key]), zone)
    post = payload.get("post")
    facts["post"] = (f"（{post}）" if lang == "zh" else f" ({post})") if post else ""
    if event == "roster.gap":
        facts["post"] = str(post or payload.get("post_id") or "")
        present = payload.get("present")
        facts["present_count"] = len(present) if isinstance(present, list) else 0
    facts["site"] = site
    if event.startswith("compliance."):
        item = str(payload.get("item") or "")
        facts["item"] = _ITEMS.get(item, {"zh": item, "en": item})[lang]
        asset = payload.get("asset")
        facts["asset"] = f" {asset}" if asset else ""
        if isinstance(facts.get("days_left"), int):
            facts["days_left"] = abs(int(facts["days_left"]))
    facts.setdefault("outgoing", "?")
    facts.setdefault("route", "?")
    said = _SUPERVISION[event][lang].format_map(_Missing(facts))
    where = site + (f" {facts['post']}" if event == "roster.gap" else "")
    if event == "round.missed":
        where = f"{site} {payload.get('route') or ''}".strip()
    elif event == "handover.flagged" and post:
        where = f"{site} {post}"
    elif event.startswith("compliance."):
        where = f"{site}{facts['asset']}"
    what = _EVENTS[event][lang]
    return f"[{what}] {where}".strip(), said


class _Missing(dict[str, Any]):
    """Formats a fact an older event lacks as ``?`` rather than failing the message."""

    def __missing__(self, key: str) -> str:
        return "?"


def _private(key: str) -> bool:
    """Facts a message to an outside receiver must not carry, whatever an event holds."""
    return any(word in key.lower() for word in ("phone", "token", "password", "secret"))


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
