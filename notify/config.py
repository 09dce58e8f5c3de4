"""The notifications file (SPEC section 6): receivers and routes, checked as a whole.

Like the rules file, nothing of a new file is used until all of it is checked: the shape by
pydantic, then what pydantic cannot know: every target names a receiver or one of the targets
resolved from the roster, every URL is one Apprise can use, every duration parses, no receiver
is named twice. The first problem refuses the whole file, naming the route (or receiver) and
the field, and the caller keeps the config it had.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from facility_dispatch.kernel.durations import DurationError, parse_duration

ROUTABLE_EVENTS: Final = (
    "alarm.fired",
    "work_order.opened",
    "work_order.assigned",
    "work_order.escalated",
    "work_order.breached",
    "request.received",
    "request.feedback_low",
    "part.low_stock",
    "plan.due",
    "handover.flagged",
    "round.missed",
    "roster.gap",
    "compliance.due_soon",
    "compliance.overdue",
)
"""The events a route may match, by their SPEC names."""

ROSTER_TARGETS: Final = ("assignees", "supervisor", "on_call", "contractor")
"""Targets resolved at send time from the roster rather than named in the file (``contractor``:
the receiver named by the maintenance contractor the order was dispatched to)."""

PRIORITIES: Final = ("P1", "P2", "P3", "P4")


Part = Literal["route", "receiver", "file"]

REASONS: Final = (
    "yaml",
    "not_mapping",
    "unreadable",
    "missing",
    "extra_forbidden",
    "too_short",
    "too_long",
    "wrong_type",
    "invalid",
    "named_twice",
    "roster_target",
    "bad_url",
    "unknown_receiver",
    "unknown_event",
    "bad_priority",
    "bad_duration",
    "repeat_too_short",
    "escalate_to_missing",
    "escalate_after_missing",
    "masked_secret",
)
"""Why a file is refused, as a code the console words in its own language (each has a
``js.notify_refused.<reason>`` string in both)."""


class NotifyConfigError(ValueError):
    """A notifications file refused. Beside the English sentence (``str()``, what the API's
    ``detail`` and the command line say, naming the route or receiver and the field) it keeps
    its parts: where (``part`` and ``name``), the ``field``, a ``reason`` code and the
    ``values`` the sentence names, so that the console can say it in Chinese or English with
    the route's and field's names as the file writes them."""

    def __init__(
        self,
        reason: str,
        said: str,
        *,
        part: Part = "file",
        name: str | None = None,
        field: str | None = None,
        values: dict[str, str] | None = None,
    ) -> None:
        self.reason = reason
        self.part: Part = part
        self.name = name
        self.field = field
        self.values = dict(values or {})
        if part == "route":
            where = f"route {name}"
        elif part == "receiver":  # a receiver without a name is told by its place, #2
            where = f"receiver {name}" if (name or "#").startswith("#") else f"receiver {name!r}"
        else:
            where = "notifications file"
        super().__init__(f"{where}, field {field}: {said}" if field else said)

    def parts(self) -> dict[str, Any]:
        """The refusal as data (the API's ``refusal``): part, name, field, reason, values."""
        return {
            "part": self.part,
            "name": self.name,
            "field": self.field,
            "reason": self.reason,
            "values": self.values,
        }


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ReceiverSpec(_Strict):
    name: str = Field(min_length=1, max_length=64)
    urls: tuple[str, ...] = Field(min_length=1, max_length=20)


class MatchSpec(_Strict):
    """Every field given must match; a field left out matches anything. ``"*"`` is anything."""

    event: tuple[str, ...] | None = None
    priority: tuple[str, ...] | None = None
    site: str | tuple[str, ...] = "*"
    kind: tuple[str, ...] | None = None
    severity: tuple[str, ...] | None = None


class RouteSpec(_Strict):
    name: str | None = Field(default=None, max_length=64)
    match: MatchSpec = MatchSpec()
    to: tuple[str, ...] = Field(min_length=1)
    continue_: bool = Field(default=False, alias="continue")
    repeat: str | float | None = None
    escalate_after: str | float | None = None
    escalate_to: tuple[str, ...] = ()
    repeat_limit: int = Field(default=48, ge=1, le=1000)


class NotifyFile(_Strict):
    receivers: tuple[ReceiverSpec, ...] = ()
    routes: tuple[RouteSpec, ...] = ()
    retry_after: str | float = "5s"
    retry_max: str | float = "10m"
    give_up_after: str | float = "1d"


@dataclass(frozen=True, slots=True)
class Route:
    """One checked route; durations parsed."""

    index: int
    name: str
    match: MatchSpec
    to: tuple[str, ...]
    continue_: bool
    repeat: timedelta | None
    escalate_after: timedelta | None
    escalate_to: tuple[str, ...]
    repeat_limit: int

    @property
    def watches(self) -> bool:
        """Whether a matched event is followed until acknowledged (repeats or escalation)."""
        return self.repeat is not None or self.escalate_after is not None


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """A checked notifications file, with the text it came from (GET gives it back)."""

    receivers: dict[str, tuple[str, ...]]
    routes: tuple[Route, ...]
    retry_after: timedelta
    retry_max: timedelta
    give_up_after: timedelta
    text: str = ""


EMPTY: Final = NotifyConfig({}, (), timedelta(seconds=5), timedelta(minutes=10), timedelta(days=1))
"""No receivers, no routes: nothing is sent (the service's default without FACILITY_NOTIFY)."""


def parse(text: str, usable_url: Callable[[str], bool]) -> NotifyConfig:
    """Check ``text`` as a whole; ``usable_url`` says whether Apprise can use a URL (the
    adapter's check, passed in so that this stays free of the network library)."""
    try:
        document = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise NotifyConfigError(
            "yaml",
            f"not valid YAML{at}: {getattr(error, 'problem', error)}",
            values={
                "line": str(mark.line + 1) if mark else "?",
                "column": str(mark.column + 1) if mark else "?",
            },
        ) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise NotifyConfigError(
            "not_mapping", "a notifications file is a mapping with receivers: and routes:"
        )
    try:
        spec = NotifyFile.model_validate(document)
    except ValidationError as error:
        raise _explain(error, document) from None
    receivers: dict[str, tuple[str, ...]] = {}
    for receiver in spec.receivers:
        name = receiver.name
        if name in receivers:
            raise NotifyConfigError(
                "named_twice", "given twice", part="receiver", name=name, field="name"
            )
        if name in ROSTER_TARGETS:
            raise NotifyConfigError(
                "roster_target",
                f"{name!r} is a target resolved from the roster",
                part="receiver",
                name=name,
                field="name",
                values={"target": name},
            )
        for position, url in enumerate(receiver.urls):
            if not usable_url(url):
                raise NotifyConfigError(
                    "bad_url",
                    f"Apprise cannot use {_scheme(url)} "
                    "(see its URL forms: mailto://, json://, wecombot://, dingtalk://, ...)",
                    part="receiver",
                    name=name,
                    field=f"urls[{position}]",
                    values={"scheme": _scheme(url)},
                )
        receivers[receiver.name] = receiver.urls
    routes = tuple(_route(i, r, receivers) for i, r in enumerate(spec.routes))
    return NotifyConfig(
        receivers,
        routes,
        _duration(spec.retry_after, None, "retry_after"),
        _duration(spec.retry_max, None, "retry_max"),
        _duration(spec.give_up_after, None, "give_up_after"),
        text,
    )


def _route(index: int, spec: RouteSpec, receivers: dict[str, tuple[str, ...]]) -> Route:
    name = spec.name or f"#{index + 1}"
    for field, targets in (("to", spec.to), ("escalate_to", spec.escalate_to)):
        for target in targets:
            if target not in receivers and target not in ROSTER_TARGETS:
                known = ", ".join(sorted(receivers) + list(ROSTER_TARGETS))
                raise NotifyConfigError(
                    "unknown_receiver",
                    f"unknown receiver {target!r} (known: {known})",
                    part="route",
                    name=name,
                    field=field,
                    values={"target": target, "known": known},
                )
    for event in spec.match.event or ():
        if event not in ROUTABLE_EVENTS:
            known = ", ".join(ROUTABLE_EVENTS)
            raise NotifyConfigError(
                "unknown_event",
                f"unknown event {event!r} (one of {known})",
                part="route",
                name=name,
                field="match.event",
                values={"event": event, "known": known},
            )
    for priority in spec.match.priority or ():
        if priority not in PRIORITIES:
            raise NotifyConfigError(
                "bad_priority",
                f"{priority!r} is not P1..P4",
                part="route",
                name=name,
                field="match.priority",
                values={"priority": priority},
            )
    repeat = _duration(spec.repeat, name, "repeat") if spec.repeat is not None else None
    escalate_after = (
        _duration(spec.escalate_after, name, "escalate_after")
        if spec.escalate_after is not None
        else None
    )
    if repeat is not None and repeat < timedelta(seconds=1):
        raise NotifyConfigError(
            "repeat_too_short", "at least 1s", part="route", name=name, field="repeat"
        )
    if escalate_after is not None and not spec.escalate_to:
        raise NotifyConfigError(
            "escalate_to_missing",
            "escalate_after needs someone to tell",
            part="route",
            name=name,
            field="escalate_to",
        )
    if spec.escalate_to and escalate_after is None:
        raise NotifyConfigError(
            "escalate_after_missing",
            "escalate_to needs a time",
            part="route",
            name=name,
            field="escalate_after",
        )
    return Route(
        index,
        name,
        spec.match,
        spec.to,
        spec.continue_,
        repeat,
        escalate_after,
        spec.escalate_to,
        spec.repeat_limit,
    )


def _duration(value: str | float, route: str | None, field: str) -> timedelta:
    """A duration of ``route`` (None: of the file as a whole)."""
    try:
        return parse_duration(value)
    except DurationError as error:
        raise NotifyConfigError(
            "bad_duration",
            str(error),
            part="route" if route is not None else "file",
            name=route,
            field=field,
            values={"value": str(value)},
        ) from None


def _scheme(url: str) -> str:
    """What to name in a refusal without echoing a secret: the scheme only."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://..." if sep else "this URL (no scheme://)"


def _explain(error: ValidationError, document: dict[str, Any]) -> NotifyConfigError:
    """pydantic's first error, said as route/receiver and field, with a reason code."""
    first = error.errors()[0]
    location = list(first["loc"])
    part: Part = "file"
    name: str | None = None
    if (
        len(location) >= 2
        and location[0] in ("routes", "receivers")
        and isinstance(location[1], int)
    ):
        section, index = location[0], location[1]
        entries = document.get(section) or []
        entry = entries[index] if index < len(entries) else {}
        given = entry.get("name") if isinstance(entry, dict) else None
        part = "route" if section == "routes" else "receiver"
        name = str(given) if given else f"#{index + 1}"
        location = location[2:]
    field = ".".join(str(p) for p in location) or "(whole entry)"
    kind = str(first["type"])
    reason = (
        kind
        if kind in ("missing", "extra_forbidden", "too_short", "too_long")
        else "wrong_type"
        if kind.endswith(("_type", "_parsing"))
        else "invalid"
    )
    return NotifyConfigError(
        reason, str(first["msg"]), part=part, name=name, field=field, values={"type": kind}
    )


# -- secrets in what is shown --------------------------------------------------------------

MASK: Final = "*****"
"""What stands for a secret in the file as the API and the console show it."""

_SECRET_WORDS: Final = ("pass", "token", "key", "secret", "sig", "auth")
_TOKEN: Final = re.compile(r"[A-Za-z0-9_\-]{16,}")
"""A long query value that looks like a key (an address, ``a@b.com``, does not)."""


def secrets_in(url: str) -> set[str]:
    """The parts of a receiver's URL that are secrets: its password, long path segments and
    long or secret-named query values (a webhook's key), a host that is no host name
    (``wecombot://<key>``)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return set()
    found = {password or ""}
    found.update(p for p in parts.path.split("/") if _secret_segment(p))
    found.update(value for name, value in _query(parts.query) if _secret_value(name, value))
    host = parts.netloc.rpartition("@")[2]
    if _secret_host(host):
        found.add(host)
    return {s for s in found | {unquote(s) for s in found} if len(s) >= 4}


def _secret_segment(part: str) -> bool:
    return len(part) >= 16


def _secret_value(name: str, value: str) -> bool:
    return bool(value) and (
        _TOKEN.fullmatch(value) is not None or any(w in name.lower() for w in _SECRET_WORDS)
    )


def _secret_host(host: str) -> bool:
    return len(host) >= 16 and "." not in host and ":" not in host


def _query(query: str) -> list[tuple[str, str]]:
    return [(pair.partition("=")[0], pair.partition("=")[2]) for pair in query.split("&")]


def _hide(secret: str) -> str:
    """A long key keeps its ends, so that two keys of one webhook can be told apart."""
    return f"{secret[:2]}{MASK}{secret[-2:]}" if len(secret) >= 16 else MASK


def masked(url: str) -> str:
    """``url`` with each secret as :data:`MASK`, piece by piece (a short password that is also
    part of the host name leaves the host alone)."""
    scheme, sep, rest = url.partition("://")
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return f"{scheme}{sep}{MASK}"
    if not sep:
        return url
    rest, hash_, fragment = rest.partition("#")
    rest, mark, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    user, at, host = netloc.rpartition("@")
    if password:
        name, _, _ = user.partition(":")
        user = f"{name}:{MASK}"
    if _secret_host(host):
        host = _hide(host)
    path = "/".join(_hide(p) if _secret_segment(p) else p for p in path.split("/"))
    if query:
        query = "&".join(
            f"{name}={_hide(value)}" if _secret_value(name, value) else f"{name}{eq}{value}"
            for name, eq, value in (pair.partition("=") for pair in query.split("&"))
        )
    return f"{scheme}{sep}{user}{at}{host}{slash}{path}{mark}{query}{hash_}{fragment}"


def masked_text(config: NotifyConfig) -> str:
    """The file as shown: every receiver's URL masked; a long secret the file holds in
    another form (escaped, split) is masked wherever it appears."""
    text = config.text
    urls = [url for urls in config.receivers.values() for url in urls]
    for url in sorted(set(urls), key=len, reverse=True):
        text = text.replace(url, masked(url))
    for secret in sorted({s for url in urls for s in secrets_in(url)}, key=len, reverse=True):
        if len(secret) >= 8:
            text = text.replace(secret, MASK)
    return text


def unmasked_text(text: str, stored: NotifyConfig) -> str:
    """A file sent back with masked URLs: each masked URL of the file in force stands for the
    stored one (in order, when two mask alike); anything else is left for :func:`parse`."""
    by_mask: dict[str, list[str]] = {}
    for urls in stored.receivers.values():
        for url in urls:
            if masked(url) != url:
                by_mask.setdefault(masked(url), []).append(url)
    for mask, alike in sorted(by_mask.items(), key=lambda item: len(item[0]), reverse=True):
        text = re.sub(re.escape(mask), _in_turn(alike), text)
    return text


def _in_turn(urls: list[str]) -> Callable[[re.Match[str]], str]:
    """The stored URLs one after another (the last again if the file has more)."""
    taken = iter(urls)
    return lambda _: next(taken, urls[-1])


def refuse_masked(config: NotifyConfig) -> None:
    """A URL still holding :data:`MASK` is a secret nobody wrote back: refused, named."""
    for name, urls in config.receivers.items():
        for position, url in enumerate(urls):
            if MASK in url:
                raise NotifyConfigError(
                    "masked_secret",
                    f"a hidden secret ({MASK}) that matches no URL in force: write the secret out",
                    part="receiver",
                    name=name,
                    field=f"urls[{position}]",
                    values={"mask": MASK},
                )
