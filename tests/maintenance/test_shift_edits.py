"""A shift a repairs roster wrote is changed in its roster: cancelling it alone is refused
(the roster would not write it again, and dispatch and the roster would disagree)."""

from __future__ import annotations

from datetime import date

import pytest

from facility_dispatch.maintenance.errors import ConflictError
from tests.maintenance.test_patrols import Estate, estate

__all__ = ["estate"]


def test_a_rostered_shift_is_not_cancelled_alone_but_a_hand_made_one_is(estate: Estate) -> None:
    desk = estate.rosters.add_post(
        "north",
        "Repair desk",
        "plumbing",
        [{"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1}],
    )
    plumber = estate.technician("Qian Bo", "plumbing", shift=False)
    estate.rosters.add_line(desk.id, plumber, ["day", "rest"], date(2026, 11, 23))
    assert estate.rosters.publish() == 4
    shifts, _ = estate.people.shifts(technician_id=plumber)
    now = estate.clock.now()
    with pytest.raises(ConflictError, match="roster"):
        estate.people.cancel_shift(shifts[-1].id, now)
    assert estate.people.shifts(technician_id=plumber)[1] == 4
    extra = estate.people.add_shift(
        plumber,
        shifts[-1].ends_at,
        shifts[-1].ends_at + (shifts[-1].ends_at - shifts[-1].starts_at),
        False,
        None,
    )
    assert estate.people.cancel_shift(extra.id, now) == extra
    assert estate.people.shifts(technician_id=plumber)[1] == 4
