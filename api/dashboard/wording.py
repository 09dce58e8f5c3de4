"""Generated text in the visitor's language: timeline entries, alarm descriptions, order titles,
checklist steps.

The service writes English notes for the API and the logs, and beside them structured data (the
event, its statuses, ids, codes). The console words each entry from that data in Chinese or
English, so no English sentence the service made up shows on a Chinese page; what a person
typed (a note, a reason, a cause) is shown as they typed it. Pure functions of their inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final

from facility_dispatch.api.dashboard import present
from facility_dispatch.api.dashboard.i18n import Lang, Translator
from facility_dispatch.maintenance.orders import ChecklistItem, TimelineEntry, WorkOrder
from facility_dispatch.maintenance.plan_values import templates
from facility_dispatch.maintenance.playbooks import for_fault
from facility_dispatch.notify.messages import EventWording, EventWords, Worded
from facility_dispatch.residents.requests import TITLE_WORDS
from facility_dispatch.rules.alarms import AlarmRecord
from facility_dispatch.rules.loader import metrics_of
from facility_dispatch.rules.models import RuleSpec

HELD: Final = re.compile(r"(?:; )?resolution deadline moved by .+ on hold$")
"""The suffix the service adds to a note when an order leaves hold (the data says it too)."""
HAND: Final = re.compile(r"^by hand(?: \((.*)\))?$")
"""How the service notes an assignment by hand, with the planner's note in brackets."""
TYPED: Final = frozenset({"note", "transition"})
"""Events whose note a person typed (a transition's note is the reason given for it)."""


def value_text(value: Any, t: Translator) -> str:
    """A reading whose metric is not at hand, in words: yes / no, not Python's True / False."""
    if isinstance(value, bool):
        return t("value.yes") if value else t("value.no")
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def part_unit(unit: str, t: Translator) -> str:
    """A part's unit as the reader says it. ``pcs`` is the system's own (the API's default, what
    the console's new-part form sends when the unit is left empty, the demo's catalogue), so it
    is worded per language (``part_unit.pcs``: 件 / pcs); a unit a planner typed is free text
    and is shown as typed."""
    return t.get(f"part_unit.{unit}") or unit


def fault_name(fault: str | None, t: Translator) -> str:
    if not fault:
        return "—"
    return t.get(f"fault.{fault}") or fault.replace("_", " ")


def alarm_description(alarm: AlarmRecord, rule: RuleSpec | None, t: Translator) -> str:
    """The rule's description in the visitor's language (``description_zh`` in Chinese, when the
    rules file gives one; else the name of the fault, never the English sentence)."""
    return _described(alarm.fault, alarm.description, rule, t)


def _described(
    fault: str | None, description: str | None, rule: RuleSpec | None, t: Translator
) -> str:
    if t.lang == "zh":
        if rule is not None and rule.description_zh:
            return rule.description_zh
        return fault_name(fault, t)
    return description or (rule.description if rule else "") or fault_name(fault, t)


def alarm_value(kind: str, value: Any, rule: RuleSpec | None, t: Translator) -> str:
    """The value that fired, with its unit or the state it means (a leak sensor "wet"), when
    the rule reads one metric; else as a bare value (yes / no, a number)."""
    metrics = list(dict.fromkeys(metrics_of(rule.condition))) if rule else []
    if len(metrics) == 1:
        return present.value_text(kind, metrics[0], value, t.get)
    return value_text(value, t)


def event_wording(rule_of: Callable[[str], RuleSpec | None]) -> EventWording:
    """How a message words an event that has no order (the notifier, below the console, is
    handed this): an alarm by its rule's description and the console's names of its fault and
    severity, a resident's request by its category, building and channel, a part low on stock
    by what is left. ``rule_of``: the rule an alarm's ``rule_id`` names, if still loaded."""

    def words(event: str, payload: dict[str, Any], lang: Lang) -> EventWords | None:
        t = Translator(lang)
        if event == "alarm.fired":
            fault = payload.get("fault")
            rule = rule_of(str(payload.get("rule_id") or ""))
            lines = [_described(fault, payload.get("description"), rule, t)]
            lines.append(f"{t('filter.severity')}: {t('severity.' + str(payload.get('severity')))}")
            if payload.get("value") is not None:
                value = alarm_value(str(payload.get("kind")), payload["value"], rule, t)
                lines.append(f"{t('msg.value')}: {value}")
            subject = " ".join(str(p) for p in (payload.get("asset"), fault_name(fault, t)) if p)
            return EventWords(subject, tuple(lines), _moment(payload.get("fired_at")))
        if event.startswith("request."):
            category = t(f"r.category.{payload.get('category')}")
            lines = [f"{t('msg.category')}: {category}"]
            subject = category
            if payload.get("building"):
                where = t("msg.building", building=payload["building"])
                lines.append(where)
                subject = f"{where} {category}"
            if payload.get("channel"):
                lines.append(f"{t('msg.channel')}: {t('req.channel.' + str(payload['channel']))}")
            return EventWords(subject, tuple(lines))
        if event == "part.low_stock":
            left = t(
                "msg.low_stock",
                available=value_text(payload.get("available"), t),
                reorder_point=value_text(payload.get("reorder_point"), t),
            )
            return EventWords(str(payload.get("sku") or ""), (left,))
        return None

    return words


