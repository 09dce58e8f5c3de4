"""Residents' KPIs of SPEC section 5, from plain facts: satisfaction, feedback rate, requests
by category and building, repeat requests, time to first response. Pure: the service reads the
facts, this counts them."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from facility_dispatch.residents.model import REPEAT_WITHIN


@dataclass(frozen=True, slots=True)
class RequestFacts:
    site: str
    building: str
    unit: str
    category: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    rating: int | None


def repeats(facts: Sequence[RequestFacts]) -> set[int]:
    """Positions of the requests that repeat one made for the same unit and category within
    the 30 days before (the second call about one leak is a repeat; the first is not)."""
    last: dict[tuple[str, str, str, str], datetime] = {}
    found: set[int] = set()
    ordered = sorted(range(len(facts)), key=lambda i: facts[i].created_at)
    for position in ordered:
        fact = facts[position]
        key = (fact.site, fact.building.casefold(), fact.unit.casefold(), fact.category)
        before = last.get(key)
        if before is not None and fact.created_at - before <= REPEAT_WITHIN:
            found.add(position)
        last[key] = fact.created_at
    return found


def compute(facts: Sequence[RequestFacts], start: datetime, end: datetime) -> dict[str, Any]:
    """KPIs of the requests made in [start, end]; ``facts`` may reach 30 days further back, so
    that a repeat of an earlier request is seen."""
    repeated = repeats(facts)
    chosen = [(i, f) for i, f in enumerate(facts) if start <= f.created_at <= end]
    ratings = [f.rating for _, f in chosen if f.rating is not None]
    resolved = [f for _, f in chosen if f.resolved_at is not None]
    rated_resolved = [f for f in resolved if f.rating is not None]
    waits = [
        (f.first_response_at - f.created_at).total_seconds()
        for _, f in chosen
        if f.first_response_at is not None
    ]
    return {
        "requests": len(chosen),
        "by_category": dict(sorted(Counter(f.category for _, f in chosen).items())),
        "by_building": dict(sorted(Counter(f.building for _, f in chosen).items())),
        "satisfaction": {
            "rated": len(ratings),
            "mean": round(statistics.fmean(ratings), 2) if ratings else None,
            "share_4_5": round(sum(1 for r in ratings if r >= 4) / len(ratings), 3)
            if ratings
            else None,
        },
        "feedback_rate": round(len(rated_resolved) / len(resolved), 3) if resolved else None,
        "repeat_requests": sum(1 for i, _ in chosen if i in repeated),
        "first_response_s": {
            "answered": len(waits),
            "waiting": len(chosen) - len(waits),
            "mean": round(statistics.fmean(waits)) if waits else None,
            "median": round(statistics.median(waits)) if waits else None,
        },
    }
