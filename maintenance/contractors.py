"""Maintenance contractors (维保单位) and the safety manager's sign-off, as pure logic.

A lift is serviced by a licensed maintenance company under contract (TSG T5002): the contract
names the sites and kinds of equipment it covers, its dates, a 24-hour duty phone and the
response it promises (an entrapment: 30 minutes in a city, DOMAIN). Lift work at a covered site
is dispatched to that contractor: the order records it, its response deadline is the contract's
when that is stricter than the service level's, and its notify receiver is told.

Afterwards the property's safety manager (安全管理员) signs the record off (DOMAIN: records are
kept four years and not altered once stored): the signer, the time, the technicians' licence
numbers, the checklist results, the notes and parts of the work, under a SHA-256 digest of the
canonical record. Only then may the order be closed; after it nothing of the record changes.

Everything here takes plain data (and the day or time it is judged at) and returns decisions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from facility_dispatch.ingest.topics import KINDS
from facility_dispatch.maintenance.errors import InvalidRequestError

SIGN_OFF_SKILLS: Final = frozenset({"elevator", "electrical"})
SIGN_OFF_KINDS: Final = frozenset({"elevator", "power"})
"""Lift and electrical work is closed only after the safety manager's sign-off (special
equipment and electrical safety: the records are legal records)."""
LIFT: Final = "elevator"
"""The kind (and skill) of work dispatched to a contractor."""
SAFETY_MANAGER: Final = "safety manager"
"""The duty named in refusals: a token carries it (``--safety-manager``), not a role rank."""

_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,30}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ContractorError(InvalidRequestError):
    """A contractor's fields refused: the message names the field."""


@dataclass(frozen=True, slots=True)
class ContractTechnician:
    """A technician working for a contractor, with the licence number the contract lists."""

    technician_id: int
    licence: str


@dataclass(frozen=True, slots=True)
class Contractor:
    id: int
    name: str
    phone_24h: str
    contract_start: date
    contract_end: date
    sites: tuple[str, ...]
    kinds: tuple[str, ...]
    response_minutes: int | None
    receiver: str | None
    active: bool
    technicians: tuple[ContractTechnician, ...] = ()

    def covers(self, site: str, kind: str) -> bool:
        """Its contract covers this site (an empty list: all the company's sites) and kind."""
        return (not self.sites or site in self.sites) and kind in self.kinds

    def refusal(self, day: date) -> str | None:
        """Why work cannot be dispatched to it on ``day`` (the site's local date), or None."""
        found = self.refusal_code(day)
        if found is None:
            return None
        code, on = found
        if code == "inactive":
            return f"contractor {self.name} is inactive"
        if code == "not_started":
            return f"contractor {self.name}'s contract starts on {on}"
        return f"contractor {self.name}'s contract ended on {on}"

    def refusal_code(self, day: date) -> tuple[str, str] | None:
        """:meth:`refusal` as data: ``inactive``, ``not_started`` or ``ended``, and the date
        the contract starts or ended on (ISO; empty for an inactive one)."""
        if not self.active:
            return ("inactive", "")
        if day < self.contract_start:
            return ("not_started", self.contract_start.isoformat())
        if day > self.contract_end:
            return ("ended", self.contract_end.isoformat())
        return None


