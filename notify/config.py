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
from typing import Any, Final
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


class NotifyConfigError(ValueError):
    """A notifications file refused: the message names the route or receiver and the field."""


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
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise NotifyConfigError(
            f"not valid YAML{where}: {getattr(error, 'problem', error)}"
        ) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise NotifyConfigError("a notifications file is a mapping with receivers: and routes:")
    try:
        spec = NotifyFile.model_validate(document)
    except ValidationError as error:
        raise NotifyConfigError(_explain(error, document)) from None
    receivers: dict[str, tuple[str, ...]] = {}
    for receiver in spec.receivers:
        where = f"receiver {receiver.name!r}"
        if receiver.name in receivers:
            raise NotifyConfigError(f"{where}, field name: given twice")
        if receiver.name in ROSTER_TARGETS:
            raise NotifyConfigError(
                f"{where}, field name: {receiver.name!r} is a target resolved from the roster"
            )
        for position, url in enumerate(receiver.urls):
            if not usable_url(url):
                raise NotifyConfigError(
                    f"{where}, field urls[{position}]: Apprise cannot use {_scheme(url)} "
                    "(see its URL forms: mailto://, json://, wecombot://, dingtalk://, ...)"
                )
        receivers[receiver.name] = receiver.urls
    routes = tuple(_route(i, r, receivers) for i, r in enumerate(spec.routes))
    return NotifyConfig(
        receivers,
        routes,
        _duration(spec.retry_after, "notifications file", "retry_after"),
        _duration(spec.retry_max, "notifications file", "retry_max"),
        _duration(spec.give_up_after, "notifications file", "give_up_after"),
        text,
    )


def _route(index: int, spec: RouteSpec, receivers: dict[str, tuple[str, ...]]) -> Route:
    name = spec.name or f"#{index + 1}"
    where = f"route {name}"
    for field, targets in (("to", spec.to), ("escalate_to", spec.escalate_to)):
        for target in targets:
            if target not in receivers and target not in ROSTER_TARGETS:
                known = sorted(receivers) + list(ROSTER_TARGETS)
                raise NotifyConfigError(
                    f"{where}, field {field}: unknown receiver {target!r} (known: "
                    f"{', '.join(known)})"
                )
    for event in spec.match.event or ():
        if event not in ROUTABLE_EVENTS:
            raise NotifyConfigError(
                f"{where}, field match.event: unknown event {event!r} (one of "
                f"{', '.join(ROUTABLE_EVENTS)})"
            )
    for priority in spec.match.priority or ():
        if priority not in PRIORITIES:
            raise NotifyConfigError(f"{where}, field match.priority: {priority!r} is not P1..P4")
    repeat = _duration(spec.repeat, where, "repeat") if spec.repeat is not None else None
    escalate_after = (
        _duration(spec.escalate_after, where, "escalate_after")
        if spec.escalate_after is not None
        else None
    )
    if repeat is not None and repeat < timedelta(seconds=1):
        raise NotifyConfigError(f"{where}, field repeat: at least 1s")
    if escalate_after is not None and not spec.escalate_to:
        raise NotifyConfigError(f"{where}, field escalate_to: escalate_after needs someone to tell")
    if spec.escalate_to and escalate_after is None:
        raise NotifyConfigError(f"{where}, field escalate_after: escalate_to needs a time")
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


def _duration(value: str | float, where: str, field: str) -> timedelta:
    try:
        return parse_duration(value)
    except DurationError as error:
        raise NotifyConfigError(f"{where}, field {field}: {error}") from None


def _scheme(url: str) -> str:
    """What to name in a refusal without echoing a secret: the scheme only."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://..." if sep else "this URL (no scheme://)"


def _explain(error: ValidationError, document: dict[str, Any]) -> str:
    """pydantic's first error, said as route/receiver and field."""
    first = error.errors()[0]
    location = list(first["loc"])
    where = "notifications file"
    if (
        len(location) >= 2
        and location[0] in ("routes", "receivers")
        and isinstance(location[1], int)
    ):
        section, index = location[0], location[1]
        entries = document.get(section) or []
        entry = entries[index] if index < len(entries) else {}
        name = entry.get("name") if isinstance(entry, dict) else None
        if section == "routes":
            where = f"route {name or f'#{index + 1}'}"
        else:
            where = f"receiver {name!r}" if name else f"receiver #{index + 1}"
        location = location[2:]
    field = ".".join(str(part) for part in location) or "(whole entry)"
    return f"{where}, field {field}: {first['msg']}"


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
                    f"receiver {name!r}, field urls[{position}]: a hidden secret ({MASK}) that "
                    "matches no URL in force: write the secret out"
                )
