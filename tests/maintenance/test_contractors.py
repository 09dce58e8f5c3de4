"""The pure core of contractors and sign-off: coverage, contract dates, the stricter response
time, which work needs a sign-off, the digest, the licences kept."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest

from facility_dispatch.maintenance.contractors import (
    Contractor,
    ContractorError,
    ContractTechnician,
    canonical,
    choose,
    digest,
    licences,
    needs_sign_off,
    response_deadline,
    validate,
)


def firm(id_: int, sites: tuple[str, ...] = ("a",), **extra: object) -> Contractor:
    fields: dict[str, object] = {
        "id": id_,
        "name": f"firm-{id_}",
        "phone_24h": "400-820-1234",
        "contract_start": date(2026, 1, 1),
        "contract_end": date(2026, 12, 31),
        "sites": sites,
        "kinds": ("elevator",),
        "response_minutes": 30,
        "receiver": None,
        "active": True,
    }
    fields.update(extra)
    return Contractor(**fields)  # type: ignore[arg-type]


DAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("firms", "site", "kind", "chosen", "refused"),
    [
        ([firm(1)], "a", "elevator", 1, ()),
        ([firm(1)], "b", "elevator", None, ()),
        ([firm(1)], "a", "water", None, ()),
        ([firm(1, ()), firm(2)], "a", "elevator", 2, ()),  # naming the site wins over all sites
        ([firm(1, ())], "zz", "elevator", 1, ()),
        (
            [firm(1, contract_end=date(2026, 6, 30)), firm(2)],
            "a",
            "elevator",
            2,
            ("contractor firm-1's contract ended on 2026-06-30",),
        ),
        (
            [firm(1, contract_start=date(2026, 12, 1))],
            "a",
            "elevator",
            None,
            ("contractor firm-1's contract starts on 2026-12-01",),
        ),
        ([firm(1, active=False)], "a", "elevator", None, ("contractor firm-1 is inactive",)),
        ([firm(1, contract_end=DAY)], "a", "elevator", 1, ()),  # the last day is in force
    ],
)
def test_choose(
    firms: list[Contractor],
    site: str,
    kind: str,
    chosen: int | None,
    refused: tuple[str, ...],
) -> None:
    decided = choose(firms, site, kind, DAY)
    assert (decided.contractor.id if decided.contractor else None) == chosen
    assert decided.refused == refused


T0 = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sla_minutes", "contract", "expected"),
    [(240, 30, 30), (15, 30, 15), (240, None, 240)],
)
def test_the_stricter_response_time_holds(
    sla_minutes: int, contract: int | None, expected: int
) -> None:
    due = response_deadline(T0, T0 + timedelta(minutes=sla_minutes), contract)
    assert due == T0 + timedelta(minutes=expected)


@pytest.mark.parametrize(
    ("kind", "skill", "needed"),
    [
        ("elevator", "elevator", True),
        (None, "electrical", True),
        ("power", "general", True),
        ("water", "plumbing", False),
        (None, "cctv", False),
    ],
)
def test_which_work_needs_a_sign_off(kind: str | None, skill: str, needed: bool) -> None:
    assert needs_sign_off(kind, skill) is needed


def test_the_digest_is_sha256_of_sorted_compact_json() -> None:
    record = {"b": [1, "二"], "a": None}
    assert canonical(record) == '{"a":null,"b":[1,"二"]}'.encode()
    assert digest(record) == hashlib.sha256(canonical(record)).hexdigest()
    assert digest(record) != digest({**record, "a": 1})


def test_licences_take_the_certificate_of_the_work_and_the_contracts_number() -> None:
    certs = {
        7: [
            {"kind": "elevator", "number": "TS-1", "expires_on": "2030-01-01"},
            {"kind": "electrical", "number": "DG-1", "expires_on": "2030-01-01"},
        ]
    }
    assert licences([7, 8], certs, {7: "WB-1"}, "elevator") == [
        {"technician_id": 7, "certificates": ["TS-1"], "contract_licence": "WB-1"},
        {"technician_id": 8, "certificates": [], "contract_licence": None},
    ]


GOOD = {
    "name": "Lift Care",
    "phone_24h": "400-820-1234",
    "contract_start": date(2026, 1, 1),
    "contract_end": date(2026, 12, 31),
    "sites": ["a", "a"],
    "kinds": ["elevator"],
    "technicians": [ContractTechnician(3, " WB-1 ")],
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"phone_24h": "call us"}, "phone_24h"),
        ({"contract_end": date(2025, 1, 1)}, "contract_end"),
        ({"kinds": []}, "kinds"),
        ({"kinds": ["lift"]}, "kinds"),
        ({"response_minutes": 0}, "response_minutes"),
        ({"receiver": "bad name"}, "receiver"),
        ({"technicians": [ContractTechnician(3, "a"), ContractTechnician(3, "b")]}, "technicians"),
        ({"technicians": [ContractTechnician(3, " ")]}, "technicians"),
    ],
)
def test_validation_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ContractorError, match=f"^{field}"):
        validate({**GOOD, **change})


def test_validation_tidies_what_it_keeps() -> None:
    kept = validate(GOOD)
    assert kept["sites"] == ["a"] and kept["technicians"] == [ContractTechnician(3, "WB-1")]
    assert kept["active"] is True and kept["response_minutes"] is None
