"""A resident's request as the dispatcher and the resident see it: the words of SPEC section 5,
and the small pure rules about it (status, phone masking, names shown, follow-up calls)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from facility_dispatch.kernel.photos import PHOTO_REFUSALS
from facility_dispatch.maintenance.errors import ConflictError, InvalidRequestError

Category = Literal["repair", "complaint", "suggestion", "praise"]
CATEGORIES: Final = ("repair", "complaint", "suggestion", "praise")
Channel = Literal["qr", "phone", "walk_in", "wechat"]
CHANNELS: Final = ("qr", "phone", "walk_in", "wechat")
STATUSES: Final = ("new", "accepted", "rejected", "in_progress", "done", "closed")
DECISIONS: Final = ("new", "accepted", "rejected")
"""What the dispatcher decided; the rest of a request's status is its work order's."""

FOLLOW_UP_AFTER: Final = timedelta(days=3)
"""SPEC section 5: resolved and no feedback within 3 days: the dispatcher calls (回访)."""
LOW_RATING: Final = 2
"""A rating of 1 or 2 opens a complaint review for the site's supervisor."""
REPEAT_WITHIN: Final = timedelta(days=30)

MAX_DESCRIPTION: Final = 2000
MAX_COMMENT: Final = 1000
MAX_REASON: Final = 500
MAX_BUILDING: Final = 40
MAX_UNIT: Final = 40
MAX_PHOTOS: Final = 3

_ORDER_STATUS: Final = {
    "open": "accepted",
    "assigned": "accepted",
    "acknowledged": "accepted",
    "in_progress": "in_progress",
    "on_hold": "in_progress",
    "resolved": "done",
    "closed": "closed",
    "cancelled": "closed",
}
_COMPOUND_SURNAMES: Final = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒")
_PHONE: Final = re.compile(r"^\+?[0-9][0-9 \-]{5,22}$")


REFUSALS: Final[dict[str, str]] = {
    # a field of the form (422): the message is "<field>: <reason>"
    "required": "is required",
    "too_short": "is too short",
    "too_long": "is longer than {n} characters",
    "control_characters": "contains control characters",
    "phone_digits": "a phone number has 7 to 15 digits",
    "unknown_category": "is one of {choices}",
    "unknown_channel": "is one of {choices}",
    "unknown_building": "is not a building of this estate",
    "too_many_photos": "at most {n} photos",
    "rating_range": "is a whole number from 1 to 5",
    **PHOTO_REFUSALS,
    # the request's state (409)
    "decided_already": "request {id} is {status} already; only a new one is accepted or rejected",
    "answered_meanwhile": "request {id} was answered meanwhile",
    "work_not_done": "request {id}'s work is not done: nothing to follow up",
    "review_closed": "complaint review {id} is closed already",
    "rating_too_early": "a rating is taken once the work is resolved",
    "rated_already": "this request has its rating already: one rating per request",
    "order_elsewhere": "{order} is at {order_site}, the request at {site}",
    "order_finished": "{order} is {status}: join an open order",
}
"""Every reason a request, its rating or the dispatcher's answer is refused, by code, in the
API's English. The code travels with the refusal (``code`` and ``params`` beside the API's
``detail``) so that the resident's pages and the console say it in their own language: each
code has its ``r.refused.<code>`` text in both locale files (a test checks it)."""


class RequestRefusedError(InvalidRequestError):
    """A request (or its feedback) that cannot be taken as given; the message names the field
    and says why in English, ``code`` (a key of :data:`REFUSALS`) says it for translation."""

    def __init__(self, field: str, code: str, **params: int | str) -> None:
        super().__init__(f"{field}: {REFUSALS[code].format(**params)}")
        self.field: str | None = field
        self.code = code
        self.params = params


class RequestConflictError(ConflictError):
    """A dispatcher's answer or a rating the request's state does not allow now (HTTP 409);
    ``code`` as for :class:`RequestRefusedError`, with no field."""

    def __init__(self, code: str, **params: int | str) -> None:
        super().__init__(REFUSALS[code].format(**params))
        self.field: str | None = None
        self.code = code
        self.params = params


def shown_status(decision: str, order_status: str | None) -> str:
    """The request's status: the dispatcher's decision until an order carries it."""
    if decision != "accepted" or order_status is None:
        return decision
    return _ORDER_STATUS.get(order_status, "accepted")


def order_statuses(status: str) -> tuple[str, tuple[str, ...] | None]:
    """What a request status asks of (the decision, the order's statuses) when filtering."""
    if status in ("new", "rejected"):
        return status, None
    return "accepted", tuple(s for s, shown in _ORDER_STATUS.items() if shown == status)


