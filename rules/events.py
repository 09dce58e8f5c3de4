"""What the engine decides: alarm changes, as past-tense value objects.

An alarm is identified by (site, asset, fault), as alertmanager identifies an alert by a
fingerprint of stable labels: two rules that raise the same fault on the same asset make one
alarm episode, not two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

AlarmKey = tuple[str, str, str]  # (site, asset, fault)


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """Base of the engine's decisions; ``at_ms`` is the engine time of the change."""

    site: str
    asset: str
    kind: str
    fault: str
    rule_id: str
    severity: str
    value: float | int | bool | str | None
    at_ms: int
    started_ms: int

    state: ClassVar[str] = ""

    @property
    def key(self) -> AlarmKey:
        return (self.site, self.asset, self.fault)


@dataclass(frozen=True, slots=True)
class AlarmPending(AlarmChange):
    """The condition holds; the rule's ``for`` has not yet passed."""

    state: ClassVar[str] = "pending"


@dataclass(frozen=True, slots=True)
class AlarmFired(AlarmChange):
    """The condition held long enough: an alarm."""

    state: ClassVar[str] = "firing"


@dataclass(frozen=True, slots=True)
class AlarmEscalated(AlarmChange):
    """A more severe rule of the same fault fires during the episode."""

    state: ClassVar[str] = "firing"


@dataclass(frozen=True, slots=True)
class AlarmResolved(AlarmChange):
    """The episode is over (the clear condition, or the condition no longer holds)."""

    state: ClassVar[str] = "resolved"


@dataclass(frozen=True, slots=True)
class AlarmDiscarded(AlarmChange):
    """A pending alarm whose condition stopped before ``for`` passed: it never fired."""

    state: ClassVar[str] = "discarded"


@dataclass(frozen=True, slots=True)
class OpenAlarm:
    """An alarm the engine must remember across a restart (from the alarm store)."""

    site: str
    asset: str
    kind: str
    fault: str
    rule_id: str
    severity: str
    state: str  # pending | firing
    started_ms: int
    fired_ms: int | None
    value: float | int | bool | str | None
