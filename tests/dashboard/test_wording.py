"""The console words what the service generated in the visitor's language: schedules, and
timeline entries from their event and data (never the English note on a Chinese page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facility_dispatch.api.dashboard.i18n import Translator
from facility_dispatch.api.dashboard.pages import span
from facility_dispatch.api.dashboard.wording import (
    cron_text,
    every_text,
    order_choice,
    order_description,
    order_title,
    reporter_text,
    timeline_line,
)
from facility_dispatch.maintenance.orders import TimelineEntry, WorkOrder

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
ZH, EN = Translator("zh"), Translator("en")


@pytest.mark.parametrize(
    ("cron", "zh", "en"),
    [
        ("0 10 1 * *", "每月 1 日 10:00", "monthly on day 1 at 10:00"),
        ("30 8 * * 1", "每周一 08:30", "every Mon at 08:30"),
        ("0 22 * * 0", "每周日 22:00", "every Sun at 22:00"),
        ("15 6 * * *", "每天 06:15", "daily at 06:15"),
        ("*/5 * * * *", "*/5 * * * *", "*/5 * * * *"),  # anything else as written
    ],
)
def test_crontab_in_words(cron: str, zh: str, en: str) -> None:
    assert (cron_text(cron, ZH), cron_text(cron, EN)) == (zh, en)


def test_intervals_in_words() -> None:
    assert every_text("15d", ZH) == "每 15 天" and every_text("3mo", EN) == "every 3 months"


def order(**fields: object) -> WorkOrder:
    values: dict[str, object] = {
        name: None
        for name in WorkOrder.__dataclass_fields__  # type: ignore[attr-defined]
    }
    values.update(
        id=1,
        number="WO-2026-000001",
        title="pump-1: A leak sensor is wet",
        source="alarm",
        site="north",
        asset="pump-1",
        fault="leak",
        priority="P2",
        status="assigned",
        assignees=(7,),
        alarm_ids=(),
        timeline=(),
        checklist=(),
        description="",
    )
    values.update(fields)
    return WorkOrder(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "note", "data", "zh", "en"),
    [
        (
            "alarm",
            "alarm 3 leak (major) fired, value True",
            {"alarm_id": 3, "fault": "leak", "severity": "major", "value": True},
            "告警 #3：漏水（重要），数值 是",
            "alarm #3: Leak (Major), value yes",
        ),
        (
            "assigned",
            "skill plumbing: Li Na; on shift at north now: Li Na; assigned Li Na",
            {"assignees": [7], "by": "rules", "reason": None},
            "按派单规则指派给 Li Na",
            "by the dispatch rules to Li Na",
        ),
        (
            "assigned",
            "skill plumbing: Li Na; on shift at north now: Li Na; assigned Li Na",
            {"assignees": [7], "by": "rules", "reason": None, "why": {"7": ["on_shift"]}},
            "按派单规则指派给 Li Na · Li Na: 本项目当班",
            "by the dispatch rules to Li Na · Li Na: on shift here",
        ),
        (
            "escalated",
            "unassigned: skill cctv: nobody",
            {"cause": "nobody_available", "skill": "cctv", "reason": None},
            "无人可派：没有当班或值班的弱电监控技术员",
            "nobody can go: no CCTV technician on shift or on call",
        ),
        (
            "sla_breached",
            "WO-2026-000001 (P2) missed its response deadline ... by 5m",
            {"kind": "response", "due": "x", "late_s": 300},
            "响应超时 5分",
            "response deadline missed by 5m",
        ),
    ],
)
def test_generated_entries_are_worded_per_language(
    event: str, note: str, data: dict[str, object], zh: str, en: str
) -> None:
    entry = TimelineEntry(NOW, "dispatcher", event, None, None, note, data)
    names = {7: "Li Na"}
    said_zh = timeline_line(order(), entry, names, ZH, lambda s: span(s, ZH))
    said_en = timeline_line(order(), entry, names, EN, lambda s: span(s, EN))
    assert (said_zh.text, said_en.text) == (zh, en)
    assert said_zh.typed is None  # the service's English note is not shown in Chinese


@pytest.mark.parametrize("event", ["assigned", "escalated"])
def test_a_substitute_for_an_absent_colleague_is_worded_not_the_services_reason(
    event: str,
) -> None:
    """An absence moves orders: the rules choose again (or find nobody), and the service's
    reason ("Wang Wei is absent (training): substitute") is English; Chinese words it."""
    note = "Wang Wei is absent (培训): substitute; skill plumbing: Li Na"
    data = {"assignees": [7], "by": "rules", "why": {}, "cause": "nobody_available",
            "skill": "plumbing", "reason": "Wang Wei is absent (培训): substitute",
            "substitute_for": "Wang Wei", "absence_reason": "培训"}  # fmt: skip
    entry = TimelineEntry(NOW, "dispatcher", event, None, None, note, data)
    said = timeline_line(order(), entry, {7: "Li Na"}, ZH, lambda s: span(s, ZH))
    assert said.typed == "Wang Wei 请假（培训），由他人顶替"
    assert "absent" not in said.text + (said.typed or "")


def test_a_maintenance_templates_item_shows_in_the_pages_language() -> None:
    from facility_dispatch.api.dashboard.wording import template_item_text
    from facility_dispatch.maintenance.plan_values import templates

    items = [str(i) for t in templates().values() for i in t["items"]]
    for item in items:  # every item of every template has both halves
        zh, en = template_item_text(item, "zh"), template_item_text(item, "en")
        assert zh and en and not zh.isascii() and en.isascii() and zh + en != item, item
    weight = next(i for i in items if i.startswith("对重/平衡重块"))
    assert template_item_text(weight, "zh") == "对重/平衡重块及其压板：无松动，压板紧固"
    assert template_item_text(weight, "en") == "Counterweight blocks secure, clamps tight"
    typed = "检查阀门 / valve"  # a planner's own step is not one of the templates': left whole
    assert template_item_text(typed, "zh") == template_item_text(typed, "en") == typed


def test_an_old_entry_without_data_shows_its_note_in_english_only() -> None:
    entry = TimelineEntry(NOW - timedelta(days=1), "dispatcher", "alarm", None, None, "x y", {})
    assert timeline_line(order(), entry, {}, ZH, str).text == ""
    assert timeline_line(order(), entry, {}, EN, str).text == "x y"


def test_the_charts_draw_the_limits_of_the_rules_that_watch_the_asset() -> None:
    from facility_dispatch.api.dashboard.limits import limits
    from facility_dispatch.rules.loader import load_default

    drawn = limits(load_default().rules, "water", "north")
    assert [x["value"] for x in drawn["pressure_bar"]] == [1.5, 6.0]
    assert "leak_detected" not in drawn  # a boolean has states, not a line
    assert limits(load_default().rules, "cctv", "north")["fps"][0]["value"] == 10.0


def test_a_limit_that_follows_the_site_is_drawn_at_the_sites_voltage() -> None:
    from facility_dispatch.api.dashboard.limits import limits
    from facility_dispatch.rules.loader import load_default

    rules = load_default().rules
    drawn = [x["value"] for x in limits(rules, "power", "north")["voltage_v"]]
    assert 198.0 in drawn and 242.0 in drawn  # sag and swell at China's 220 V
    site_230 = {"nominal_voltage_v": 230.0, "nominal_frequency_hz": 50.0}
    drawn = [x["value"] for x in limits(rules, "power", "north", site_230)["voltage_v"]]
    assert 207.0 in drawn and 253.0 in drawn and 242.0 not in drawn


@pytest.mark.parametrize(
    ("age", "opens"),
    [(timedelta(minutes=2), "1h"), (timedelta(hours=3), "6h"), (timedelta(days=9), "24h")],
)
def test_a_chart_opens_on_the_range_its_data_fills(age: timedelta, opens: str) -> None:
    from facility_dispatch.api.dashboard.assets import first_range

    assert first_range(NOW - age, NOW) == opens


def test_an_alarm_joining_an_order_shows_its_value_as_the_alarm_card_does() -> None:
    """A leak sensor's ``True`` reads "漏水" / "wet" (the rule reads one metric), not "是"."""
    from facility_dispatch.rules.loader import load_default

    rules = {r.id: r for r in load_default().rules}
    data = {"alarm_id": 1, "fault": "leak", "severity": "major", "value": True,
            "kind": "water", "rule_id": "water-leak"}  # fmt: skip
    entry = TimelineEntry(NOW, "dispatcher", "alarm", None, None, "alarm 1 leak", data)
    said_zh = timeline_line(order(), entry, {}, ZH, str, rules.get).text
    said_en = timeline_line(order(), entry, {}, EN, str, rules.get).text
    assert said_zh == "告警 #1：漏水（重要），数值 漏水"
    assert said_en == "alarm #1: Leak (Major), value wet"