def normalize_phone(raw: str) -> str:
    """Digits only (a leading + kept), or :class:`RequestRefusedError`: the rate limit and the
    repeat count key on it, so ``138 0000 5678``, ``138-0000-5678``, ``+86 138 0000 5678`` and
    ``0086 13800005678`` are one phone (a prefix must not multiply the per-phone limit)."""
    text = raw.strip()
    if not _PHONE.match(text):
        raise RequestRefusedError("phone", "phone_digits")
    digits = re.sub(r"[^0-9]", "", text)
    international = text.startswith("+")
    if not international and digits.startswith("00"):  # 0086...: the same as +86...
        digits, international = digits[2:], True
    if international and digits.startswith("86") and len(digits) > 2:
        digits, international = digits[2:], False  # a Chinese number, written as at home
    if not 7 <= len(digits) <= 15:
        raise RequestRefusedError("phone", "phone_digits")
    return ("+" if international else "") + digits


def mask_phone(phone: str) -> str:
    """``138****5678``: enough to recognise on a call-back list, not to call."""
    digits = phone.lstrip("+")
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def phone_kept(created_at: datetime, now: datetime, retention: timedelta) -> bool:
    """Whether a request's phone may still be read: not once the request is past its retention
    (the hourly prune may not have deleted it yet; what is due to be gone is not handed out)."""
    return now - created_at < retention


def given_name(name: str) -> str:
    """The technician's given name only (SPEC section 5): 王伟 -> 伟, Li Na -> Na, 陈刚 Chen Gang
    -> Gang (the English given name; a Chinese page says 陈师傅: :func:`form_of_address_zh`)."""
    name = name.strip()
    if " " in name:
        return name.split()[-1]
    if name.isascii() or len(name) < 2:
        return name
    for surname in _COMPOUND_SURNAMES:
        if name.startswith(surname) and len(name) > len(surname):
            return name[len(surname) :]
    return name[1:]


def form_of_address_zh(name: str) -> str:
    """How a Chinese page names the technician to a resident: the surname and 师傅 (陈刚 Chen
    Gang -> 陈师傅, 欧阳娜娜 -> 欧阳师傅), as a resident calls a tradesman; a surname says no
    more than a given name does (SPEC section 5). A name with no Chinese part (Li Na, Bob) has
    no characters to take a surname from, and is named by its given name as on English pages."""
    chinese = next((part for part in name.split() if not part.isascii()), None)
    if chinese is None:
        return given_name(name)
    surname = next((s for s in _COMPOUND_SURNAMES if chinese.startswith(s)), chinese[0])
    return f"{surname}师傅"


def follow_up_due(
    resolved_at: datetime | None,
    feedback_at: datetime | None,
    followed_up_at: datetime | None,
    now: datetime,
) -> bool:
    """Resolved three days ago or more, no rating, nobody has called yet."""
    return (
        resolved_at is not None
        and feedback_at is None
        and followed_up_at is None
        and now - resolved_at >= FOLLOW_UP_AFTER
    )


def bounded(field: str, value: str, longest: int, shortest: int = 0) -> str:
    """Trimmed text within its length, or :class:`RequestRefusedError` naming the field."""
    text = value.strip()
    if len(text) < shortest:
        raise RequestRefusedError(field, "required" if shortest == 1 else "too_short")
    if len(text) > longest:
        raise RequestRefusedError(field, "too_long", n=longest)
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise RequestRefusedError(field, "control_characters")
    return text


@dataclass(frozen=True, slots=True)
class Feedback:
    rating: int
    comment: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Request:
    """A resident's request with its order's state; ``phone`` in full (mask it to show)."""

    id: int
    site: str
    building: str
    unit: str
    category: str
    description: str
    channel: str
    phone: str
    decision: str
    status: str
    reject_reason: str | None
    work_order_id: int | None
    work_order_number: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    resolved_at: datetime | None
    photos: int
    feedback: Feedback | None
    followed_up_at: datetime | None
    follow_up_note: str | None


@dataclass(frozen=True, slots=True)
class PhoneReveal:
    """One time a request's phone was shown in full: to whom, in which role, when. Kept as long
    as the request (not as long as the event log), so the record of who saw a number lasts as
    long as the number does."""

    at: datetime
    actor: str
    role: str


@dataclass(frozen=True, slots=True)
class Tracking:
    """What the resident's tracking page shows: nothing more (no phone, no full names)."""

    request: Request
    technician: str | None
    """The technician's given name (the API's and the English page's)."""
    technician_zh: str | None
    """How a Chinese page names them: 陈师傅."""
    done: str | None
    expected_by: datetime | None
    may_rate: bool


@dataclass(frozen=True, slots=True)
class Review:
    """A complaint review (质量回访复核) for the site's supervisor, opened by a low rating."""

    id: int
    request_id: int
    site: str
    supervisor: str | None
    rating: int
    comment: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    outcome: str | None
