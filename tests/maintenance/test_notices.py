"""Resident notices: the building and the lift named, planned works shown notice_before ahead,
emergencies worded as happening now, urgent first, in Chinese and English."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from facility_dispatch.maintenance.names import by_language
from facility_dispatch.maintenance.notices import Notices, Reason, sign_off, wording
from tests.maintenance.harness import START, Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


LATIN = re.compile(r"[A-Za-z]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def each_in_its_language(body_zh: str, body_en: str, *english: str) -> None:
    """No English word in the Chinese notice, no Chinese character in the English one (the
    English given by the caller, a reason, must be in the English text only)."""
    assert not LATIN.search(body_zh), body_zh
    assert not HAN.search(body_en), body_en
    for words in english:
        assert words in body_en and words not in body_zh


@pytest.mark.parametrize(
    ("service", "building", "lift", "planned", "zh", "en"),
    [
        (
            "water", "3", None, True,
            ("3栋停水通知", "3栋将于12月1日 09:00至13:00暂停供水。请提前做好储水准备。"),
            ("Water supply interruption: building 3", "off from 1 Dec 09:00 to 13:00"),
        ),
        (
            "water", "3", None, False,
            ("紧急：3栋停水通知", "3栋供水目前已暂停，物业正在抢修，恢复后将另行通知。"),
            ("Urgent: Water supply interruption: building 3", "of building 3 is off now. We are"),
        ),
        (
            "elevator", "1", "2号电梯", False,
            ("紧急：1栋电梯停运通知", "1栋2号电梯运行目前已暂停"),
            ("Urgent: Lift out of service: building 1", "lift 2 of building 1 is off now"),
        ),
        (  # a registry name that is an id with its number: worded, not shown as is
            "elevator", "1", "lift-2", True,
            ("1栋电梯停运通知", "1栋将于12月1日 09:00至13:00暂停2号电梯运行。"),
            ("Lift out of service: building 1", "lift 2 of building 1 will be off"),
        ),
        (  # a lift with no name (nor number): the lift, never its id
            "elevator", "1", None, True,
            ("1栋电梯停运通知", "1栋将于12月1日 09:00至13:00暂停电梯运行。"),
            ("Lift out of service: building 1", "the lift of building 1 will be off"),
        ),
        (
            "power", None, None, False,
            ("紧急：停电通知", "全小区供电目前已暂停"),
            ("Urgent: Power cut", "the power supply of the whole estate is off now"),
        ),
    ],
)  # fmt: skip
def test_notices_name_where_and_say_now_or_when(
    service: str,
    building: str | None,
    lift: str | None,
    planned: bool,
    zh: tuple[str, str],
    en: tuple[str, str],
) -> None:
    title_zh, body_zh, title_en, body_en = wording(
        service, "绿园", building, T, T + timedelta(hours=4) if planned else None,
        Reason("设备检修", "Equipment repairs"), planned, SHANGHAI, lift,
    )  # fmt: skip
    assert (title_zh, title_en) == (zh[0], en[0])
    assert zh[1] in body_zh and en[1] in body_en
    assert body_zh.startswith("尊敬的业主、住户：因设备检修，") and body_zh.endswith(
        "绿园物业服务中心"
    )
    assert body_en.startswith("Dear residents: because of equipment repairs, ")
    # the estate has a Chinese name only: the English is signed without it
    assert body_en.endswith("We apologise for the inconvenience. Property management office")
    each_in_its_language(body_zh, body_en, "equipment repairs")
    if not planned:  # happening now: no advice to prepare for what has already happened
        assert "提前" not in body_zh and "beforehand" not in body_en


@pytest.mark.parametrize(
    ("site_name", "office_zh", "office_en"),
    [
        ("绿园 Green Garden", "绿园物业服务中心", "Green Garden property management office"),
        ("Green Garden / 绿园", "绿园物业服务中心", "Green Garden property management office"),
        ("绿园", "绿园物业服务中心", "Property management office"),
        ("Green Garden", "物业服务中心", "Green Garden property management office"),
    ],
)
def test_each_language_is_signed_by_the_office_in_its_own_words(
    site_name: str, office_zh: str, office_en: str
) -> None:
    """An estate named in both languages ("绿园 Green Garden") signs each notice with its own
    name; named in one only, the other language signs neutrally."""
    assert sign_off(site_name) == (office_zh, office_en)
    _, body_zh, _, body_en = wording(
        "water", site_name, "3", T, T + timedelta(hours=2), Reason.of("水泵更换 pump replacement"),
        True, SHANGHAI,
    )  # fmt: skip
    assert body_zh.endswith(f"敬请谅解。{office_zh}") and body_en.endswith(f". {office_en}")
    each_in_its_language(body_zh, body_en, "pump replacement")


@pytest.mark.parametrize(
    ("name", "name_en", "office_zh", "office_en"),
    [
        ("绿园", "Green Garden", "绿园物业服务中心", "Green Garden property management office"),
        # the office's own English name wins over the English written into the name
        ("绿园 Green Gdn", "Green Garden Estate", "绿园物业服务中心",
         "Green Garden Estate property management office"),
        ("绿园 Green Garden", "  ", "绿园物业服务中心", "Green Garden property management office"),
        ("Green Garden", "Green Garden", "物业服务中心", "Green Garden property management office"),
        ("绿园", None, "绿园物业服务中心", "Property management office"),
    ],
)  # fmt: skip
def test_an_estates_own_english_name_signs_the_english_notice(
    name: str, name_en: str | None, office_zh: str, office_en: str
) -> None:
    """Set, the English name signs the English notice; blank or absent, the English cut out
    of the name does (or a neutral office); the Chinese notice keeps the Chinese part."""
    assert sign_off(name, name_en) == (office_zh, office_en)
    _, body_zh, _, body_en = wording(
        "power", name, None, T, None, Reason(), False, SHANGHAI, None, name_en
    )
    assert body_zh.endswith(f"敬请谅解。{office_zh}") and body_en.endswith(f". {office_en}")
    each_in_its_language(body_zh, body_en)


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("水箱清洗 Tank cleaning", "水箱清洗", "Tank cleaning"),
        ("水箱清洗 tank cleaning 半年保养 / semi-annual maintenance", "水箱清洗，半年保养",
         "tank cleaning, semi-annual maintenance"),
        ("Lift maintenance / 电梯维保", "电梯维保", "Lift maintenance"),
        ("更换 PLC 模块", "更换 PLC 模块", ""),  # a code inside the Chinese stays in it
        ("3号楼 B2 水泵", "3号楼 B2 水泵", ""),
        ("tank cleaning", "", "tank cleaning"),
        ("设备检修", "设备检修", ""),
    ],
)  # fmt: skip
def test_a_reason_written_in_both_languages_in_one_text_is_split(
    text: str, zh: str, en: str
) -> None:
    assert by_language(text) == (zh, en) and Reason.of(text) == Reason(zh, en)


def test_a_reason_missing_in_one_language_is_worded_plainly_not_copied() -> None:
    """Only a Chinese reason: the English says "maintenance works" (planned) or names the
    service's fault (an emergency), and never carries the Chinese words."""
    _, planned_zh, _, planned_en = wording(
        "water", "绿园", "3", T, T + timedelta(hours=2), Reason.of("水箱清洗"), True, SHANGHAI
    )
    assert "因水箱清洗，" in planned_zh and "because of maintenance works," in planned_en
    _, urgent_zh, _, urgent_en = wording(
        "water", "绿园", "3", T, None, Reason.of("burst main pipe"), False, SHANGHAI
    )
    assert "因供水管道故障，" in urgent_zh and "because of burst main pipe," in urgent_en
    each_in_its_language(planned_zh, planned_en)
    each_in_its_language(urgent_zh, urgent_en, "burst main pipe")


