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
from typing import Any, Final, Literal

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
    cause: Literal["nobody_available", "only_juniors"] | None = None
    """Why nobody was assigned, as a code the console words in each language."""


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
    reactive_orders: Mapping[int, int] | None = None,
    handed_back: frozenset[int] = frozenset(),
) -> Assignment:
    """``open_orders`` ranks who is least loaded; the cap counts ``reactive_orders`` (alarm and
    manual orders; all open orders when not given): a month of preventive checks created at
    once must not keep a technician from an urgent fault. Who ``handed_back`` this order said
    they cannot take it: the rules do not send it straight back to them."""
    policy = policy or Policy()
    capped = open_orders if reactive_orders is None else reactive_orders
    reasons: list[str] = []
    people = [p for p in people if p.active and p.id not in exclude]
    returned = [p for p in people if p.id in handed_back]
    if returned:
        reasons.append(f"handed this order back: {_names(returned)}")
        people = [p for p in people if p.id not in handed_back]
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
        full = [p for p in present if capped.get(p.id, 0) >= policy.max_open_orders]
        if full:
            reasons.append(
                f"at the cap of {policy.max_open_orders} open reactive orders: {_names(full)}"
            )
        present = [p for p in present if p not in full]

    on_shift = [p for p in present if _on(duties, p.id, job.site, now, on_call=False)]
    on_call = [p for p in present if _on(duties, p.id, job.site, now, on_call=True)]
    if on_shift:
        pool, where = on_shift, "on shift"
    elif on_call:
        pool, where = on_call, "on call (nobody on shift)"
    else:
        reasons.append(f"on shift or on call at {job.site} now: nobody")
        return Assignment(
            (),
            tuple(reasons),
            f"no {job.skill} technician available at {job.site}",
            "nobody_available",
        )
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
                "only_juniors",
            )
        senior = seniors[0]
        reasons.append(f"{lead.name} is junior on risky work: paired with {senior.name} (senior)")
        return Assignment((lead.id, senior.id), tuple(reasons))
    reasons.append(f"assigned {lead.name}")
    return Assignment((lead.id,), tuple(reasons))


Why = Literal[
    "inactive",
    "excluded",
    "handed_back",
    "no_skill",
    "no_certificate",
    "other_site",
    "absent",
    "at_cap",
    "off_duty",
    "on_shift",
    "on_call",
    "last_on_asset",
    "junior_on_risky_work",
]
"""Why a technician can or cannot take a job: a code the console words in each language."""
BARRING: Final[frozenset[str]] = frozenset(
    {
        "inactive",
        "excluded",
        "handed_back",
        "no_skill",
        "no_certificate",
        "other_site",
        "absent",
        "at_cap",
    }
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One technician as the dispatcher sees them when choosing by hand: eligible or not, why,
    and their load (open orders, of which reactive)."""

    person: Person
    eligible: bool
    why: tuple[Why, ...]
    open_orders: int
    reactive_orders: int


def candidates(
    job: Job,
    people: Iterable[Person],
    duties: Iterable[Duty],
    leaves: Iterable[Leave],
    open_orders: Mapping[int, int],
    now: datetime,
    today: date,
    *,
    reactive_orders: Mapping[int, int] | None = None,
    last_on_asset: int | None = None,
    exclude: frozenset[int] = frozenset(),
    policy: Policy | None = None,
    handed_back: frozenset[int] = frozenset(),
) -> list[Candidate]:
    """Everyone, ranked as :func:`assign` ranks them: the eligible first (on shift at the site,
    then on call, then the rest; fewer open orders first; who last worked on the asset first
    among equals), then those who cannot go, each with every reason. A P1 ignores the cap, as
    :func:`assign` does. A planner may still choose someone off duty: only the barring reasons
    (:data:`BARRING`) make a candidate ineligible; having ``handed_back`` the order is one."""
    policy = policy or Policy()
    capped = open_orders if reactive_orders is None else reactive_orders
    away = {leave.technician_id for leave in leaves if leave.covers(now)}
    duties = list(duties)
    certificate = policy.certificate_for_skill.get(job.skill)
    found: list[tuple[tuple[int, int, int, int, int], Candidate]] = []
    for person in people:
        why: list[Why] = []
        if not person.active:
            why.append("inactive")
        if person.id in exclude:
            why.append("excluded")
        if person.id in handed_back:
            why.append("handed_back")
        if job.skill not in person.skills:
            why.append("no_skill")
        if certificate and not person.certified(certificate, today):
            why.append("no_certificate")
        if job.site not in person.sites:
            why.append("other_site")
        if person.id in away:
            why.append("absent")
        if job.priority != "P1" and capped.get(person.id, 0) >= policy.max_open_orders:
            why.append("at_cap")
        if _on(duties, person.id, job.site, now, on_call=False):
            why.append("on_shift")
            duty = 0
        elif _on(duties, person.id, job.site, now, on_call=True):
            why.append("on_call")
            duty = 1
        else:
            why.append("off_duty")
            duty = 2
        if person.id == last_on_asset:
            why.append("last_on_asset")
        if person.seniority == "junior" and policy.risky(job):
            why.append("junior_on_risky_work")
        eligible = not BARRING.intersection(why)
        load = open_orders.get(person.id, 0)
        rank = (0 if eligible else 1, duty, load, 0 if person.id == last_on_asset else 1, person.id)
        found.append(
            (rank, Candidate(person, eligible, tuple(why), load, capped.get(person.id, 0)))
        )
    return [candidate for _, candidate in sorted(found, key=lambda pair: pair[0])]


TimelineEntry = tuple[str, str | None, str | None, Mapping[str, Any]]
"""An order's timeline entry as plain data: (event, from status, to status, data)."""


def who_handed_back(timeline: Iterable[TimelineEntry]) -> frozenset[int]:
    """Who handed this order back (``assigned -> open``), from its timeline in order: the ids
    the hand-back entry names, or, for an entry written before it named them, whoever the last
    assignment before it had assigned."""
    assigned: list[int] = []
    returned: set[int] = set()
    for event, from_status, to_status, data in timeline:
        if event == "assigned" and "assignees" in data:
            assigned = [int(i) for i in data["assignees"]]
        elif event == "reassigned" and "after" in data:
            assigned = [int(i) for i in data["after"]]
        elif event == "transition" and from_status == "assigned" and to_status == "open":
            returned.update(int(i) for i in data.get("handed_back", assigned))
            assigned = []
    return frozenset(returned)


def _on(duties: list[Duty], technician_id: int, site: str, at: datetime, on_call: bool) -> bool:
    return any(
        d.technician_id == technician_id and d.on_call == on_call and d.covers(site, at)
        for d in duties
    )


def _names(people: Iterable[Person]) -> str:
    names = [p.name for p in people]
    return ", ".join(names) if names else "nobody"
