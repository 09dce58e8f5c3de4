"""The translation tables and the choice of a page's language: pure, no service needed."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from facility_dispatch.api.dashboard import i18n
from facility_dispatch.api.dashboard.pages import span
from facility_dispatch.api.dashboard.present import (
    SlaClock,
    needing_people,
    ranks,
    sla_clock,
    unacknowledged,
    value_text,
)
from facility_dispatch.maintenance.orders import WorkOrder
from tests.services import ROOT

TEMPLATES = ROOT / "api" / "templates" / "dashboard"
SCRIPTS = ROOT / "api" / "static"


def test_both_tables_have_the_same_keys_and_placeholders() -> None:
    zh, en = i18n.table("zh"), i18n.table("en")
    assert set(zh) == set(en)
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key


def _used_keys(folder: Path, pattern: str, glob: str) -> set[str]:
    return {key for path in folder.glob(glob) for key in re.findall(pattern, path.read_text())}


def test_every_key_the_templates_and_scripts_name_is_translated() -> None:
    literal = _used_keys(TEMPLATES, r"""\bt\(\s*["']([a-z_.0-9]+)["']""", "*.html")
    literal |= _used_keys(SCRIPTS, r"""\btr\(\s*["']([a-z_.0-9]+)["']""", "*.js")
    assert len(literal) > 80
    table = i18n.table("en")
    missing = sorted(k for k in literal if not k.endswith(".") and k not in table)
    assert not missing, missing
    prefixes = {k for k in literal if k.endswith(".")}  # t("status." ~ name)
    assert all(any(key.startswith(p) for key in table) for p in prefixes), prefixes
    # keys built from a prefix and a value: every value the domain can give
    built = {
        "status": ("ok", "alarm", "offline", "maintenance"),
        "severity": ("critical", "major", "minor", "warning"),
        "wo_status": (
            "open",
            "assigned",
            "acknowledged",
            "in_progress",
            "on_hold",
            "resolved",
            "closed",
            "cancelled",
        ),
        "step": ("assigned", "acknowledged", "in_progress", "on_hold", "resolved", "closed"),
        "kind": ("elevator", "water", "power", "cctv"),
        "source": ("alarm", "preventive", "manual"),
        "alarm_state": ("pending", "firing", "resolved"),
        "occurrence": ("upcoming", "generating", "generated", "skipped"),
        "role": ("viewer", "technician", "planner", "admin"),
        "duty": ("on_shift", "on_call", "off", "absent"),
    }
    for prefix, values in built.items():
        for value in values:
            assert f"{prefix}.{value}" in i18n.table("zh"), f"{prefix}.{value}"


@pytest.mark.parametrize(
    ("cookie", "locales", "header", "expected"),
    [
        ("en", ["zh-CN"], "zh-CN", "en"),  # the visitor's choice wins
        ("zh", [], "en", "zh"),
        ("fr", [], "en-US,en;q=0.9", "en"),  # an unknown cookie is ignored
        (None, ["zh-CN"], "en-US", "zh"),  # a zh-CN estate reads Chinese
        (None, ["zh-CN", "en"], "en-US", "en"),  # a mixed one: the browser decides
        (None, ["zh-CN", "en"], "zh-TW,zh;q=0.9", "zh"),
        (None, [], "de-DE,en;q=0.5,zh;q=0.8", "zh"),  # by quality, not by order
        (None, [], "de-DE", "en"),
        (None, [], None, "en"),
    ],
)
def test_the_language_of_a_page(
    cookie: str | None, locales: list[str], header: str | None, expected: str
) -> None:
    assert i18n.choose(cookie, locales, header) == expected


def test_durations_read_at_a_glance() -> None:
    en, zh = i18n.Translator("en"), i18n.Translator("zh")
    assert [span(s, en) for s in (0, 45, 720, 12_000, 187_200)] == [
        "0s",
        "45s",
        "12m",
        "3h 20m",
        "2d 4h",
    ]
    assert span(12_000, zh) == "3小时 20分"


def test_readings_with_their_units() -> None:
    assert value_text("water", "pressure_bar", 3.2) == "3.2 bar"
    assert value_text("water", "pressure_bar", 3.0) == "3 bar"
    assert value_text("elevator", "car_floor", 12) == "F12"
    assert [value_text("elevator", "car_floor", f) for f in (-2, 0)] == ["B2", "G"]
    assert value_text("water", "leak_detected", True) == "✓"
    assert value_text("power", "power_factor", 0.955) == "0.95"
    assert value_text("elevator", "door_state", "open") == "open"


def blank_order(**fields: Any) -> WorkOrder:
    """A work order with only the fields a test names (the rest None, no people, no alarms)."""
    blank: dict[str, Any] = dict.fromkeys(WorkOrder.__dataclass_fields__)
    return WorkOrder(**{**blank, "assignees": (), "alarm_ids": (), **fields})


def test_the_sla_clock_counts_to_the_deadline_that_matters_now() -> None:
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    order = blank_order(
        status="assigned",
        respond_by=now + timedelta(minutes=10),
        resolve_by=now + timedelta(hours=4),
    )
    assert sla_clock(order, now) == SlaClock(order.respond_by, "respond", False)
    assert sla_clock(order, now + timedelta(minutes=11)) == SlaClock(
        order.respond_by, "respond", True
    )
    working = replace(order, status="in_progress", responded_at=now + timedelta(minutes=5))
    assert sla_clock(working, now + timedelta(hours=1)) == SlaClock(
        order.resolve_by, "resolve", False
    )
    breached = replace(working, resolution_breached_at=now)  # the escalation job noted it
    assert sla_clock(breached, now) == SlaClock(order.resolve_by, "resolve", True)
    assert sla_clock(replace(working, status="resolved"), now) is None


def test_not_yet_accepted_is_urgent_work_nobody_has_taken_and_the_board_ranks_p1_first() -> None:
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    lamp = blank_order(
        id=1,
        priority="P4",
        status="open",
        respond_by=now + timedelta(hours=4),
        resolve_by=now + timedelta(days=3),
    )
    burst = replace(
        lamp, id=2, priority="P1", status="assigned", resolve_by=now + timedelta(hours=4)
    )
    taken = replace(
        burst, id=3, status="acknowledged", responded_at=now, resolve_by=now + timedelta(hours=5)
    )
    late = replace(  # near its response deadline
        lamp, id=4, respond_by=now + timedelta(minutes=20), resolve_by=now + timedelta(days=2)
    )

    def unaccepted(order: WorkOrder) -> bool:
        return unacknowledged(order, sla_clock(order, now), now)

    assert [unaccepted(o) for o in (lamp, burst, taken, late)] == [False, True, False, True]
    # the board's one list on a phone: P1 first whatever the column, then the nearer deadline
    assert ranks([lamp, late, taken, burst]) == {2: 0, 3: 1, 4: 2, 1: 3}


def test_still_needs_people_lists_only_orders_someone_has_to_take_or_finish() -> None:
    """The overview's "Still needs people": urgent or near-deadline orders still open,
    assigned, acknowledged, in progress or on hold; never a resolved, closed or cancelled one."""
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    urgent = blank_order(
        id=1,
        priority="P2",
        status="open",
        respond_by=now + timedelta(hours=1),
        resolve_by=now + timedelta(hours=8),
    )
    statuses = [
        "open", "assigned", "acknowledged", "in_progress", "on_hold",
        "resolved", "closed", "cancelled",
    ]  # fmt: skip
    orders = [
        replace(urgent, id=n, status=status, responded_at=None if n < 2 else now)
        for n, status in enumerate(statuses)
    ]
    near = replace(urgent, id=20, priority="P4", respond_by=now + timedelta(minutes=10))
    far = replace(urgent, id=21, priority="P4")
    everything = [*orders, near, replace(near, id=22, status="resolved"), far]
    clocks = {o.id: sla_clock(o, now) for o in everything}
    shown = {o.id: o.status for o in needing_people(everything, clocks, now)}
    assert sorted(shown.values()) == sorted(
        ["open", "assigned", "acknowledged", "in_progress", "on_hold", "open"]
    )
    assert 20 in shown and 22 not in shown and 21 not in shown


def test_english_counts_of_one_read_in_the_singular() -> None:
    """ "1 orders, P1 first" / "done · 1 findings" read "1 order" / "1 finding"; Chinese has no
    plural, and other counts keep theirs."""
    en, zh = i18n.Translator("en"), i18n.Translator("zh")
    assert en("board.count", n=1) == "1 order, P1 first"
    assert en("board.count", n=2) == "2 orders, P1 first"
    assert en("rounds.findings", n=1) == "1 finding" and en("rounds.findings", n=0) == "0 findings"
    assert zh("rounds.findings", n=1) == zh("rounds.findings", n=2).replace("2", "1")
    table = i18n.table("en")
    singular = [k for k in table if k.endswith(".one")]
    assert len(singular) >= 10 and all(k.removesuffix(".one") in table for k in singular)
    script = (SCRIPTS / "strings.js").read_text()
    assert "`${key}.one`" in script  # the scripts' toasts count the same way
