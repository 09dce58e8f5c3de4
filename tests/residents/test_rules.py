"""The pure rules of residents' requests: status, phones, names, follow-ups, limits, KPIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from facility_dispatch.api.dashboard import i18n
from facility_dispatch.residents import kpis
from facility_dispatch.residents.limits import Allowance, Bucket, client_of, take
from facility_dispatch.residents.model import (
    REFUSALS,
    RequestConflictError,
    RequestRefusedError,
    bounded,
    follow_up_due,
    form_of_address_zh,
    given_name,
    mask_phone,
    normalize_phone,
    order_statuses,
    phone_kept,
    shown_status,
)

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("decision", "order", "shown"),
    [
        ("new", None, "new"),
        ("rejected", None, "rejected"),
        ("accepted", "open", "accepted"),
        ("accepted", "assigned", "accepted"),
        ("accepted", "acknowledged", "accepted"),
        ("accepted", "in_progress", "in_progress"),
        ("accepted", "on_hold", "in_progress"),
        ("accepted", "resolved", "done"),
        ("accepted", "closed", "closed"),
        ("accepted", "cancelled", "closed"),
    ],
)
def test_a_request_shows_its_decision_then_its_orders_progress(
    decision: str, order: str | None, shown: str
) -> None:
    assert shown_status(decision, order) == shown
    wanted_decision, wanted_orders = order_statuses(shown)
    assert wanted_decision == decision
    assert wanted_orders is None or order in wanted_orders


@pytest.mark.parametrize(
    ("raw", "normal", "masked"),
    [
        ("13800005678", "13800005678", "138****5678"),
        ("138 0000 5678", "13800005678", "138****5678"),
        ("138-0000-5678", "13800005678", "138****5678"),
        ("+86 138 0000 5678", "13800005678", "138****5678"),
        ("0086 13800005678", "13800005678", "138****5678"),
        ("+852 9123 4567", "+85291234567", "852****4567"),
        ("0571-8888888", "05718888888", "057****8888"),
    ],
)
def test_phones_are_normalized_and_masked(raw: str, normal: str, masked: str) -> None:
    assert normalize_phone(raw) == normal
    assert mask_phone(normal) == masked


@pytest.mark.parametrize("raw", ["", "12345", "call me", "<b>138</b>", "1" * 16])
def test_what_is_not_a_phone_is_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(RequestRefusedError, match=r"^phone: "):
        normalize_phone(raw)


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("王伟", "伟"),
        ("欧阳娜娜", "娜娜"),
        ("Li Na", "Na"),
        ("Zhang San Feng", "Feng"),
        ("Bob", "Bob"),
    ],
)
def test_the_resident_sees_the_technicians_given_name_only(name: str, given: str) -> None:
    assert given_name(name) == given


@pytest.mark.parametrize(
    ("name", "zh", "en"),
    [
        ("陈刚 Chen Gang", "陈师傅", "Gang"),
        ("王伟", "王师傅", "伟"),
        ("欧阳娜娜", "欧阳师傅", "娜娜"),
        ("Li Na", "Na", "Na"),  # no Chinese characters to take a surname from
        ("Bob", "Bob", "Bob"),
    ],
)
def test_a_chinese_page_calls_the_technician_by_surname_and_shifu(
    name: str, zh: str, en: str
) -> None:
    assert (form_of_address_zh(name), given_name(name)) == (zh, en)


def test_bounded_text_names_the_field() -> None:
    assert bounded("unit", "  1202 ", 40, 1) == "1202"
    with pytest.raises(RequestRefusedError, match="unit: is required"):
        bounded("unit", "   ", 40, 1)
    with pytest.raises(RequestRefusedError, match="longer than 40"):
        bounded("unit", "x" * 41, 40)
    with pytest.raises(RequestRefusedError, match="control characters"):
        bounded("unit", "12\x0002", 40)


@pytest.mark.parametrize(
    ("resolved", "feedback", "called", "now", "due"),
    [
        (T0, None, None, T0 + timedelta(days=3), True),
        (T0, None, None, T0 + timedelta(days=2, hours=23), False),
        (T0, T0 + timedelta(days=1), None, T0 + timedelta(days=5), False),
        (T0, None, T0 + timedelta(days=3), T0 + timedelta(days=5), False),
        (None, None, None, T0 + timedelta(days=9), False),
    ],
)
def test_a_follow_up_call_is_due_three_days_after_resolution_without_feedback(
    resolved: datetime | None,
    feedback: datetime | None,
    called: datetime | None,
    now: datetime,
    due: bool,
) -> None:
    assert follow_up_due(resolved, feedback, called, now) is due


def test_the_token_bucket_allows_a_burst_then_one_per_interval() -> None:
    allowance = Allowance(burst=3, every=timedelta(minutes=1))
    bucket, waits = None, []
    for _ in range(4):
        bucket, wait = take(bucket, allowance, T0)
        waits.append(wait)
    assert waits == [0.0, 0.0, 0.0, 60.0]
    assert bucket is not None
    later, wait = take(bucket, allowance, T0 + timedelta(seconds=30))
    assert wait == pytest.approx(30.0)
    later, wait = take(bucket, allowance, T0 + timedelta(minutes=1))
    assert wait == 0.0 and later.tokens == pytest.approx(0.0)
    full, wait = take(Bucket(0.0, T0), allowance, T0 + timedelta(days=1))
    assert wait == 0.0 and full.tokens == pytest.approx(2.0)  # never more than the burst


def fact(
    day: int, unit: str = "1202", category: str = "repair", **extra: object
) -> kpis.RequestFacts:
    values: dict[str, object] = {
        "site": "gg",
        "building": "3",
        "unit": unit,
        "category": category,
        "created_at": T0 + timedelta(days=day),
        "first_response_at": None,
        "resolved_at": None,
        "rating": None,
        **extra,
    }
    return kpis.RequestFacts(**values)  # type: ignore[arg-type]


def test_kpis_count_satisfaction_feedback_repeats_and_first_response() -> None:
    facts = [
        fact(-20),  # before the period: makes day 5 a repeat only through day 0's chain
        fact(
            0,
            first_response_at=T0 + timedelta(minutes=10),
            resolved_at=T0 + timedelta(days=1),
            rating=5,
        ),
        fact(
            5,
            first_response_at=T0 + timedelta(days=5, minutes=30),
            resolved_at=T0 + timedelta(days=6),
            rating=2,
        ),
        fact(
            6,
            unit="801",
            category="complaint",
            first_response_at=T0 + timedelta(days=6, minutes=20),
            resolved_at=T0 + timedelta(days=7),
        ),
        fact(40),  # 35 days after day 5: not a repeat
        fact(41, unit="801", category="praise"),
    ]
    report = kpis.compute(facts, T0, T0 + timedelta(days=45))
    assert report["requests"] == 5
    assert report["by_category"] == {"complaint": 1, "praise": 1, "repair": 3}
    assert report["by_building"] == {"3": 5}
    assert report["satisfaction"] == {"rated": 2, "mean": 3.5, "share_4_5": 0.5}
    assert report["feedback_rate"] == round(2 / 3, 3)
    assert report["repeat_requests"] == 2  # day 0 (after day -20) and day 5
    assert report["first_response_s"] == {"answered": 3, "waiting": 2, "mean": 1200, "median": 1200}


def test_kpis_of_nothing_are_empty_not_zero() -> None:
    report = kpis.compute([], T0, T0 + timedelta(days=1))
    assert report["satisfaction"]["mean"] is None and report["feedback_rate"] is None
    assert report["first_response_s"]["mean"] is None


@pytest.mark.parametrize(
    ("address", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),  # another address of the same home
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_a_rate_limit_counts_an_ipv6_home_as_one_client(address: str, client: str) -> None:
    assert client_of(address) == client


def test_every_refusal_has_its_words_in_both_languages_and_keeps_the_apis_english() -> None:
    """The resident's pages and the console say a refusal by its code: a code without its
    text would show the key itself, and a text naming a value the refusal lacks would fail."""
    for lang in i18n.LANGS:
        table = i18n.table(lang)
        for code, english in REFUSALS.items():
            text = table[f"r.refused.{code}"]
            assert set(re.findall(r"\{(\w+)\}", text)) <= set(re.findall(r"\{(\w+)\}", english))
    assert {
        k.removeprefix("r.refused.") for k in i18n.table("en") if k.startswith("r.refused.")
    } == set(REFUSALS)
    with pytest.raises(RequestRefusedError) as refused:
        bounded("description", "x" * 30, 20)
    assert (str(refused.value), refused.value.code, refused.value.params) == (
        "description: is longer than 20 characters",
        "too_long",
        {"n": 20},
    )
    with pytest.raises(RequestRefusedError) as refused:
        normalize_phone("12")
    assert (refused.value.field, refused.value.code) == ("phone", "phone_digits")
    conflict = RequestConflictError("decided_already", id=3, status="rejected")
    assert str(conflict) == "request 3 is rejected already; only a new one is accepted or rejected"
    assert conflict.field is None


def test_a_phone_is_given_out_only_while_its_request_is_within_its_retention() -> None:
    year = timedelta(days=365)
    assert phone_kept(T0, T0 + year - timedelta(seconds=1), year)
    assert not phone_kept(T0, T0 + year, year)  # due to be pruned: not handed out any more
    assert not phone_kept(T0, T0 + year + timedelta(hours=1), year)
