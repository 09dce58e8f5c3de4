"""Patrol and inspection rounds (巡检): when they are due, the order of their checkpoints, what
counts as missed, and the built-in routes. Pure: plain data and an explicit ``now``.

A route is an ordered list of checkpoints, each with a QR code printed on site and check items.
A round is one walk of a route: due at a local wall-clock time of the site (09:00 and 21:00),
to be finished within the route's window. Checkpoints are scanned in order (scanning the code
opens its page on the phone, which proves the patroller stood there); a scan out of order is
refused naming the one expected. A round not finished by its deadline is missed and flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from facility_dispatch.maintenance.rosters import days, local_moment

Lang = Literal["zh", "en"]
LEAD: Final = timedelta(hours=24)
"""Rounds are recorded a day ahead, so the console shows today's and tomorrow's."""


class RoundError(ValueError):
    """A scan or result the round cannot take."""


class OutOfOrderError(RoundError):
    def __init__(self, expected: int | None, message: str) -> None:
        self.expected = expected
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Due:
    """One round of a route to record: its key (local date and time) and its times in UTC."""

    key: str
    starts_at: datetime
    due_by: datetime


def parse_times(values: Iterable[str]) -> tuple[time, ...]:
    """Local start times as ``HH:MM``; refused naming the bad one."""
    found = []
    for value in values:
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            raise RoundError(f"start time {value!r} is not HH:MM") from None
        if parsed.second or parsed.microsecond or parsed.tzinfo is not None:
            raise RoundError(f"start time {value!r} is not HH:MM")
        found.append(parsed)
    if len(set(found)) != len(found):
        raise RoundError("a start time is given twice")
    return tuple(sorted(found))


def due_rounds(
    times: Sequence[time],
    window: timedelta,
    zone: ZoneInfo,
    after: datetime,
    until: datetime,
) -> list[Due]:
    """Rounds starting in ``(after, until]`` at the route's local start times."""
    first: date = after.astimezone(zone).date()
    last: date = until.astimezone(zone).date()
    found = []
    for day in days(first, last):
        for at in times:
            starts_at = local_moment(day, at, zone)
            if after < starts_at <= until:
                found.append(
                    Due(f"{day.isoformat()}T{at.strftime('%H:%M')}", starts_at, starts_at + window)
                )
    return found


def expected_next(order: Sequence[int], visited: Sequence[int]) -> int | None:
    """The checkpoint to scan next, or None when the round has visited them all."""
    return order[len(visited)] if len(visited) < len(order) else None


def check_scan(order: Sequence[int], visited: Sequence[int], checkpoint: int) -> None:
    """Nothing if ``checkpoint`` is the next one; else why not."""
    if checkpoint not in order:
        raise OutOfOrderError(expected_next(order, visited), "the checkpoint is not on this route")
    if checkpoint in visited:
        raise OutOfOrderError(expected_next(order, visited), "this checkpoint is recorded already")
    expected = expected_next(order, visited)
    if checkpoint != expected:
        position = order.index(expected) + 1 if expected is not None else 0
        raise OutOfOrderError(
            expected, f"checkpoints are scanned in order: number {position} comes next"
        )


def check_results(items: Sequence[str], results: dict[str, bool]) -> None:
    """Every item of the checkpoint answered, nothing else."""
    missing = [k for k in items if k not in results]
    unknown = sorted(set(results) - set(items))
    if missing:
        raise RoundError(f"no result for item {', '.join(missing)}")
    if unknown:
        raise RoundError(f"no item {', '.join(unknown)} at this checkpoint")


def missed(due_by: datetime, finished_at: datetime | None, now: datetime) -> bool:
    """Not finished by its deadline (finished late is missed too, for the KPI)."""
    if finished_at is not None:
        return finished_at > due_by
    return now > due_by


@dataclass(frozen=True, slots=True)
class RoundFacts:
    due_by: datetime
    finished_at: datetime | None
    findings: int


def on_time_ratio(rounds: Iterable[RoundFacts], now: datetime) -> float | None:
    """The KPI: rounds finished by their deadline, of those whose deadline has passed."""
    judged = [r for r in rounds if r.due_by <= now or r.finished_at is not None]
    if not judged:
        return None
    return sum(1 for r in judged if not missed(r.due_by, r.finished_at, now)) / len(judged)


def findings_per_round(rounds: Iterable[RoundFacts]) -> float | None:
    finished = [r for r in rounds if r.finished_at is not None]
    return sum(r.findings for r in finished) / len(finished) if finished else None


# -- built-in routes ---------------------------------------------------------------------------