@pytest.mark.parametrize(
    ("service", "lift", "zh", "en"),
    [
        ("elevator", "2号", "因电梯故障，5栋2号电梯运行目前已暂停",
         "because of a lift fault, lift 2 of building 5 is off now"),
        ("elevator", "2号梯", "5栋2号梯运行", "lift 2 of building 5"),
        ("elevator", "客梯", "5栋客梯运行", "the lift of building 5"),
        ("water", None, "因供水管道故障，5栋供水目前已暂停",
         "because of a fault in the water supply, the water supply of building 5"),
        ("power", None, "因供电故障，5栋供电目前已暂停",
         "because of a fault in the power supply, the power supply of building 5"),
    ],
)  # fmt: skip
def test_an_emergency_from_an_alarm_is_worded_for_residents_in_each_language(
    service: str, lift: str | None, zh: str, en: str
) -> None:
    """The dispatcher gives no reason: each language gets its own plain words for the fault,
    never the rule's engineering text, and a lift named "2号" reads "2号电梯" / "lift 2"."""
    _, body_zh, _, body_en = wording(service, "绿园", "5", T, None, Reason(), False, SHANGHAI, lift)
    assert zh in body_zh and en in body_en
    each_in_its_language(body_zh, body_en)


def test_an_emergency_with_a_known_end_says_when_it_is_expected_back() -> None:
    _, body_zh, _, body_en = wording(
        "power", "绿园", "2", T, T + timedelta(hours=2), Reason("市政线路故障"), False, SHANGHAI
    )
    assert "预计12月1日 11:00恢复" in body_zh and "we expect it back by 1 Dec 11:00" in body_en


