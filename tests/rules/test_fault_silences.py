"""A silence of one fault mutes that fault only; a silence without one mutes every fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facility_dispatch.rules.silences import Silence, silencing

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def silence(id_: int, asset: str | None, fault: str | None) -> Silence:
    return Silence(
        id_,
        "north",
        asset,
        None,
        NOW - timedelta(hours=1),
        NOW + timedelta(hours=1),
        "works",
        "p",
        fault=fault,
    )


@pytest.mark.parametrize(
    ("silences", "fault", "muted_by"),
    [
        ([silence(1, "cam-1", "tamper")], "tamper", 1),
        ([silence(1, "cam-1", "tamper")], "video_loss", None),  # the camera still heard
        ([silence(1, "cam-1", "tamper")], None, None),
        ([silence(1, "cam-1", None)], "video_loss", 1),  # the whole asset
        ([silence(1, None, "tamper")], "tamper", 1),  # one fault across the site
        ([silence(1, "cam-2", "tamper")], "tamper", None),
        ([silence(1, "cam-1", "tamper"), silence(2, "cam-1", None)], "video_loss", 2),
    ],
)
def test_a_silence_mutes_its_fault_or_every_fault(
    silences: list[Silence], fault: str | None, muted_by: int | None
) -> None:
    found = silencing(silences, "north", "cam-1", "cctv", NOW, fault)
    assert (found.id if found else None) == muted_by
