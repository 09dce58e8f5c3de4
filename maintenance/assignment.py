"""Who goes: automatic assignment as pure logic that explains itself. No I/O, no clock.

As field-service tools do it (DOMAIN, dispatch practice): first filter - the skill, a valid
certificate where the work needs one, the site, not absent, under the cap of open orders - then
prefer who is on shift at the site now, else who is on call, and among them the fewest open
orders, then who last worked on this asset (continuity). Risky work given to a junior gets a
senior of the same skill paired on the order; with no senior to pair, a junior is not sent
alone and the order is escalated instead, like an order nobody can take.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, Literal

Seniority = Literal["junior", "senior"]

CERTIFICATE_FOR_SKILL: Final[dict[str, str]] = {"elevator": "elevator", "electrical": "electrical"}
"""SPEC section 4: elevator work needs a valid special-equipment operator licence (TSG), and
electrical work a valid electrician's certificate."""
RISKY_SKILLS: Final = frozenset({"elevator", "electrical"})
"""DOMAIN: a junior on risky work (lifts, electrics) goes with a senior; so does any P1."""


@dataclass(frozen=True, slots=True)
class Certificate:
    kind: str
    number: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    skills: frozenset[str]
    seniority: Seniority
    sites: frozenset[str]
    certificates: tuple[Certificate, ...] = ()
    active: bool = True

    def certified(self, kind: str, on: date) -> bool:
        return any(c.kind == kind and c.expires_on >= on for c in self.certificates)


@dataclass(frozen=True, slots=True)
class Duty:
    """A shift: ``on_call`` shifts are at home with the phone; ``site`` None means any site."""

    technician_id: int
    starts_at: datetime
    ends_at: datetime
    on_call: bool = False
    site: str | None = None

    def covers(self, site: str, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at and (self.site is None or self.site == site)


@dataclass(frozen=True, slots=True)
class Leave:
    technician_id: int
    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True, slots=True)
class Job:
    site: str
    skill: str
    priority: str
    asset: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    max_open_orders: int = 8
    certificate_for_skill: Mapping[str, str] = field(
        default_factory=lambda: dict(CERTIFICATE_FOR_SKILL)
    )
    risky_skills: frozenset[str] = RISKY_SKILLS

    def risky(self, job: Job) -> bool:
        return job.priority == "P1" or job.skill in self.risky_skills


@dataclass(frozen=True, slots=True)
class Assignment:
    """``assignees`` in order (the lead first); empty with ``escalation`` when nobody can go."""

    assignees: tuple[int, ...]
    reasons: tuple[str, ...]
    escalation: str | None = None


def assign(
    job: Job,
    people: Iterable[Person],
    duties: Iterable[Duty],
    leaves: Iterable[Leave],
    open_orders: Mapping[int, int],
    now: datetime,
    today: date,
    *,
    last_on_asset: int | None = None,
    exclude: frozenset[int] = frozenset(),
    policy: Policy | None = None,
) -> Assignment:
    policy = policy or Policy()
    reasons: list[str] = []
    people = [p for p in people if p.active and p.id not in exclude]
    away = {leave.technician_id for leave in leaves if leave.covers(now)}
    duties = list(duties)

    skilled = [p for p in people if job.skill in p.skills]
    reasons.append(f"skill {job.skill}: {_names(skilled)}")
    certificate = policy.certificate_for_skill.get(job.skill)
    if certificate:
        lapsed = [p for p in skilled if not p.certified(certificate, today)]
        skilled = [p for p in skilled if p.certified(certificate, today)]
        note = f"; without a valid one: {_names(lapsed)}" if lapsed else ""
        reasons.append(f"valid {certificate} certificate: {_names(skilled)}{note}")
    here = [p for p in skilled if job.site in p.sites]
    reasons.append(f"works at {job.site}: {_names(here)}")
    absent = [p for p in here if p.id in away]
    present = [p for p in here if p.id not in away]
    if absent:
        reasons.append(f"absent now: {_names(absent)}")
    urgent = job.priority == "P1"
    if not urgent:
        full = [p for p in present if open_orders.get(p.id, 0) >= policy.max_open_orders]
        if full:
            reasons.append(f"at the cap of {policy.max_open_orders} open orders: {_names(full)}")
        present = [p for p in present if p not in full]

    on_shift = [p for p in present if _on(duties, p.id, job.site, now, on_call=False)]
    on_call = [p for p in present if _on(duties, p.id, job.site, now, on_call=True)]
    if on_shift:
        pool, where = on_shift, "on shift"
    elif on_call:
        pool, where = on_call, "on call (nobody on shift)"
    else:
        reasons.append(f"on shift or on call at {job.site} now: nobody")
        return Assignment((), tuple(reasons), f"no {job.skill} technician available at {job.site}")
    reasons.append(f"{where} at {job.site} now: {_names(pool)}")

    def rank(person: Person) -> tuple[int, int, int]:
        return (open_orders.get(person.id, 0), 0 if person.id == last_on_asset else 1, person.id)

    pool.sort(key=rank)
    lead = pool[0]
    loads = ", ".join(f"{p.name} {open_orders.get(p.id, 0)}" for p in pool)
    reasons.append(f"open orders: {loads}")
    if lead.id == last_on_asset:
        reasons.append(f"{lead.name} last worked on {job.asset}")
    if lead.seniority == "junior" and policy.risky(job):
        seniors = [p for p in pool[1:] if p.seniority == "senior"]
        if not seniors and pool is on_shift:
            seniors = sorted((p for p in on_call if p.seniority == "senior"), key=rank)
        if not seniors:
            reasons.append(f"{lead.name} is junior and no senior {job.skill} technician can go")
            return Assignment(
                (),
                tuple(reasons),
                f"only junior {job.skill} technicians available for {job.priority} work",
            )
        senior = seniors[0]
        reasons.append(f"{lead.name} is junior on risky work: paired with {senior.name} (senior)")
        return Assignment((lead.id, senior.id), tuple(reasons))
    reasons.append(f"assigned {lead.name}")
    return Assignment((lead.id,), tuple(reasons))


def _on(duties: list[Duty], technician_id: int, site: str, at: datetime, on_call: bool) -> bool:
    return any(
        d.technician_id == technician_id and d.on_call == on_call and d.covers(site, at)
        for d in duties
    )


def _names(people: Iterable[Person]) -> str:
    names = [p.name for p in people]
    return ", ".join(names) if names else "nobody"