@pytest.fixture
def notices(database_url: str) -> Iterator[tuple[Harness, Notices, list[str]]]:
    harness = Harness(database_url)
    published: list[str] = []
    located = {("north", "lift-2"): ("5", "2号电梯")}
    service = Notices(
        harness.sessions,
        harness.events,
        harness.people,
        harness.clock,
        "Asia/Shanghai",
        publish=lambda topic, payload, retain: published.append(payload.decode()),
        locate=lambda site, asset: located.get((site, asset), (None, None)),
    )
    yield harness, service, published
    harness.close()


def test_planned_works_are_shown_notice_before_ahead_and_urgent_notices_first(
    notices: tuple[Harness, Notices, list[str]],
) -> None:
    harness, service, published = notices
    works = START + timedelta(days=3)
    planned = service.announce(
        "north", "water", works, works + timedelta(hours=4), "水箱清洗 tank cleaning",
        building="3", publish_at=works - timedelta(hours=24),
    )  # fmt: skip
    assert service.query("north", START) == [] and published == []  # not yet: 2 days ahead
    assert service.publish_due() == 0
    urgent = service.announce(
        "north", "elevator", START, None, "困人故障 a passenger trapped",
        asset="lift-2", planned=False,
    )  # fmt: skip
    assert urgent.building == "5" and "5栋2号电梯运行目前已暂停" in urgent.body_zh
    assert "因困人故障，" in urgent.body_zh and "because of a passenger trapped," in urgent.body_en
    each_in_its_language(urgent.body_zh, urgent.body_en, "a passenger trapped")
    each_in_its_language(planned.body_zh, planned.body_en, "tank cleaning")
    assert "因水箱清洗，" in planned.body_zh
    assert [n.id for n in service.query("north", START)] == [urgent.id]
    harness.clock.advance(timedelta(days=2))  # 24 h before the works
    assert service.publish_due() == 1 and service.publish_due() == 0  # once
    shown = service.query("north", harness.clock.now())
    assert [n.id for n in shown] == [urgent.id, planned.id]  # the emergency first
    assert '"urgent":true' in published[-1] and "tank cleaning" in published[-1]
    types = [e.type for e in harness.events.since(0) if e.type.startswith("notice.")]
    assert types == ["notice.published", "notice.published"]


