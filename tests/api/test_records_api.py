"""Issue 19 through the API: the asset register (by hand and from a spreadsheet), the
maintenance record of a lift as CSV, matching the orders' own timelines, and the statutory
items with their reminders."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from facility_dispatch.maintenance.sql import NotificationRow
from tests.api.test_work_orders_api import as_, technician, token

pytestmark = pytest.mark.broker

HEADING = "site,asset,kind,name,maker,model,install_date,registration_code,building,floor\n"


def lift(client: TestClient, site: str, asset: str = "lift-1") -> None:
    made = client.post("/api/v1/assets", json={"site": site, "asset": asset, "kind": "elevator"})
    assert made.status_code == 201, made.text


def upload(client: TestClient, data: bytes) -> Any:
    return client.post("/api/v1/assets/import", content=data, headers={"Content-Type": "text/csv"})


def test_register_data_is_set_by_hand_and_shown_with_the_asset(
    client: TestClient, site: str
) -> None:
    lift(client, site)
    body = {
        "maker": "迅达",
        "model": "3300",
        "install_date": "2019-05-20",
        "registration_code": "梯11沪A0001",
        "building": "3",
        "floor": "B1",
    }
    put = client.put(f"/api/v1/assets/{site}/lift-1/register", json=body)
    assert put.status_code == 200, put.text
    shown = client.get(f"/api/v1/assets/{site}/lift-1").json()
    assert {k: shown[k] for k in body} == body
    # the building is the one the lift plans are staggered by (Planner's building_of)
    service = client.app.state.service  # type: ignore[attr-defined]
    assert service.assets.get(site, "lift-1").building == "3"
    cleared = client.put(f"/api/v1/assets/{site}/lift-1/register", json={"maker": "Otis"})
    assert cleared.json()["maker"] == "Otis" and cleared.json()["building"] is None
    assert client.put(f"/api/v1/assets/{site}/lift-9/register", json={}).status_code == 404
    bad = client.put(f"/api/v1/assets/{site}/lift-1/register", json={"install_date": "2019-02-30"})
    assert bad.status_code == 422 and "install_date" in bad.text


def test_a_good_file_imports_in_every_encoding_excel_saves(client: TestClient, site: str) -> None:
    rows = (
        f"{site},lift-1,elevator,1号梯,迅达,3300,2019-05-20,梯11沪A0001,1,B1\n"
        f"{site},lift-2,电梯,2号梯,奥的斯,GeN2,2019/5/21,梯11沪A0002,1,1\n"
    )
    for encoding in ("utf-8", "utf-8-sig", "gbk"):
        answer = upload(client, (HEADING + rows).encode(encoding))
        assert answer.status_code == 200, (encoding, answer.text)
        assert answer.json() == {"imported": 2, "assets": [f"{site}/lift-1", f"{site}/lift-2"]}
    second = client.get(f"/api/v1/assets/{site}/lift-2").json()
    assert (second["kind"], second["maker"], second["registered"]) == ("elevator", "奥的斯", True)
    assert (second["install_date"], second["floor"]) == ("2019-05-21", "1")


def test_a_bad_file_imports_nothing_and_names_each_bad_row(client: TestClient, site: str) -> None:
    rows = (
        f"{site},lift-1,elevator,,,,2019-05-20,,1,\n"
        f"{site},lift-2,elevator,,,,20190521,,1,\n"  # line 3: no date
        f"{site},lift-3,rocket,,,,,,1,\n"  # line 4: no such kind
    )
    answer = upload(client, (HEADING + rows).encode("gbk"))
    assert answer.status_code == 422, answer.text
    assert [(e["row"], e["column"]) for e in answer.json()["errors"]] == [
        (3, "install_date"),
        (4, "kind"),
    ]
    assert client.get(f"/api/v1/assets/{site}/lift-1").status_code == 404  # the good row too
    assert upload(client, b"").status_code == 422
    huge = HEADING.encode() + b"x" * (1 << 20)
    assert upload(client, huge).status_code == 413  # the body limit, before it is read
    many = "".join(f"{site},lift-{n},elevator,,,,,,,\n" for n in range(5_001))
    too_many = upload(client, (HEADING + many).encode())
    assert too_many.status_code == 422 and "more than 5000 rows" in too_many.text


def _order_on_lift(client: TestClient, site: str, part_id: int, title: str) -> int:
    body = {
        "site": site,
        "asset": "lift-1",
        "kind": "elevator",
        "title": title,
        "skill": "elevator",
        "channel": "phone",
        "checklist": ["Door sill cleaned", "Brake checked"],
    }
    made = client.post("/api/v1/work-orders", json=body)
    assert made.status_code == 201, made.text
    order = made.json()
    items = order["checklist"]
    oid = order["id"]
    for step, extra in (
        ("acknowledged", {}),
        ("in_progress", {"note": "on site,\nlanding 3"}),
    ):
        moved = client.post(f"/api/v1/work-orders/{oid}/transition", json={"to": step, **extra})
        assert moved.status_code == 200, moved.text
    ticks = [(items[0]["id"], {"result": "done"}), (items[1]["id"], {"result": "not_done",
             "note": "pads worn"})]  # fmt: skip
    for item_id, tick in ticks:
        assert client.post(f"/api/v1/work-orders/{oid}/checklist/{item_id}", json=tick).is_success
    used = {"part_id": part_id, "action": "consume", "quantity": 2}
    assert client.post(f"/api/v1/work-orders/{oid}/parts", json=used).status_code in (200, 201)
    resolved = {"to": "resolved", "cause": "worn pads", "action": "=pads replaced"}
    assert client.post(f"/api/v1/work-orders/{oid}/transition", json=resolved).is_success
    manager = as_(token(client, "technician", safety_manager=True, name=f"An Quan {oid}"))
    assert client.post(f"/api/v1/work-orders/{oid}/sign-off", json={}, headers=manager).is_success
    assert client.post(f"/api/v1/work-orders/{oid}/transition", json={"to": "closed"}).is_success
    return int(oid)


def _line(entry: dict[str, Any], zone: ZoneInfo) -> str:
    at = datetime.fromisoformat(entry["at"]).astimezone(zone).isoformat(timespec="seconds")
    move = f" {entry['from'] or ''}→{entry['to']}" if entry["to"] else ""
    note = " ".join((entry["note"] or "").split())
    return f"{at} {entry['event']}{move} ({entry['actor']})" + (f": {note}" if note else "")


def _local(text: str | None, zone: ZoneInfo) -> str:
    return (
        datetime.fromisoformat(text).astimezone(zone).isoformat(timespec="seconds") if text else ""
    )


def test_the_records_csv_matches_the_orders_timelines(client: TestClient, site: str) -> None:
    lift(client, site)
    lift(client, site, "lift-2")
    tech = technician(
        client,
        site,
        "Zhang Wei",
        ["elevator"],
        certifications=[{"kind": "elevator", "number": "T-1", "expires_on": "2099-01-01"}],
    )
    part = client.post(
        "/api/v1/parts",
        json={"sku": f"PAD-{site}", "name": "Brake pad", "stock": [{"site": site, "on_hand": 9}]},
    ).json()
    ids = [_order_on_lift(client, site, part["id"], t) for t in ("Half-monthly", "Door fault")]
    other = client.post(
        "/api/v1/work-orders",
        json={"site": site, "asset": "lift-2", "title": "Not this lift", "channel": "phone"},
    )
    assert other.status_code == 201
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    answer = client.get(
        f"/api/v1/assets/{site}/lift-1/records",
        params={"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
    assert [r["number"] for r in rows] == [
        client.get(f"/api/v1/work-orders/{i}").json()["number"] for i in ids
    ]
    zone = ZoneInfo("Asia/Shanghai")
    for row, order_id in zip(rows, ids, strict=True):
        order = client.get(f"/api/v1/work-orders/{order_id}").json()
        assert row["timeline"].split("\n") == [_line(e, zone) for e in order["timeline"]]
        in_progress = next(e["at"] for e in order["timeline"] if e["to"] == "in_progress")
        assert row["created_at"] == _local(order["created_at"], zone)
        assert row["acknowledged_at"] == _local(order["responded_at"], zone)
        assert row["arrived_at"] == _local(in_progress, zone)
        assert row["resolved_at"] == _local(order["resolved_at"], zone)
        assert row["closed_at"] == _local(order["closed_at"], zone)
        assert (row["type"], row["status"], row["technicians"]) == ("corrective", "closed",
                                                                    "Zhang Wei")  # fmt: skip
        assert row["items"] == "Door sill cleaned: done\nBrake checked: not_done (pads worn)"
        assert row["result"] == "cause: worn pads; action: =pads replaced"
        assert row["parts"] == f"PAD-{site} Brake pad x 2 pcs"
        signed = order["sign_off"]
        assert (row["signed_off_by"], row["signed_off_at"], row["sign_off_digest"]) == (
            signed["signer"],
            _local(signed["signed_at"], zone),
            signed["digest"],
        )
        assert row["signed_off_by"] == f"An Quan {order_id}"
    assert order["assignees"] == [tech]
    zh = client.get(
        f"/api/v1/assets/{site}/lift-1/records",
        params={"start": today.isoformat(), "end": today.isoformat(), "headings": "zh"},
    )
    assert zh.content.decode("utf-8-sig").startswith("工单号,类别,")
    empty = client.get(
        f"/api/v1/assets/{site}/lift-1/records", params={"start": "2020-01-01", "end": "2020-12-31"}
    )
    assert empty.content.decode("utf-8-sig").strip() == ",".join(
        next(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    )
    backwards = {"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()}
    assert client.get(f"/api/v1/assets/{site}/lift-1/records", params=backwards).status_code == 422
    far = {"start": "0001-01-01", "end": "9999-12-31"}
    assert client.get(f"/api/v1/assets/{site}/lift-1/records", params=far).status_code == 422
    missing = client.get(f"/api/v1/assets/{site}/lift-7/records", params=backwards)
    assert missing.status_code == 404


def test_statutory_items_are_listed_moved_when_done_and_reminded_once(
    client: TestClient, site: str
) -> None:
    lift(client, site)
    service = client.app.state.service  # type: ignore[attr-defined]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    due = today + timedelta(days=10)
    installed = date(due.year - 2, due.month, min(due.day, 28)).isoformat()  # year 2: self-test
    put = client.put(f"/api/v1/assets/{site}/lift-1/register", json={"install_date": installed})
    assert put.status_code == 200, put.text
    soon = {"site": site, "asset": "lift-1", "item": "inspection",
            "due_on": (today + timedelta(days=10)).isoformat()}  # fmt: skip
    set_ = client.post("/api/v1/compliance", json=soon)
    assert set_.status_code == 200, set_.text
    assert (set_.json()["stage"], set_.json()["days_left"]) == ("due_soon", 10)
    assert set_.json()["label"] == "self_test"  # TSG T7001: the body inspects in years 1, 4, 7...
    late = {"site": site, "item": "drill", "due_on": (today - timedelta(days=3)).isoformat()}
    assert client.post("/api/v1/compliance", json=late).json()["stage"] == "overdue"
    assert client.post("/api/v1/compliance", json={**late, "asset": "lift-1"}).status_code == 422
    technician(
        client,
        site,
        "Zhang Wei",
        ["elevator"],
        certifications=[{"kind": "elevator", "number": "T-1",
                         "expires_on": (today + timedelta(days=400)).isoformat()}],
    )  # fmt: skip
    listed = client.get("/api/v1/compliance", params={"site": site}).json()
    assert [(i["item"], i["stage"]) for i in listed["items"]] == [
        ("drill", "overdue"),
        ("inspection", "due_soon"),
        ("operator_certificate", "ok"),
    ]
    overdue = client.get("/api/v1/compliance", params={"site": site, "stage": "overdue"}).json()
    assert [i["item"] for i in overdue["items"]] == ["drill"]
    # the scheduler's sweep: one reminder each, then none however often it runs
    assert service.compliance.sweep() == 2
    assert service.compliance.sweep() == 0
    with service.sessions() as session:
        kinds = sorted(
            n.kind
            for n in session.scalars(select(NotificationRow).where(NotificationRow.site == site))
        )
    assert kinds == ["compliance_due_soon", "compliance_overdue"]
    # the drill is held today: due again in six months, nothing overdue
    done = client.post(
        "/api/v1/compliance/done",
        json={"site": site, "item": "drill", "done_on": today.isoformat()},
    )
    assert done.status_code == 200, done.text
    assert done.json()["stage"] == "ok" and done.json()["last_done_on"] == today.isoformat()
    assert date.fromisoformat(done.json()["due_on"]) > today + timedelta(days=180)
    assert service.compliance.sweep() == 0
    renew = {"site": site, "asset": "lift-1", "item": "certificate", "done_on": today.isoformat()}
    refused = client.post("/api/v1/compliance/done", json=renew)
    assert refused.status_code == 422 and "next_due" in refused.text


def test_lift_orders_and_timelines_outlive_the_retention_jobs(
    client: TestClient, site: str
) -> None:
    """Maintenance records are kept at least 4 years (TSG T5002-2017): the hourly retention
    jobs (events and readings, residents' requests, sent notifications), run as if 4 years
    and a day had passed, leave every order and its timeline."""
    from facility_dispatch.retention import Retention

    lift(client, site)
    made = client.post(
        "/api/v1/work-orders",
        json={"site": site, "asset": "lift-1", "title": "Half-monthly", "channel": "phone"},
    )
    order = made.json()
    service = client.app.state.service  # type: ignore[attr-defined]

    class Later:
        def now(self) -> datetime:
            return datetime.now(UTC) + timedelta(days=4 * 365 + 2)

        def now_ms(self) -> int:
            return int(self.now().timestamp() * 1000)

    Retention(
        service.events,
        service.store,
        Later(),  # type: ignore[arg-type]
        events_kept=timedelta(days=1),
        telemetry_kept=timedelta(days=1),
    ).prune()
    service.notifier.prune(Later().now())
    kept = client.get(f"/api/v1/work-orders/{order['id']}").json()
    assert kept["number"] == order["number"] and kept["timeline"] == order["timeline"]
