"""A notifications file is checked as a whole: the refusal names the route (or receiver) and
the field, with Apprise's own judgement of each URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click import ClickException
from click.testing import CliRunner

from facility_dispatch.api.dashboard import i18n
from facility_dispatch.cli import _build_or_refuse, main
from facility_dispatch.notify.apprise_sender import AppriseSender
from facility_dispatch.notify.config import (
    REASONS,
    ROUTABLE_EVENTS,
    NotifyConfigError,
    masked,
    masked_text,
    parse,
    unmasked_text,
)
from tests.builders import make_settings

GOOD = """
receivers:
  - name: duty-desk
    urls: ["mailto://duty:secret@example.com", "json://127.0.0.1:9000/hook"]
  - name: lift-contractor
    urls: ["wecombot://KEY"]
routes:
  - name: urgent
    match: {priority: [P1], site: "*"}
    to: [assignees, duty-desk]
    repeat: 5m
    escalate_after: 10m
    escalate_to: [supervisor]
  - match: {event: [work_order.assigned]}
    to: [assignees]
"""


def check(text: str) -> None:
    parse(text, AppriseSender().usable)


def test_the_spec_example_is_taken() -> None:
    config = parse(GOOD, AppriseSender().usable)
    assert list(config.receivers) == ["duty-desk", "lift-contractor"]
    assert [r.name for r in config.routes] == ["urgent", "#2"]
    assert config.routes[0].repeat is not None and config.routes[0].repeat.total_seconds() == 300


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            ("to: [assignees, duty-desk]", "to: [assignees, duty-dsk]"),
            "route urgent, field to: unknown receiver 'duty-dsk'",
        ),
        (
            ("escalate_to: [supervisor]", "escalate_to: [boss]"),
            "route urgent, field escalate_to: unknown receiver 'boss'",
        ),
        (("wecombot://KEY", "wecom-bot:/KEY"), "receiver 'lift-contractor', field urls[0]"),
        (
            ("json://127.0.0.1:9000/hook", "carrier-pigeon://loft"),
            "receiver 'duty-desk', field urls[1]",
        ),
        (("repeat: 5m", "repeat: 5 mins"), "route urgent, field repeat"),
        (("escalate_after: 10m", "escalate_after: soon"), "route urgent, field escalate_after"),
        (
            ("event: [work_order.assigned]", "event: [order.assigned]"),
            "route #2, field match.event: unknown event 'order.assigned'",
        ),
        (("to: [assignees]\n", "to: []\n"), "route #2, field to"),
        (
            ("    repeat: 5m", "    repeat: 5m\n    repeat_every: 5m"),
            "route urgent, field repeat_every",
        ),
        (("  - name: lift-contractor", "  - name: duty-desk"), "receiver 'duty-desk', field name"),
        (("name: lift-contractor", "name: on_call"), "receiver 'on_call', field name"),
    ],
)
def test_a_bad_file_is_refused_naming_the_route_and_field(
    change: tuple[str, str], named: str
) -> None:
    assert change[0] in GOOD
    with pytest.raises(NotifyConfigError) as refused:
        check(GOOD.replace(*change))
    assert named in str(refused.value)


def test_a_secret_in_a_refused_url_is_not_echoed() -> None:
    with pytest.raises(NotifyConfigError) as refused:
        check(GOOD.replace("wecombot://KEY", "wecombot:/TOP-SECRET"))
    assert "TOP-SECRET" not in str(refused.value)
    assert "TOP-SECRET" not in str(refused.value.parts()), "nor in the parts the console words"


@pytest.mark.parametrize("text", ["routes: [", "- a list", "receivers: 5"])
def test_not_a_notifications_file(text: str) -> None:
    with pytest.raises(NotifyConfigError):
        check(text)


def test_an_empty_file_sends_nothing() -> None:
    assert parse("", AppriseSender().usable).routes == ()


def test_the_command_line_checks_a_file_and_run_refuses_a_bad_one(tmp_path: Path) -> None:
    bad = tmp_path / "notify.yaml"
    bad.write_text(GOOD.replace("escalate_after: 10m", "escalate_after: 10 mins"), "utf-8")
    refused = CliRunner().invoke(main, ["notify", "check", str(bad)])
    assert refused.exit_code == 1
    assert "route urgent, field escalate_after" in refused.output
    (tmp_path / "good.yaml").write_text(GOOD, "utf-8")
    taken = CliRunner().invoke(main, ["notify", "check", str(tmp_path / "good.yaml")])
    assert taken.exit_code == 0, taken.output
    assert "receiver duty-desk: mailto://duty:****@example.com" in taken.output
    assert "secret" not in taken.output
    settings = make_settings(tmp_path, "mqtt://127.0.0.1:9", notify=bad)
    with pytest.raises(ClickException, match="route urgent, field escalate_after"):
        _build_or_refuse(settings)


@pytest.mark.parametrize(
    ("url", "shown", "hidden"),
    [
        ("mailto://duty:secret@example.com", "mailto://duty:****@example.com", "secret"),
        ("json://127.0.0.1:9000/hook", "json://127.0.0.1:9000/hook", None),
        (
            "json://10.0.0.5/n/inbox/8f3a9c2e5b7d4a1f6e0c/t3",
            "json://10.0.0.5/n/inbox/8f...0c/t3",
            "8f3a9c2e5b7d4a1f6e0c",
        ),
        ("wecombot://0123456789abcdef0123", "wecombot://", "456789abcdef"),
    ],
)
def test_urls_are_shown_with_their_secrets_hidden(url: str, shown: str, hidden: str | None) -> None:
    redacted = AppriseSender().redact(url)
    assert redacted.startswith(shown)
    assert hidden is None or hidden not in redacted


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "mailtos://ops:mail@mail.example.com/?to=a@example.com",
            "mailtos://ops:*****@mail.example.com/?to=a@example.com",
        ),
        (
            "json://hooks.example.com/desk/693a91f67b2c4d9ea1c30f5e8d7b6a42?token=abc123",
            "json://hooks.example.com/desk/69*****42?token=*****",
        ),
        ("wecombot://693a91f67b2c4d9ea1c30f5e8d7b6a42", "wecombot://69*****42"),
        (
            "mailto://localhost:1025/?from=dispatch@example.com&mode=insecure",
            "mailto://localhost:1025/?from=dispatch@example.com&mode=insecure",
        ),
    ],
)
def test_a_url_is_shown_with_its_secrets_masked_and_read_back_whole(url: str, shown: str) -> None:
    text = f'receivers:\n  - name: desk\n    urls: ["{url}"]\n'
    config = parse(text, lambda _: True)
    assert masked(url) == shown
    assert masked_text(config) == text.replace(url, shown)
    assert unmasked_text(masked_text(config), config) == text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_routable_event_is_worded_in_both_languages(lang: i18n.Lang) -> None:
    """The console's list names each event a route may match (none shows its raw key), and
    the Chinese says it in Chinese."""
    table = i18n.table(lang)
    worded = {event: table.get(f"notify.event.{event}") for event in ROUTABLE_EVENTS}
    assert all(worded.values()), [e for e, said in worded.items() if not said]
    if lang == "zh":
        assert all(re.search(r"[\u4e00-\u9fff]", said or "") for said in worded.values())


@pytest.mark.parametrize(
    ("change", "parts"),
    [
        (
            ("to: [assignees, duty-desk]", "to: [assignees, duty-dsk]"),
            ("route", "urgent", "to", "unknown_receiver", {"target": "duty-dsk"}),
        ),
        (
            ("wecombot://KEY", "wecom-bot:/KEY"),
            ("receiver", "lift-contractor", "urls[0]", "bad_url", {}),
        ),
        (
            ("repeat: 5m", "repeat: 5 mins"),
            ("route", "urgent", "repeat", "bad_duration", {"value": "5 mins"}),
        ),
        (
            ("event: [work_order.assigned]", "event: [order.assigned]"),
            ("route", "#2", "match.event", "unknown_event", {"event": "order.assigned"}),
        ),
        (("to: [assignees]\n", "to: []\n"), ("route", "#2", "to", "too_short", {})),
        (
            ("    repeat: 5m", "    repeat: 5m\n    repeat_every: 5m"),
            ("route", "urgent", "repeat_every", "extra_forbidden", {}),
        ),
        (
            ("  - name: lift-contractor", "  - name: duty-desk"),
            ("receiver", "duty-desk", "name", "named_twice", {}),
        ),
        (
            ("routes:", 'retry_after: "soon"\nroutes:'),
            ("file", None, "retry_after", "bad_duration", {"value": "soon"}),
        ),
        (("routes:", "routes: ["), ("file", None, None, "yaml", {})),
    ],
)
def test_a_refusal_keeps_its_parts_for_the_console_to_word(
    change: tuple[str, str], parts: tuple[str, str | None, str | None, str, dict[str, str]]
) -> None:
    """Where, which field, why as a code and the values named: the console says it in zh or en
    with the route's and field's names as written; ``str()`` stays the English sentence."""
    with pytest.raises(NotifyConfigError) as refused:
        check(GOOD.replace(*change))
    error = refused.value
    part, name, field, reason, values = parts
    assert (error.part, error.name, error.field, error.reason) == (part, name, field, reason)
    assert values.items() <= error.values.items()
    assert error.parts()["reason"] == reason
    assert error.reason in REASONS
    if field is not None:
        assert f"field {field}:" in str(error)
    if part == "route":
        assert str(error).startswith(f"route {name}, ")


def test_every_reason_is_worded_in_both_languages_with_the_same_values() -> None:
    zh, en = i18n.table("zh"), i18n.table("en")
    for key in [f"js.notify_refused.{r}" for r in REASONS] + [
        f"js.notify_refused_at.{p}" for p in ("route", "receiver", "file")
    ]:
        assert key in zh and key in en, key
        assert re.search(r"[\u4e00-\u9fff]", zh[key]), key
    assert (
        "{name}" in zh["js.notify_refused_at.route"]
        and "{field}" in zh["js.notify_refused_at.route"]
    )