def validate(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A contractor's fields, checked together (what pydantic cannot see: the dates' order,
    kinds from the topic tree, technicians named once); the first problem names the field."""
    name = str(fields.get("name", "")).strip()
    if not 1 <= len(name) <= 200:
        raise ContractorError("name: 1 to 200 characters")
    phone = str(fields.get("phone_24h", "")).strip()
    if not _PHONE.match(phone):
        raise ContractorError("phone_24h: the 24-hour duty phone, digits, spaces, +, -, ( )")
    start, end = fields.get("contract_start"), fields.get("contract_end")
    if not isinstance(start, date) or not isinstance(end, date):
        raise ContractorError("contract_start and contract_end: dates, YYYY-MM-DD")
    if end < start:
        raise ContractorError("contract_end: on or after contract_start")
    kinds = tuple(dict.fromkeys(fields.get("kinds") or ()))
    if not kinds:
        raise ContractorError(f"kinds: at least one of {', '.join(KINDS)}")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ContractorError(f"kinds: {unknown[0]!r} is not one of {', '.join(KINDS)}")
    sites = tuple(dict.fromkeys(str(s) for s in fields.get("sites") or ()))
    minutes = fields.get("response_minutes")
    if minutes is not None and not (isinstance(minutes, int) and 1 <= minutes <= 10080):
        raise ContractorError("response_minutes: 1 to 10080 (a week), or none")
    receiver = fields.get("receiver") or None
    if receiver is not None and not _NAME.match(str(receiver)):
        raise ContractorError("receiver: a receiver's name in the notifications file")
    technicians = list(fields.get("technicians") or ())
    seen: set[int] = set()
    for tech in technicians:
        if tech.technician_id in seen:
            raise ContractorError(f"technicians: technician {tech.technician_id} is listed twice")
        seen.add(tech.technician_id)
        if not 1 <= len(tech.licence.strip()) <= 64:
            raise ContractorError(f"technicians: technician {tech.technician_id} needs a licence")
    return {
        "name": name,
        "phone_24h": phone,
        "contract_start": start,
        "contract_end": end,
        "sites": list(sites),
        "kinds": list(kinds),
        "response_minutes": minutes,
        "receiver": receiver,
        "active": bool(fields.get("active", True)),
        "technicians": [
            ContractTechnician(t.technician_id, t.licence.strip()) for t in technicians
        ],
    }


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Which contractor lift work goes to, or why none: ``refused`` lists the contractors that
    cover the work but cannot take it (an expired contract), each with its reason."""

    contractor: Contractor | None
    refused: tuple[str, ...] = ()
    refusals: tuple[dict[str, str], ...] = ()
    """``refused`` as data (name, why, on), for the console to word in each language."""


def choose(contractors: Iterable[Contractor], site: str, kind: str, day: date) -> Dispatch:
    """The contractor whose contract covers (site, kind) on ``day``: a contract naming the site
    before one covering all sites, then the lowest id (the oldest contract) for a stable choice."""
    covering = sorted(
        (c for c in contractors if c.covers(site, kind)),
        key=lambda c: (not c.sites, c.id),
    )
    refused = tuple(r for c in covering if (r := c.refusal(day)) is not None)
    refusals = tuple(
        {"name": c.name, "why": found[0], "on": found[1]}
        for c in covering
        if (found := c.refusal_code(day)) is not None
    )
    usable = [c for c in covering if c.refusal(day) is None]
    return Dispatch(usable[0] if usable else None, refused, refusals)


def response_deadline(created_at: datetime, respond_by: datetime, minutes: int | None) -> datetime:
    """The contract's response time counts when it is stricter than the service level's: the
    order is held to the earlier of the two, never loosened by a lax contract."""
    if minutes is None:
        return respond_by
    return min(respond_by, created_at + timedelta(minutes=minutes))


def needs_sign_off(kind: str | None, skill: str) -> bool:
    """Lift and electrical work: by the asset's kind or the skill the order asks for."""
    return skill in SIGN_OFF_SKILLS or (kind is not None and kind in SIGN_OFF_KINDS)


def canonical(record: Mapping[str, Any]) -> bytes:
    """The record as the digest covers it: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical record: recomputed later, it shows the record is unchanged."""
    return hashlib.sha256(canonical(record)).hexdigest()


def licences(
    assignees: Sequence[int],
    certifications: Mapping[int, Sequence[Mapping[str, Any]]],
    contracted: Mapping[int, str],
    certificate_kind: str | None,
) -> list[dict[str, Any]]:
    """The licence numbers of the people who did the work: each assignee's certificate of the
    work's kind, and the number the contractor lists for them."""
    out: list[dict[str, Any]] = []
    for tech in assignees:
        numbers = [
            str(c.get("number", ""))
            for c in certifications.get(tech, ())
            if certificate_kind is None or c.get("kind") == certificate_kind
        ]
        out.append(
            {
                "technician_id": tech,
                "certificates": [n for n in numbers if n],
                "contract_licence": contracted.get(tech),
            }
        )
    return out
