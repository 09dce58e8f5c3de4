"""Statutory items and their reminders: pure date arithmetic, no clock, no database.

What the regulations ask of an estate, each with a due date (``shared/DOMAIN.md``):

* ``inspection``: a lift's periodic inspection (定期检验, TSG T7001/T7008-2023), every year; in
  years 1, 4, 7, 9, 11, 13 and 15 after installation by the inspection body, a self-test in the
  other years (:func:`inspection_kind`), yearly by the body after 15 years;
* ``drill``: the emergency rescue drill, at least every six months (TSG T5002-2017), per site;
* ``certificate``: a certificate of an asset that expires (the lift's registration or its
  inspection mark), renewed to a date the renewal gives;
* ``operator_certificate``: a technician's special-equipment operator certificate
  (特种设备作业人员证), whose ``expires_on`` the people register holds.

A reminder goes out once per item, due date and stage: ``due_soon`` when the due date comes
within the lead time, ``overdue`` the day after it passes. Recording the item done moves the due
date, so the next cycle reminds again. Days are the site's local days: a drill due on the 1st is
overdue from 00:00 on the 2nd in Shanghai, not at 08:00.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

Item = Literal["inspection", "drill", "certificate", "operator_certificate"]
ITEMS: Final = ("inspection", "drill", "certificate", "operator_certificate")
Stage = Literal["ok", "due_soon", "overdue"]

INTERVAL_MONTHS: Final[dict[str, int]] = {"inspection": 12, "drill": 6}
"""How far a done item moves its due date; a certificate moves to the date its renewal gives."""

INSPECTED_YEARS: Final = frozenset({1, 4, 7, 9, 11, 13, 15})
"""Years after installation in which the inspection body inspects a lift up to 15 years old
(TSG T7001-2023, read through a secondary copy: DOMAIN.md); a self-test in the others."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day where it is shorter (a drill done
    on 31 August is due on 28 or 29 February; an inspection on 29 February on 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_due(item: str, done_on: date) -> date | None:
    """When an item done on ``done_on`` is due again; None where the renewal must say."""
    months = INTERVAL_MONTHS.get(item)
    return add_months(done_on, months) if months else None


def local_day(now: datetime, zone: str | ZoneInfo) -> date:
    """The calendar day it is at ``now`` in the site's time zone."""
    return now.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)).date()


def inspection_kind(installed: date | None, due_on: date) -> Literal["inspection", "self_test"]:
    """Whether the yearly check due on ``due_on`` is the inspection body's or a self-test."""
    if installed is None:
        return "inspection"  # not knowing the age, ask for the stricter one
    before_anniversary = (due_on.month, due_on.day) < (installed.month, installed.day)
    years = due_on.year - installed.year - before_anniversary
    years = max(years, 1)  # the first is due a year after installation: year 1
    return "inspection" if years > 15 or years in INSPECTED_YEARS else "self_test"


@dataclass(frozen=True, slots=True)
class Obligation:
    """One statutory item of one subject, and when it is due.

    ``key`` identifies it across cycles (the reminders are keyed by it and the due date);
    ``asset`` is empty for a site's own item (the drill), and names the technician for an
    operator certificate."""

    key: str
    site: str
    asset: str
    item: str
    due_on: date
    last_done_on: date | None = None
    label: str = ""


def stage(due_on: date, today: date, lead_days: int) -> Stage:
    """overdue past the due date, due_soon within ``lead_days`` of it (the day itself too)."""
    if today > due_on:
        return "overdue"
    if (due_on - today).days <= lead_days:
        return "due_soon"
    return "ok"


@dataclass(frozen=True, slots=True)
class Reminder:
    obligation: Obligation
    stage: Literal["due_soon", "overdue"]
    days_left: int
    """Negative once overdue: days past the due date."""


def reminders(
    obligations: Iterable[Obligation],
    today_of: dict[str, date],
    lead_days: int,
    sent: set[tuple[str, date, str]],
) -> list[Reminder]:
    """The reminders to send now: each item's current stage, unless sent for this due date.

    ``today_of`` gives each site's local day; ``sent`` holds (key, due_on, stage) of the
    reminders sent before. An item found overdue at its first look gets the overdue reminder
    only (a due-soon one after it would say less, and late)."""
    out = []
    for obligation in obligations:
        today = today_of[obligation.site]
        now_stage = stage(obligation.due_on, today, lead_days)
        if now_stage == "ok" or (obligation.key, obligation.due_on, now_stage) in sent:
            continue
        out.append(Reminder(obligation, now_stage, (obligation.due_on - today).days))
    return out
