"""Who a target means at send time: named receivers from the file, and the people the roster
gives (the order's assignees, the site's supervisors, whoever is on call now). Pure: the roster
facts come in as plain data."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from facility_dispatch.maintenance.people import Technician, serves, supervises
from facility_dispatch.notify.config import NotifyConfig


@dataclass(frozen=True, slots=True)
class Address:
    """One URL of one receiver. ``receiver`` is what a list shows; ``key`` identifies the
    receiver in the outbox's unique key; ``technician_id`` is set for a person."""

    receiver: str
    key: str
    url: str
    technician_id: int | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    """What the roster says at the moment of sending."""

    people: tuple[Technician, ...]
    assignees: tuple[int, ...]
    on_call: frozenset[tuple[int, str | None]]
    """Who is on call now, each with the site of their on-call shift (None: a shift of no
    site, which is at its technician's sites, or at any site for one who lists none)."""
    contractor: tuple[int, str | None] | None = None
    """The order's contractor: its id and the receiver its register entry names."""


def addresses(
    target: str,
    site: str | None,
    config: NotifyConfig,
    roster: Roster,
    usable: Callable[[str], bool],
) -> list[Address]:
    """The URLs ``target`` stands for. A person's contacts that are no Apprise URL (``tel:``)
    are for people to call and are left out; a person without one is skipped (the list of
    notifications then shows nobody was reached, and the order's timeline still stands)."""
    if target in config.receivers:
        return [Address(target, target, url) for url in config.receivers[target]]
    if target == "contractor":
        # a company's duty desk is a shared receiver: no person, so no acknowledgement link
        contractor_id, receiver = roster.contractor or (0, None)
        if receiver is None or receiver not in config.receivers:
            return []
        return [
            Address(receiver, f"contractor:{contractor_id}", url)
            for url in config.receivers[receiver]
            if usable(url)
        ]
    by_id = {p.id: p for p in roster.people}
    people: Iterable[Technician]
    if target == "assignees":
        people = (by_id[i] for i in roster.assignees if i in by_id)
    elif target == "supervisor":
        people = (p for p in roster.people if supervises(p, site))
    elif target == "on_call":
        people = (p for p in roster.people if p.active and _on_call_at(p, site, roster.on_call))
    else:
        return []
    return [
        Address(person.name, f"technician:{person.id}", url, person.id)
        for person in people
        for url in person.contacts
        if usable(url)
    ]


def _on_call_at(
    person: Technician, site: str | None, on_call: frozenset[tuple[int, str | None]]
) -> bool:
    """Whether ``person``'s on-call shifts cover ``site``: a shift at the site does; a shift of
    no site does where the person works (like a supervisor: no sites listed, every site)."""
    return any(
        technician_id == person.id
        and (site is None or duty_site == site or (duty_site is None and serves(person, site)))
        for technician_id, duty_site in on_call
    )