def test_an_order_joined_into_an_incident_is_worded_from_its_data() -> None:
    """Both ends of issue 17's join: the cancelled order's transition and the root's entry."""
    note = (
        "joined WO-2026-000041: alarm 2 controller_fault is part of the incident of alarm 3 "
        "(entrapment)"
    )
    data = {"joined": 41, "number": "WO-2026-000041", "alarm_id": 2, "root_alarm_id": 3}
    moved = TimelineEntry(NOW, "dispatcher", "transition", "open", "cancelled", note, data)
    zh = timeline_line(order(), moved, {}, ZH, str)
    en = timeline_line(order(), moved, {}, EN, str)
    assert zh.text == "待派单 → 已取消 · 并入 WO-2026-000041：告警 #2 属于告警 #3 的同一事件"
    assert en.text.endswith("joined WO-2026-000041: alarm #2 is part of the incident of alarm #3")
    assert zh.typed is None and en.typed is None  # the service's note is not a person's
    root_data = {"order": 40, "number": "WO-2026-000040", "alarm_id": 2}
    root = TimelineEntry(
        NOW, "dispatcher", "joined", None, None, "WO-2026-000040 joined", root_data
    )
    zh, en = timeline_line(order(), root, {}, ZH, str), timeline_line(order(), root, {}, EN, str)
    assert (zh.label, zh.text) == ("工单并入", "WO-2026-000040 并入本单：告警 #2 属于本事件")
    assert (en.label, en.text) == (
        "order joined",
        "WO-2026-000040 joined: alarm #2 is part of this incident",
    )