def test_a_trapped_passenger_alarm_tells_residents_in_their_words(
    notices: tuple[Harness, Notices, list[str]],
) -> None:
    """Through the dispatcher: the rule's English description stays out of the notice."""
    from facility_dispatch.maintenance.dispatcher import Dispatcher
    from facility_dispatch.rules.loader import load_default

    harness, service, _ = notices
    harness.technician("Wang Lei", "elevator")
    dispatcher = Dispatcher(harness.orders, load_default, notices=service, alarms=harness.alarms)
    record = harness.alarms.get(
        harness.fire("lift-2", "elevator", "entrapment", "elevator-entrapment")
    )
    assert record is not None
    dispatcher.handle("fired", record)
    (notice,) = service.query("north")
    assert "因电梯故障，5栋2号电梯运行目前已暂停" in notice.body_zh
    assert "because of a lift fault, lift 2 of building 5 is off now" in notice.body_en
    each_in_its_language(notice.body_zh, notice.body_en)  # the site "north": no Latin in zh


def test_a_lift_the_registry_does_not_name_is_never_shown_by_its_id(
    notices: tuple[Harness, Notices, list[str]],
) -> None:
    """Residents never read an asset id: an id with its number ("lift-7") is "7号电梯" /
    "lift 7", any other ("elv-a3") is "电梯" / "the lift"."""
    _, service, _ = notices
    numbered = service.announce(
        "north", "elevator", START, None, Reason(), building="2", asset="lift-7", planned=False
    )
    assert "2栋7号电梯运行目前已暂停" in numbered.body_zh
    assert "lift 7 of building 2 is off now" in numbered.body_en
    other = service.announce(
        "north", "elevator", START, None, Reason(), building="2", asset="elv-a3", planned=False
    )
    assert "2栋电梯运行目前已暂停" in other.body_zh
    assert "the lift of building 2 is off now" in other.body_en
    for notice in (numbered, other):
        assert notice.asset not in notice.body_zh + notice.body_en
        each_in_its_language(notice.body_zh, notice.body_en)


def test_a_withdrawn_notice_leaves_the_signage_and_the_residents_list_once(
    notices: tuple[Harness, Notices, list[str]],
) -> None:
    harness, service, published = notices
    kept = service.announce("north", "power", START, None, Reason("线路检修", "line repairs"))
    gone = service.announce("north", "water", START, None, Reason("水管更换", "pipe change"))

    def on_signage() -> set[int]:
        return {n["id"] for n in json.loads(published[-1])}

    assert on_signage() == {kept.id, gone.id}
    withdrawn = service.withdraw(gone.id)
    assert withdrawn is not None and withdrawn.cancelled_at == harness.clock.now()
    assert [n.id for n in service.query("north", START)] == [kept.id]
    assert on_signage() == {kept.id}  # the retained list republished without it
    harness.clock.advance(timedelta(minutes=5))
    again = service.withdraw(gone.id)
    assert again is not None and again.cancelled_at == withdrawn.cancelled_at  # once
    assert service.withdraw(999_999) is None
    types = [e.type for e in harness.events.since(0) if e.type == "notice.cancelled"]
    assert types == ["notice.cancelled"]


def test_a_notice_is_signed_with_the_english_name_the_site_record_gives(
    notices: tuple[Harness, Notices, list[str]],
) -> None:
    """The service reads the site's record: its English name signs the English notice, and
    a later change of it signs the next notice (not the ones already issued)."""
    harness, service, _ = notices
    harness.people.put_site("north", name="北苑", name_en="North Court")
    first = service.announce("north", "water", START, None, Reason(), planned=False)
    assert first.body_zh.endswith("北苑物业服务中心")
    assert first.body_en.endswith("North Court property management office")
    harness.people.put_site("north", name="北苑", name_en=None)
    second = service.announce("north", "water", START, None, Reason(), planned=False)
    assert second.body_en.endswith(". Property management office")
    assert service.query("north")[-1].body_en == first.body_en  # issued words stay as issued
