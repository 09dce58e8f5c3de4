"""The maintenance record (维保记录) of one asset: its orders over a date range, one line each.

TSG T5002-2017 asks the lift contractor for a record of every visit, kept at least 4 years and
not altered once stored, signed off by the property's safety manager. The record is read here
from the orders themselves (their timelines, checklists, parts), never kept apart: what the
record says is what the order says. :func:`line` and :func:`to_csv` are pure; :func:`gather`
reads the orders.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from facility_dispatch.maintenance.errors import InvalidRequestError
from facility_dispatch.maintenance.orders import OrderBook, TimelineEntry, WorkOrder
from facility_dispatch.maintenance.parts import PartLine

MAX_ORDERS: Final = 5_000
"""Orders one export holds at most: a lift visited every 15 days has ~100 in four years."""

COLUMNS: Final = (
    "number",
    "type",
    "title",
    "plan_id",
    "priority",
    "status",
    "created_at",
    "acknowledged_at",
    "arrived_at",
    "resolved_at",
    "closed_at",
    "technicians",
    "items",
    "result",
    "parts",
    "signed_off_by",
    "signed_off_at",
    "sign_off_digest",
    "timeline",
)
HEADINGS_ZH: Final = {
    "number": "工单号",
    "type": "类别",
    "title": "内容",
    "plan_id": "保养计划",
    "priority": "优先级",
    "status": "状态",
    "created_at": "创建时间",
    "acknowledged_at": "响应时间",
    "arrived_at": "到场时间",
    "resolved_at": "完成时间",
    "closed_at": "关闭时间",
    "technicians": "维保人员",
    "items": "维保项目及结果",
    "result": "故障原因及处理",
    "parts": "更换配件",
    "signed_off_by": "安全管理员签字",
    "signed_off_at": "签字时间",
    "sign_off_digest": "记录摘要(SHA-256)",
    "timeline": "过程记录",
}


@dataclass(frozen=True, slots=True)
class RecordLine:
    """One order as the maintenance record shows it: each value already text."""

    values: dict[str, str]


def _at(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else ""


def timeline_text(entry: TimelineEntry, zone: ZoneInfo) -> str:
    """One timeline entry on one line: time, event, move, actor and note."""
    move = f" {entry.from_ or ''}→{entry.to}" if entry.to else ""
    note = " ".join((entry.note or "").split())
    return f"{_at(entry.at, zone)} {entry.event}{move} ({entry.actor})" + (
        f": {note}" if note else ""
    )


def arrived_at(order: WorkOrder) -> datetime | None:
    """On site: the arrival checklist item if the playbook has one, else work begun."""
    for item in order.checklist:
        if item.key == "arrival" and item.done_at:
            return item.done_at
    return next(
        (t.at for t in order.timeline if t.event == "transition" and t.to == "in_progress"), None
    )


def line(
    order: WorkOrder,
    technician_name: Callable[[int], str],
    parts: Sequence[PartLine],
    zone: ZoneInfo,
) -> RecordLine:
    """The record's line for one order."""
    resolved = [t for t in order.timeline if t.event == "transition" and t.to == "resolved"]
    found = resolved[-1].data if resolved else {}
    result = "; ".join(f"{name}: {found[name]}" for name in ("cause", "action") if found.get(name))
    items = []
    for item in order.checklist:
        outcome = item.result or "open"
        if item.value is not None:
            outcome += f" {item.value}"
        items.append(f"{item.text}: {outcome}" + (f" ({item.note})" if item.note else ""))
    values = {
        "number": order.number,
        "type": "preventive" if order.source == "preventive" else "corrective",
        "title": order.title,
        "plan_id": str(order.plan_id) if order.plan_id is not None else "",
        "priority": order.priority,
        "status": order.status,
        "created_at": _at(order.created_at, zone),
        "acknowledged_at": _at(order.responded_at, zone),
        "arrived_at": _at(arrived_at(order), zone),
        "resolved_at": _at(order.resolved_at, zone),
        "closed_at": _at(order.closed_at, zone),
        "technicians": "; ".join(technician_name(t) for t in order.assignees),
        "items": "\n".join(items),
        "result": result,
        "parts": "; ".join(
            f"{p.sku} {p.name} x {p.consumed:g} {p.unit}" for p in parts if p.consumed
        ),
        # the sealed sign-off, not a timeline line: its digest lets an inspector check the
        # record was not altered after the safety manager signed it
        "signed_off_by": order.sign_off.signer if order.sign_off else "",
        "signed_off_at": _at(order.sign_off.signed_at, zone) if order.sign_off else "",
        "sign_off_digest": order.sign_off.digest if order.sign_off else "",
        "timeline": "\n".join(timeline_text(t, zone) for t in order.timeline),
    }
    return RecordLine(values)


def _cell(text: str) -> str:
    """Excel runs a cell that starts with = + - @ as a formula: a title typed by a resident
    must not become one (CSV injection); a leading apostrophe shows it as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(lines: Sequence[RecordLine], headings: str = "en") -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese as Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS_ZH[c] if headings == "zh" else c for c in COLUMNS)
    for record in lines:
        writer.writerow(_cell(record.values[c]) for c in COLUMNS)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def gather(
    book: OrderBook,
    site: str,
    asset: str,
    start: datetime,
    end: datetime,
) -> list[WorkOrder]:
    """The asset's orders created in [start, end), oldest first, each with its timeline."""
    found, total = book.query(
        site=site, asset=asset, created_from=start, created_to=end, limit=MAX_ORDERS
    )
    if total > MAX_ORDERS:
        raise InvalidRequestError(
            f"start: {total} orders in the range, at most {MAX_ORDERS} in one record; narrow it"
        )
    full = [book.get(o.id) for o in found]
    return sorted((o for o in full if o is not None), key=lambda o: (o.created_at, o.id))