def test_an_order_from_a_plan_or_a_residents_request_names_its_source_in_words() -> None:
    plan = TimelineEntry(
        NOW, "dispatcher", "created", None, "new", "x", {"channel": "plan", "reporter": None}
    )
    assert timeline_line(order(), plan, {}, ZH, str).text == "来源：计划保养"
    assert timeline_line(order(), plan, {}, EN, str).text == "from: maintenance plan"
    data = {"channel": "qr", "reporter": "3-1502 (request 1)"}
    came = TimelineEntry(NOW, "dispatcher", "created", None, "new", "x", data)
    zh, en = timeline_line(order(), came, {}, ZH, str), timeline_line(order(), came, {}, EN, str)
    assert (zh.text, zh.typed) == ("来源：扫码", "3-1502（报事 #1）")
    assert (en.text, en.typed) == ("from: QR code", "3-1502 (request #1)")
    assert reporter_text("王伟 13800000000", ZH) == "王伟 13800000000"  # typed: as typed


def test_a_residents_order_and_a_round_finding_are_titled_in_the_pages_language() -> None:
    resident = order(source="resident", title="报修 repair 3-1502: 水龙头漏水 tap", channel="qr")
    assert order_title(resident, ZH) == "报修 3-1502: 水龙头漏水 tap"
    assert order_title(resident, EN) == "Repair 3-1502: 水龙头漏水 tap"
    typed = order(source="resident", title="报修 repairs needed")  # not the service's title
    assert order_title(typed, ZH) == "报修 repairs needed"
    found = order(
        source="manual", channel="walk_round", description="每日防火巡查, round 9. 有一处故障屏蔽"
    )
    assert order_description(found, ZH) == "每日防火巡查，第 9 次巡查发现。 有一处故障屏蔽"
    assert order_description(found, EN) == "每日防火巡查, found on round 9. 有一处故障屏蔽"
    assert order_description(order(description="a, round 9. b"), ZH) == "a, round 9. b"


def test_a_plans_order_names_its_level_and_due_time_in_the_pages_language() -> None:
    title = "电梯半月保养: lift-1 半月保养 / half-monthly maintenance (due 2026-12-01 02:31)"
    planned = order(source="preventive", title=title)
    assert order_title(planned, ZH) == "电梯半月保养: lift-1 半月保养（2026-12-01 02:31 到期）"
    assert order_title(planned, EN) == (
        "电梯半月保养: lift-1 half-monthly maintenance (due 2026-12-01 02:31)"
    )
    plain = order(source="preventive", title="水泵保养: pump-1 (due 2026-12-01 10:00)")
    assert order_title(plain, ZH) == "水泵保养: pump-1（2026-12-01 10:00 到期）"
    assert order_title(order(source="manual", title="x (due 2026-12-01 10:00)"), ZH).endswith(
        "(due 2026-12-01 10:00)"
    )  # a title a person typed stays


def test_an_order_to_join_reads_short_number_place_and_title() -> None:
    """A request joining an open order picks it from a list a phone shows whole: the number,
    the asset (else the building) and a title cut to a glance, without a plan order's due time."""
    planned = order(
        number="WO-2026-000042",
        source="plan",
        fault=None,
        asset="lift-2",
        title="Monthly lift maintenance: lift-2 (due 2026-12-01 09:00)",
    )
    assert order_choice(planned, ZH) == "WO-2026-000042 · lift-2 · Monthly lift maintenanc…"
    typed = order(source="manual", fault=None, asset=None, building="5 栋", title="漏水")
    assert order_choice(typed, EN) == "WO-2026-000001 · 5 栋 · 漏水"
    assert order_choice(order(), ZH) == "WO-2026-000001 · pump-1 · pump-1：漏水"
    assert all(len(order_choice(o, ZH)) <= 60 for o in (planned, typed, order()))
    # a preventive order's title is worded with its due time in Chinese brackets: left out too
    pump = order(source="preventive", fault=None, title="水泵保养: pump-1 (due 2026-12-01 10:00)")
    assert order_choice(pump, ZH) == "WO-2026-000001 · pump-1 · 水泵保养: pump-1"