_FIRE: Final[dict[str, Any]] = {
    "title": {"zh": "每日防火巡查", "en": "Daily fire patrol"},
    "source": "GB 25201-2010 4.2 (防火巡查); Fire Protection Law art. 16-17",
    "times": ["09:00", "21:00"],
    "window": "2h",
    "checkpoints": [
        {
            "name": {"zh": "消防控制室", "en": "Fire control room"},
            "skill": "general",
            "items": [
                ("on_duty", "值班人员在岗（每班不少于2人）", "Two operators on duty"),
                (
                    "panel",
                    "火灾报警控制器运行正常，无故障、屏蔽",
                    "Fire alarm panel normal, no faults or disabled zones",
                ),
            ],
        },
        {
            "name": {"zh": "疏散楼梯与安全出口", "en": "Escape stairs and exits"},
            "skill": "general",
            "items": [
                (
                    "exits",
                    "安全出口、疏散通道畅通，未锁闭",
                    "Exits and escape routes clear, not locked",
                ),
                ("signs", "疏散指示标志、应急照明完好", "Exit signs and emergency lights work"),
                ("doors", "常闭式防火门处于关闭状态", "Normally-closed fire doors are closed"),
            ],
        },
        {
            "name": {"zh": "地下车库", "en": "Underground car park"},
            "skill": "general",
            "items": [
                (
                    "equipment",
                    "灭火器、消火栓在位完好",
                    "Extinguishers and hydrants in place and intact",
                ),
                ("shutters", "防火卷帘下无堆放物品", "Nothing stored under the fire shutters"),
                (
                    "power",
                    "无违章用火用电（电动车充电）",
                    "No unsafe use of fire or power (e-bike charging)",
                ),
            ],
        },
        {
            "name": {"zh": "消防泵房", "en": "Fire pump room"},
            "skill": "plumbing",
            "items": [
                (
                    "pumps",
                    "消防泵处于自动状态，控制柜无报警",
                    "Fire pumps on automatic, no alarm on the panel",
                ),
                ("pressure", "管网压力正常，阀门处于开启状态", "Main pressure normal, valves open"),
            ],
        },
    ],
}

_PLANT: Final[dict[str, Any]] = {
    "title": {
        "zh": "设备机房巡检（水泵房、配电房）",
        "en": "Plant room round (pump room, switch room)",
    },
    "source": "operator practice: daily plant room inspection",
    "times": ["08:30", "16:30"],
    "window": "1h",
    "checkpoints": [
        {
            "name": {"zh": "生活水泵房", "en": "Domestic water pump room"},
            "skill": "plumbing",
            "items": [
                ("pumps", "水泵运行无异响、无漏水", "Pumps run without noise or leaks"),
                ("pressure", "出水压力表读数正常", "Outlet pressure normal"),
                ("sump", "集水坑水位正常，排污泵可用", "Sump level normal, drainage pump ready"),
                (
                    "room",
                    "室内无积水，通风照明良好",
                    "No standing water, ventilation and light good",
                ),
            ],
        },
        {
            "name": {"zh": "配电房", "en": "Switch room"},
            "skill": "electrical",
            "items": [
                (
                    "transformer",
                    "变压器温度正常，无异响异味",
                    "Transformer temperature normal, no noise or smell",
                ),
                ("panels", "配电柜仪表、指示灯正常", "Switchboard meters and lamps normal"),
                ("safety", "绝缘垫、灭火器在位", "Insulating mats and extinguisher in place"),
                ("rodents", "挡鼠板完好，门窗关闭", "Rodent boards intact, doors and windows shut"),
            ],
        },
    ],
}

TEMPLATES: Final[dict[str, dict[str, Any]]] = {"fire_patrol": _FIRE, "plant_room": _PLANT}


def template(name: str, lang: Lang) -> dict[str, Any]:
    """A built-in route in one language: ``title``, ``times``, ``window`` and ``checkpoints``
    (``name``, ``skill``, ``items`` as ``{key, text}``)."""
    found = TEMPLATES.get(name)
    if found is None:
        raise RoundError(f"no template {name!r}; built in: {', '.join(TEMPLATES)}")
    index = 1 if lang == "zh" else 2
    return {
        "title": found["title"][lang],
        "source": found["source"],
        "times": list(found["times"]),
        "window": found["window"],
        "checkpoints": [
            {
                "name": c["name"][lang],
                "skill": c["skill"],
                "items": [{"key": i[0], "text": i[index]} for i in c["items"]],
            }
            for c in found["checkpoints"]
        ],
    }