def _moment(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


PLANNED: Final = re.compile(
    r"^(.*?)(?: (\S+保养) / (\S+ maintenance))? \(due (\d{4}-\d{2}-\d{2} \d{2}:\d{2})\)$"
)
"""How the planner titles a plan's order: the plan and asset, its level in both languages (a
lift plan's "半月保养 / half-monthly maintenance"), and when it is due."""


def order_title(order: WorkOrder, t: Translator) -> str:
    """An order opened from an alarm is titled by the service in English ("pump-1: A leak sensor
    is wet"); in Chinese it is the asset and the fault. A resident's request's order is titled
    "报修 repair 3-1502: …": its category is worded in one language; a plan's order names its
    level and due time in one language. A title a person wrote stays."""
    if t.lang == "zh" and order.source == "alarm" and order.fault:
        return f"{order.asset or ''}：{fault_name(order.fault, t)}".lstrip("：")
    planned = PLANNED.match(order.title) if order.source == "preventive" else None
    if planned is not None:
        head, zh, en, at = planned.groups()
        level = (zh if t.lang == "zh" else en) if zh else ""
        due = t("wo.plan_due", at=at)  # zh: "（… 到期）", its own brackets, no space before
        return f"{head}{' ' + level if level else ''}{'' if t.lang == 'zh' else ' '}{due}"
    if order.source == "resident":
        for category, words in TITLE_WORDS.items():
            if order.title.startswith(words + " "):
                return t(f"r.category.{category}") + order.title[len(words) :]
    return order.title


CHANNEL_KEYS: Final = ("channel.", "req.channel.")
"""Where an order's channel is worded: the console's own, then a resident's request's."""


def channel_name(channel: str, t: Translator) -> str:
    """How an order came in, in words ("plan" as 计划保养 / maintenance plan, "qr" as 扫码)."""
    return next((w for k in CHANNEL_KEYS if (w := t.get(k + channel))), channel)


REQUEST_REPORTER: Final = re.compile(r"^(.+) \(request (\d+)\)$")
"""How the service names the reporter of a resident's order: the flat and the request's id."""


def reporter_text(reporter: str, t: Translator) -> str:
    """An order's reporter: the service's "3-1502 (request 1)" for a resident's request in the
    visitor's words; a reporter a person typed stays as typed."""
    match = REQUEST_REPORTER.match(reporter)
    if match is None:
        return reporter
    return t("wo.reporter_request", flat=match.group(1), id=match.group(2))


ROUND_FINDING: Final = re.compile(r"^(.*), round (\d+)\. ?(.*)$", re.DOTALL)
"""How the service describes an order opened from a round's finding: route, round, note."""


def order_description(order: WorkOrder, t: Translator) -> str:
    """An order's description: a round finding's, which the service writes, in the visitor's
    words (the route's name and the note stay as typed); anything else as written."""
    match = ROUND_FINDING.match(order.description or "") if order.channel == "walk_round" else None
    if match is None:
        return order.description or ""
    route, number, note = match.groups()
    line = t("wo.round_finding", route=route, round=number)
    return f"{line} {note}".strip()


DUE_SUFFIX: Final = re.compile(r"\s*(?:\(due [^)]*\)|（[^）]*到期）)$")
"""A plan order's due time at the end of its title, as worded in either language."""
CHOICE_TITLE: Final = 24
"""Characters of a title kept in a list of orders to choose from (a phone's width)."""


def order_choice(order: WorkOrder, t: Translator) -> str:
    """An open order as one choice of a short list (a request joins it): its number, the asset
    or building it is about and its title cut to a glance, so each choice fits a phone's width
    and still tells the orders apart. A plan order's title ends with its due time, which says
    nothing about the work and would be the part cut off; it is left out."""
    title = DUE_SUFFIX.sub("", order_title(order, t))
    if len(title) > CHOICE_TITLE:
        title = title[: CHOICE_TITLE - 1].rstrip() + "…"
    return " · ".join(part for part in (order.number, order.asset or order.building, title) if part)


def order_words(order: WorkOrder, lang: Lang) -> Worded:
    """An order's title, fault and status for a message in ``lang``: the notifier (below the
    console) is handed this, so a message reads as the order's page does."""
    t = Translator(lang)
    return Worded(
        order_title(order, t),
        fault_name(order.fault, t) if order.fault else None,
        t(f"wo_status.{order.status}"),
    )


def step_text(order: WorkOrder, item: ChecklistItem, lang: str) -> str:
    """A checklist step in ``lang``: a playbook's step from the playbook, a maintenance
    template's item ("中文 / English") in its half, anything else as written."""
    playbook = for_fault(order.fault)
    if playbook is not None:
        return playbook.step_text(item.position, item.text, lang)
    return template_item_text(item.text, lang)


BILINGUAL: Final = re.compile(r"^(.*?[^\x00-\x7f].*?)\s*/\s*([A-Za-z][\x00-\x7f]*)$")
"""A template item: its Chinese, a slash, then its English (ASCII to the end); a slash inside
the Chinese ("对重/平衡重块") is not the one."""


@cache
def _template_items() -> frozenset[str]:
    return frozenset(str(i) for t in templates().values() for i in t.get("items", ()))


def template_item_text(text: str, lang: str) -> str:
    """An item of a maintenance template in one language; only the templates' own items are
    cut (a step a planner typed with a slash in it stays whole)."""
    match = BILINGUAL.match(text) if text in _template_items() else None
    if match is None:
        return text
    return match.group(1).strip() if lang == "zh" else match.group(2).strip()


@dataclass(frozen=True, slots=True)
class Line:
    """One timeline entry as shown: what happened, and what a person wrote (if anything)."""

    label: str
    text: str
    typed: str | None


def _names(ids: Any, names: Mapping[int, str], t: Translator) -> str:
    if not isinstance(ids, list) or not ids:
        return t("wo.unassigned")
    return t("tl.list_sep").join(names.get(int(i), f"#{i}") for i in ids)


def timeline_line(
    order: WorkOrder,
    entry: TimelineEntry,
    names: Mapping[int, str],
    t: Translator,
    span: Callable[[float], str],
    rule_of: Callable[[str], RuleSpec | None] = lambda _: None,
) -> Line:
    """Word one timeline entry in ``t``'s language from its event and data; an entry written
    before its event carried data (or of an event this console does not know) shows its
    note in English only, and in Chinese its event's name alone. ``rule_of``: the rule an
    alarm's ``rule_id`` names, so an alarm's value reads as the alarm card says it."""
    data = entry.data or {}
    event = entry.event
    label = t.get(f"event.{event}") or event.replace("_", " ")
    typed = entry.note if event in TYPED else None
    text = ""
    if event == "created":
        channel = data.get("channel")
        if channel:
            text = t("tl.created_from", channel=channel_name(str(channel), t))
            if data.get("reporter"):
                typed = reporter_text(str(data["reporter"]), t)
        elif entry.note is None:
            text = ""
        else:
            text = _fallback(entry, t)
    elif event == "playbook" and "fault" in data:
        playbook = for_fault(data.get("fault"))
        if playbook is not None:
            text = playbook.title_zh if t.lang == "zh" else playbook.title
    elif event == "alarm" and "fault" in data:
        text = t(
            "tl.alarm",
            id=data.get("alarm_id", ""),
            fault=fault_name(data.get("fault"), t),
            severity=t(f"severity.{data.get('severity')}"),
            value=alarm_value(
                str(data.get("kind")), data.get("value"), rule_of(str(data.get("rule_id") or "")), t
            ),
        )
    elif event == "alarm_resolved" and "fault" in data:
        text = t(
            "tl.alarm_resolved", id=data.get("alarm_id", ""), fault=fault_name(data["fault"], t)
        )
    elif event == "assigned" and "assignees" in data:
        who = _names(data.get("assignees"), names, t)
        text = t("tl.by_hand" if data.get("by") == "hand" else "tl.by_rules", names=who)
        why = data.get("why")
        if isinstance(why, dict) and why:
            text += " · " + t("tl.list_sep").join(
                f"{names.get(int(i), '#' + str(i))}: "
                + t("tl.list_sep").join(t(f"why.{code}") for code in codes)
                for i, codes in why.items()
            )
        if data.get("by") == "hand":
            typed = _hand_note(entry.note)
        elif t.lang == "en":
            typed = entry.note
        else:
            typed = _substitute(data, t) or data.get("reason") or None
    elif event == "escalated" and data.get("cause"):
        skill = data.get("skill") or ""
        text = t(f"tl.escalated.{data['cause']}", skill=t.get(f"skill.{skill}") or skill)
        typed = _substitute(data, t) or data.get("reason") or None
    elif event == "reassigned" and "after" in data:
        text = t(
            "tl.reassigned",
            absent=data.get("absent", ""),
            after=_names(data.get("after"), names, t),
        )
    elif event == "priority" and "after" in data:
        text = t("tl.priority", before=data.get("before", ""), after=data.get("after", ""))
    elif event == "sla_breached" and "kind" in data:
        text = t(f"tl.breached.{data['kind']}", late=span(float(data.get("late_s", 0))))
    elif event == "target_missed" and "position" in data:
        text = t("tl.target_missed", step=int(data["position"]) + 1)
    elif event == "checklist" and "item_id" in data:
        item = next((c for c in order.checklist if c.id == data["item_id"]), None)
        step = step_text(order, item, t.lang) if item else f"#{data['item_id']}"
        result = t(f"result.{data.get('result')}")
        value = data.get("value")
        text = f"{step}: {result}" + (f" {value_text(value, t)}" if value is not None else "")
        typed = None
    elif event == "transition":
        before = t(f"wo_status.{entry.from_}") if entry.from_ else ""
        after = t(f"wo_status.{entry.to}") if entry.to else ""
        text = f"{before} → {after}"
        if "held_s" in data:
            text += " · " + t("tl.held", span=span(float(data["held_s"])))
            typed = HELD.sub("", entry.note or "") or None
        if "reopened_by_alarm" in data:
            text += " · " + t("tl.reopened", id=data["reopened_by_alarm"])
            typed = None
        if "joined" in data:
            text += " · " + t(
                "tl.joined_into",
                number=data.get("number") or f"#{data['joined']}",
                id=data.get("alarm_id", ""),
                root=data.get("root_alarm_id", ""),
            )
            typed = None
    elif event == "joined" and "number" in data:
        text = t("tl.joined", number=data["number"], id=data.get("alarm_id", ""))
    elif event == "note":
        text = ""
    elif event == "contractor" and "name" in data:
        text = t("tl.contractor", name=data["name"], phone=data.get("phone_24h", ""))
    elif event == "contractor_refused" and "refusals" in data:
        reasons = t("tl.list_sep").join(
            t(f"contractor_refused.{r.get('why')}", name=r.get("name", ""), on=r.get("on", ""))
            for r in data["refusals"]
        )
        text = t("tl.contractor_refused", reasons=reasons)
    elif event == "signed_off" and "signer" in data:
        text = t("tl.signed_off", signer=data["signer"])
    else:
        text = _fallback(entry, t)
    return Line(label, text, typed)


def _substitute(data: Mapping[str, Any], t: Translator) -> str | None:
    """Why the rules chose again: an assignee's absence (the service's reason is English)."""
    absent = data.get("substitute_for")
    if not absent:
        return None
    return t("tl.substitute", absent=absent, why=data.get("absence_reason") or "—")


def _hand_note(note: str | None) -> str | None:
    match = HAND.match(note or "")
    return match.group(1) if match else note


def _fallback(entry: TimelineEntry, t: Translator) -> str:
    """An entry without the data to word it: its English note, on English pages only."""
    return entry.note or "" if t.lang == "en" else ""


LEDGER_NOTES: Final = {"opening stock": "parts.note.opening_stock"}
"""Notes the service itself writes on a stock movement (a part's first stock), by their key."""


def ledger_note(note: str | None, t: Translator) -> str:
    """A stock movement's note: the service's own in the visitor's words, a person's as typed."""
    if not note:
        return ""
    key = LEDGER_NOTES.get(note)
    return t(key) if key else note


def template_title(name: str, lang: str) -> str:
    """A checklist template's title in one language: the file gives "中文 / English"; a name
    the file does not know (a template since removed) shows as it is."""
    title = str(templates().get(name, {}).get("title") or "")
    if not title:
        return name
    chinese, _, english = title.partition(" / ")
    return (chinese if lang == "zh" else english or chinese).strip()


EVERY: Final = re.compile(r"^(\d+)(mo|y|w|d|h|m)$")


def every_text(every: str, t: Translator) -> str:
    """A plan's interval in words: "15d" as every 15 days / 每 15 天."""
    match = EVERY.match(every.strip())
    if not match:
        return t("plans.every", every=every)
    count, unit = int(match.group(1)), match.group(2)
    return t(f"every.{unit}", n=count)


def cron_text(cron: str, t: Translator) -> str:
    """The common crontab lines in words (daily, weekly on a day, monthly on a date, at a time);
    anything else as it is written."""
    fields = cron.split()
    if len(fields) != 5 or not (fields[0].isdigit() and fields[1].isdigit()):
        return cron
    minute, hour, dom, month, dow = fields
    at = f"{int(hour):02d}:{int(minute):02d}"
    if month != "*":
        return cron
    if dom == "*" and dow == "*":
        return t("cron.daily", at=at)
    if dom == "*" and dow.isdigit() and 0 <= int(dow) <= 7:
        return t("cron.weekly", day=t(f"weekday.{int(dow) % 7 or 7}"), at=at)  # ISO: 7 Sunday
    if dow == "*" and dom.isdigit():
        return t("cron.monthly", day=int(dom), at=at)
    return cron
