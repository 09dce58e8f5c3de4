"""Residents' requests over HTTP (SPEC section 5), on SQLite and PostgreSQL: the resident reports
without an account, tracks and rates; the dispatcher accepts, rejects, joins, calls back; a low
rating opens a complaint review. And the abuse a public endpoint meets: bursts, huge uploads,
scripts dressed as photos, HTML in every field, guessed tokens."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from facility_dispatch.api.app import create_app
from facility_dispatch.api.routers.requests import qr_svg
from facility_dispatch.kernel.clock import ManualClock
from facility_dispatch.kernel.events import EventRow
from facility_dispatch.residents.sql import PhoneRevealRow
from facility_dispatch.retention import Retention
from facility_dispatch.service import build_service
from tests.api.test_work_orders_api import as_, technician, token
from tests.builders import ADMIN_TOKEN, make_settings
from tests.services import Broker

pytestmark = pytest.mark.broker
HTML = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@dataclass
class Estate:
    client: TestClient
    clock: ManualClock
    site: str
    plumber: int
    planner: dict[str, str]
    technician: dict[str, str]

    def resident(self, address: str = "10.0.0.1") -> TestClient:
        """A phone without a token, from its own address."""
        return TestClient(self.client.app, client=(address, 40000))

    def report(self, address: str = "10.0.0.1", **fields: Any) -> Any:
        body = {
            "site": self.site,
            "category": "repair",
            "building": "3",
            "unit": "1202",
            "description": "水管漏水 water dripping from the kitchen ceiling",
            "phone": "138 0000 5678",
            **fields,
        }
        answer = self.resident(address).post("/api/v1/public/requests", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()


@pytest.fixture
def estate(broker: Broker, tmp_path: Path, database_url: str) -> Iterator[Estate]:
    site = f"res-{uuid.uuid4().hex[:6]}"
    clock = ManualClock(datetime.now(UTC))
    settings = make_settings(tmp_path, broker.url, database_url, sites=[site])
    app = create_app(build_service(settings, clock=clock))
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        answer = client.put(
            f"/api/v1/sites/{site}",
            json={"name": "绿园", "supervisor": "Zhou Min", "buildings": ["1", "3", HTML[:30]]},
        )
        assert answer.status_code == 200, answer.text
        plumber = technician(client, site, "王伟", ["plumbing"])
        supervisor = {"name": "Zhou Min", "skills": ["general"], "seniority": "senior",
                      "sites": [site], "role": "supervisor"}  # fmt: skip
        assert client.post("/api/v1/technicians", json=supervisor).status_code == 201
        planner = as_(token(client, "planner"))
        tech = as_(token(client, "technician", plumber))
        yield Estate(client, clock, site, plumber, planner, tech)


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (320, 240), (20, 90, 200))
    tags = Image.Exif()
    tags[0x010F] = "PhoneMaker"
    tags[0x8825] = {2: (31.0, 14.0, 0.0), 4: (121.0, 28.0, 0.0)}  # GPS: where the resident lives
    out = io.BytesIO()
    image.save(out, "JPEG", exif=tags)
    return out.getvalue()


def events(estate: Estate, kind: str) -> list[dict[str, Any]]:
    service = estate.client.app.state.service  # type: ignore[attr-defined]
    with service.sessions() as session:
        rows = session.scalars(select(EventRow).where(EventRow.type == kind)).all()
        return [dict(r.payload) for r in rows]


def move(estate: Estate, order_id: int, *steps: str, note: str | None = None) -> None:
    for step in steps:
        answer = estate.client.post(
            f"/api/v1/work-orders/{order_id}/transition",
            json={"to": step, "note": note if step == "resolved" else None},
            headers=estate.technician,
        )
        assert answer.status_code == 200, answer.text


def test_report_track_accept_resolve_rate_and_a_low_rating_opens_a_review(estate: Estate) -> None:
    client, site = estate.client, estate.site
    photo = jpeg_with_gps()
    form = {"site": site, "category": "repair", "building": "3", "unit": "1202",
            "description": "厨房天花板漏水", "phone": "13800005678"}  # fmt: skip
    answer = estate.resident().post(
        "/api/v1/public/requests",
        data=form,
        files=[("photos", ("leak.png", photo, "image/png"))],  # the name and type lie: no matter
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    tracking = created["tracking_url"]
    assert tracking.startswith("/r/t/") and len(tracking) - len("/r/t/") >= 22  # >= 128 bits
    token_ = tracking.removeprefix("/r/t/")
    public = f"/api/v1/public/requests/{token_}"

    looked = estate.resident().get(public)
    assert looked.headers["cache-control"] == "no-store"  # the address is the secret
    assert answer.headers["cache-control"] == "no-store"
    seen = looked.json()
    assert (seen["status"], seen["may_rate"], seen["photos"]) == ("new", False, 1)
    assert "phone" not in seen and "138" not in str(seen)
    assert [e["request_id"] for e in events(estate, "request.received")] == [created["id"]]
    assert "13800005678" not in str(events(estate, "request.received"))

    queue = client.get("/api/v1/requests", params={"site": site}, headers=estate.planner).json()
    assert queue["total"] == 1 and queue["items"][0]["phone"] == "138****5678"
    assert client.get(f"/api/v1/requests/{created['id']}").json()["phone"] == "13800005678"
    photo_url = queue["items"][0]["photos"][0]
    # a photo shows a resident's home: planners, and the technicians of its order only
    assert client.get(photo_url, headers=estate.technician).status_code == 403
    kept = client.get(photo_url, headers=estate.planner)
    assert kept.status_code == 200 and kept.headers["content-type"] == "image/jpeg"
    assert b"PhoneMaker" not in kept.content and b"GPS" not in kept.content
    with Image.open(io.BytesIO(kept.content)) as image:
        assert not image.getexif()

    too_early = estate.resident().post(f"{public}/feedback", json={"rating": 5})
    assert too_early.status_code == 409

    accept = f"/api/v1/requests/{created['id']}/accept"
    assert client.post(accept, json={}, headers=estate.technician).status_code == 403
    accepted = client.post(accept, json={"skill": "plumbing"}, headers=estate.planner)
    assert accepted.status_code == 200, accepted.text
    order_id = accepted.json()["work_order_id"]
    order = client.get(f"/api/v1/work-orders/{order_id}").json()
    assert (order["source"], order["channel"], order["building"]) == ("resident", "qr", "3")
    assert order["assignees"] == [estate.plumber]
    assert client.get(photo_url, headers=estate.technician).status_code == 200  # now theirs
    assert "138" not in str(order)  # the technician's order names the unit, not the phone
    assert "/photos/" not in order["description"]  # the order page shows the photos themselves
    assert client.post(accept, json={}, headers=estate.planner).status_code == 409  # once
    listed = client.get("/api/v1/work-orders", params={"source": "resident", "site": site})
    assert listed.status_code == 200 and listed.json()["total"] == 1

    seen = estate.resident().get(public).json()
    assert (seen["status"], seen["technician"]) == ("accepted", "伟")  # the given name only
    page_zh = estate.resident().get(f"/r/t/{token_}", params={"lang": "zh"}).text
    page_en = estate.resident().get(f"/r/t/{token_}", params={"lang": "en"}).text
    assert '<dd id="technician">王师傅</dd>' in page_zh  # as a resident calls a tradesman
    assert '<dd id="technician">伟</dd>' in page_en
    assert seen["expected_by"] is not None

    move(estate, order_id, "acknowledged", "in_progress")
    assert estate.resident().get(public).json()["status"] == "in_progress"
    move(estate, order_id, "resolved", note="换了厨房水管接头 replaced the pipe joint")
    seen = estate.resident().get(public).json()
    assert (seen["status"], seen["may_rate"]) == ("done", True)
    assert seen["done"] == "换了厨房水管接头 replaced the pipe joint"

    rated = estate.resident().post(f"{public}/feedback", json={"rating": 2, "comment": HTML})
    assert rated.status_code == 200, rated.text
    assert rated.json()["feedback"]["rating"] == 2 and rated.json()["may_rate"] is False
    again = estate.resident().post(f"{public}/feedback", json={"rating": 5})
    assert again.status_code == 409 and "one rating" in again.json()["detail"]

    reviews = client.get("/api/v1/complaint-reviews", params={"site": site}, headers=estate.planner)
    review = reviews.json()["items"][0]
    assert (review["request_id"], review["rating"], review["supervisor"]) == (
        created["id"],
        2,
        "Zhou Min",
    )
    low = events(estate, "request.feedback_low")
    assert [(e["request_id"], e["rating"], e["to"]) for e in low] == [
        (created["id"], 2, "supervisor")
    ]
    closed = client.post(
        f"/api/v1/complaint-reviews/{review['id']}/close",
        json={"outcome": "visited, joint re-sealed, resident satisfied"},
        headers=estate.planner,
    )
    assert closed.status_code == 200 and closed.json()["closed_by"] == "planner-user"
    assert client.get("/api/v1/complaint-reviews", params={"site": site}).json()["total"] == 0

    report = client.get("/api/v1/kpis", params={"site": site}).json()["residents"]
    assert report["requests"] == 1 and report["by_category"] == {"repair": 1}
    assert report["satisfaction"] == {"rated": 1, "mean": 2.0, "share_4_5": 0.0}
    assert report["feedback_rate"] == 1.0
    assert report["first_response_s"]["answered"] == 1
    page = client.get("/kpis", params={"site": site})  # the console's KPI page shows them too
    assert page.status_code == 200 and 'id="resident-kpis"' in page.text

    # past the retention period the request goes, with its photo and its review
    service = client.app.state.service  # type: ignore[attr-defined]
    kept_photos = list((Path(service.settings.data_dir) / "photos").rglob("*.jpg"))
    assert len(kept_photos) == 1
    estate.clock.advance(timedelta(days=364))
    assert service.residents.prune() == 0
    estate.clock.advance(timedelta(days=2))
    assert service.residents.prune() == 1
    assert not kept_photos[0].exists()
    assert estate.resident().get(public).status_code == 404
    assert client.get("/api/v1/complaint-reviews", params={"open_only": False}).json()["total"] == 0


def test_reject_join_phone_requests_follow_ups_and_repeats(estate: Estate) -> None:
    client, site = estate.client, estate.site
    first = estate.report()
    rejected = client.post(
        f"/api/v1/requests/{first['id']}/reject",
        json={"reason": "公共区域由业委会负责 common areas are the owners' committee's"},
        headers=estate.planner,
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    seen = estate.resident().get(f"/api/v1/public/requests/{first['tracking_url'][5:]}").json()
    assert seen["status"] == "rejected" and seen["reject_reason"].startswith("公共区域")
    refused = client.post(f"/api/v1/requests/{first['id']}/accept", json={})
    assert refused.status_code == 409 and "rejected already" in refused.json()["detail"]

    by_phone = {
        "site": site,
        "category": "repair",
        "building": "3",
        "unit": "1202",
        "description": "still dripping",
        "phone": "139-1111-2222",
        "channel": "phone",
    }
    assert (
        client.post("/api/v1/requests", json=by_phone, headers=estate.technician).status_code == 403
    )
    taken = client.post("/api/v1/requests", json=by_phone, headers=estate.planner)
    assert taken.status_code == 201 and taken.json()["channel"] == "phone"
    second = taken.json()
    # the resident who phoned gets the tracking link by SMS: the same page as a QR request
    by_sms = second["tracking_url"].removeprefix("http://testserver")
    assert by_sms.startswith("/r/t/") and len(by_sms) - len("/r/t/") >= 22
    phoned = estate.resident("10.0.0.9").get(f"/api/v1/public/requests/{by_sms[5:]}")
    assert phoned.status_code == 200 and phoned.json()["status"] == "new"
    opened = client.post(f"/api/v1/requests/{second['id']}/accept", json={"skill": "plumbing"})
    order_id = opened.json()["work_order_id"]
    third = estate.report(
        address="10.0.0.2", unit="1202", description="楼上漏水 the flat above leaks"
    )
    joined = client.post(f"/api/v1/requests/{third['id']}/accept", json={"work_order_id": order_id})
    assert joined.status_code == 200 and joined.json()["work_order_id"] == order_id
    timeline = client.get(f"/api/v1/work-orders/{order_id}").json()["timeline"]
    assert any(f"resident request {third['id']}" in (e["note"] or "") for e in timeline)

    statuses = client.get("/api/v1/requests", params={"site": site, "status": "accepted"}).json()
    assert {r["id"] for r in statuses["items"]} == {second["id"], third["id"]}
    early = estate.resident("10.0.0.9").post(
        f"/api/v1/public/requests/{by_sms[5:]}/feedback", json={"rating": 4}
    )
    assert early.status_code == 409 and "once the work is resolved" in early.json()["detail"]
    move(estate, order_id, "acknowledged", "in_progress", "resolved", note="fixed")
    assert client.get("/api/v1/requests/follow-ups", params={"site": site}).json()["total"] == 0
    estate.clock.advance(timedelta(days=3, minutes=1))
    due = client.get("/api/v1/requests/follow-ups", params={"site": site}, headers=estate.planner)
    assert {r["id"] for r in due.json()["items"]} == {second["id"], third["id"]}
    called = client.post(
        f"/api/v1/requests/{second['id']}/follow-up",
        json={"note": "resident happy with the fix", "rating": 5},
        headers=estate.planner,
    )
    assert called.status_code == 200 and called.json()["feedback"]["rating"] == 5
    seen = estate.resident("10.0.0.9").get(f"/api/v1/public/requests/{by_sms[5:]}").json()
    assert seen["status"] == "done" and seen["feedback"]["rating"] == 5
    due = client.get("/api/v1/requests/follow-ups", params={"site": site}).json()
    assert [r["id"] for r in due["items"]] == [third["id"]]

    report = client.get("/api/v1/kpis", params={"site": site}).json()["residents"]
    assert report["repeat_requests"] == 2  # same unit, same category, within 30 days
    assert report["by_building"] == {"3": 3}


def test_a_burst_of_100_from_one_address_is_cut_off_with_retry_after(estate: Estate) -> None:
    phones = [f"1380000{n:04d}" for n in range(100)]
    statuses = []
    resident = estate.resident("203.0.113.9")
    for phone in phones:
        body = {"site": estate.site, "category": "suggestion", "building": "1", "unit": "1",
                "description": "more benches", "phone": phone}  # fmt: skip
        answer = resident.post("/api/v1/public/requests", json=body)
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
    assert statuses[:20] == [201] * 20 and statuses[20:] == [429] * 80
    form = resident.post(f"/r/{estate.site}", data={"category": "repair", "phone": "13900000001"})
    assert form.status_code == 429 and int(form.headers["Retry-After"]) >= 1  # the page too
    assert estate.client.get("/api/v1/requests", params={"site": estate.site}).json()["total"] == 20
    # another address is not held back by this one; one phone is, from any address
    for n in range(5):
        estate.report(address=f"198.51.100.{n}", phone="13912345678")
    answer = estate.resident("198.51.100.99").post(
        "/api/v1/public/requests",
        json={
            "site": estate.site,
            "category": "repair",
            "building": "1",
            "unit": "1",
            "description": "again",
            "phone": "139 1234 5678",
        },
    )
    assert answer.status_code == 429 and "Retry-After" in answer.headers
    estate.clock.advance(timedelta(minutes=31))
    estate.report(address="198.51.100.99", phone="13912345678")


def test_uploads_scripts_html_and_guessed_tokens_are_refused_or_harmless(estate: Estate) -> None:
    form = {"site": estate.site, "category": "complaint", "building": "1", "unit": "2",
            "description": "noise at night", "phone": "13800001111"}  # fmt: skip
    resident = estate.resident("192.0.2.1")
    huge = resident.post(
        "/api/v1/public/requests",
        data=form,
        files=[("photos", ("big.jpg", b"\xff\xd8" + b"0" * (20 * 1024 * 1024), "image/jpeg"))],
    )
    assert huge.status_code == 413
    padded = resident.post("/api/v1/public/requests", json={**form, "pad": "x" * 70_000})
    assert padded.status_code == 413  # JSON has no photos: not their 16 MiB either
    script = resident.post(
        "/api/v1/public/requests",
        data=form,
        files=[("photos", ("cat.png", b"\x89PNG\r\n\x1a\n<script>alert(1)</script>", "image/png"))],
    )
    assert script.status_code == 422 and script.json()["detail"].startswith("photos: ")
    four = resident.post(
        "/api/v1/public/requests",
        data=form,
        files=[("photos", (f"{n}.jpg", jpeg_with_gps(), "image/jpeg")) for n in range(4)],
    )
    assert four.status_code in (400, 422)
    long_text = resident.post("/api/v1/public/requests", json={**form, "description": "x" * 2001})
    assert (
        long_text.status_code == 422 and long_text.json()["detail"][0]["loc"][-1] == "description"
    )
    unknown_site = resident.post("/api/v1/public/requests", json={**form, "site": "nowhere"})
    assert unknown_site.status_code == 404
    photos_dir = Path(estate.client.app.state.service.settings.data_dir) / "photos"  # type: ignore[attr-defined]
    assert not photos_dir.exists() or not any(photos_dir.rglob("*.jpg"))  # nothing kept

    html = {**form, "building": HTML[:30], "unit": HTML[:40], "description": HTML}
    created = resident.post("/api/v1/public/requests", json=html)
    assert created.status_code == 201, created.text
    stored = estate.client.get(f"/api/v1/requests/{created.json()['id']}").json()
    assert stored["description"] == HTML  # kept as written; escaped wherever it is shown
    rejected = estate.client.post(
        f"/api/v1/requests/{created.json()['id']}/reject", json={"reason": HTML}
    )
    assert rejected.status_code == 200
    page = estate.resident("192.0.2.1").get(created.json()["tracking_url"])
    assert page.status_code == 200 and page.text.count("&lt;script&gt;alert(2)") == 2
    assert "<script>alert(2)</script>" not in page.text and 'onerror="alert' not in page.text

    # the console shows it escaped, the phone masked but to an admin; a viewer sees no queue
    planner = as_(token(estate.client, "planner"))
    queue = estate.client.get("/requests", headers=planner)
    assert queue.status_code == 200 and "&lt;script&gt;" in queue.text
    assert "<script>alert(2)</script>" not in queue.text and 'onerror="alert' not in queue.text
    assert "138****1111" in queue.text and "13800001111" not in queue.text
    assert "13800001111" in estate.client.get("/requests").text  # the admin's
    notice = estate.client.get(f"/requests/notice/{estate.site}", headers=planner)
    assert notice.status_code == 200 and f"/r/{estate.site}" in notice.text
    for guess in ("A" * 32, created.json()["tracking_url"][5:-1] + "x"):
        assert resident.get(f"/api/v1/public/requests/{guess}").status_code == 404
        assert resident.get(f"/r/t/{guess}").status_code == 404
    assert resident.get("/api/v1/requests").status_code == 401  # no listing without a token
    viewer = as_(token(estate.client, "viewer"))
    assert estate.client.get("/api/v1/requests", headers=viewer).status_code == 403
    assert estate.client.get("/requests", headers=viewer).status_code == 403


def test_the_printed_notice_points_residents_at_the_public_address(
    broker: Broker, tmp_path: Path
) -> None:
    """The console is often opened at an inside address a resident's phone cannot reach."""
    site = f"pub-{uuid.uuid4().hex[:6]}"
    settings = make_settings(
        tmp_path, broker.url, sites=[site], public_url="https://wuye.example.com/"
    )
    with TestClient(create_app(build_service(settings))) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert client.put(f"/api/v1/sites/{site}", json={"name": "绿园"}).status_code == 200
        notice = client.get(f"/requests/notice/{site}")
        assert notice.status_code == 200
        assert f"https://wuye.example.com/r/{site}" in notice.text
        assert "testserver" not in notice.text
        assert client.get(f"/api/v1/sites/{site}/qr.svg").status_code == 200


def test_refusals_carry_a_code_and_the_residents_pages_say_them_in_their_language(
    estate: Estate,
) -> None:
    """The API keeps its English ``detail`` and adds the code; a Chinese page shows no English
    reason (the field and the reason both in Chinese), an English page the English one."""
    client, site = estate.client, estate.site
    first = estate.report()
    once = client.post(f"/api/v1/requests/{first['id']}/reject", json={"reason": "不归物业管"})
    assert once.status_code == 200, once.text
    twice = client.post(f"/api/v1/requests/{first['id']}/reject", json={"reason": "again"})
    assert twice.status_code == 409
    assert twice.json() == {
        "detail": f"request {first['id']} is rejected already; only a new one is accepted "
        "or rejected",
        "code": "decided_already",
        "params": {"id": first["id"], "status": "rejected"},
    }
    by_phone = {"site": site, "category": "repair", "building": "9", "unit": "1",
                "channel": "phone", "description": "lights out",
                "phone": "13911112222"}  # fmt: skip
    unknown = client.post("/api/v1/requests", json=by_phone, headers=estate.planner)
    assert unknown.status_code == 422
    assert unknown.json() == {
        "detail": "building: is not a building of this estate",
        "code": "unknown_building",
        "field": "building",
        "params": {},
    }
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for documented in ("Conflict", "HTTPValidationError"):  # the code is in the document too
        assert {"code", "field", "params"} <= set(schemas[documented]["properties"])

    resident = estate.resident("10.0.0.7")
    form = {"category": "repair", "building": "3", "unit": "1202", "description": "漏水",
            "phone": "12"}  # fmt: skip
    zh = resident.post(f"/r/{site}", data=form)
    assert zh.status_code == 422 and "联系电话: 电话号码应为7到15位数字" in zh.text
    assert "a phone number" not in zh.text
    en = resident.post(f"/r/{site}?lang=en", data=form)
    assert en.status_code == 422 and "Phone: a phone number has 7 to 15 digits" in en.text
    script = ("cat.png", b"\x89PNG\r\n\x1a\n<script>alert(1)</script>", "image/png")
    photo = resident.post(
        f"/r/{site}", data={**form, "phone": "13800001234"}, files=[("photos", script)]
    )
    assert photo.status_code == 422 and "照片: 文件不是JPG或PNG格式的照片" in photo.text
    assert "JPEG or PNG" not in photo.text

    tracking = first["tracking_url"]
    no_stars = resident.post(tracking, data={"rating": "", "comment": ""})
    assert no_stars.status_code == 422 and "评分: 请选择1到5星" in no_stars.text
    long = resident.post(f"{tracking}?lang=zh", data={"rating": "5", "comment": "好" * 1001})
    assert long.status_code == 422 and "意见: 最多1000个字" in long.text
    assert "longer than" not in long.text
    early = resident.post(tracking, data={"rating": "5"})
    assert early.status_code == 409 and "每个报事只能评价一次" in early.text


def test_a_buildings_notice_opens_the_form_with_that_building_chosen(estate: Estate) -> None:
    """Each building's QR code holds ``?building=``; the form preselects it when the site
    lists that building and ignores one it does not."""
    client, site = estate.client, estate.site
    notice = client.get(f"/requests/notice/{site}", params={"building": "3"})
    address = f"http://testserver/r/{site}?building=3"
    assert notice.status_code == 200 and f'<p class="notice-url">{address}</p>' in notice.text
    assert qr_svg(address) in notice.text
    estate_wide = client.get(f"/requests/notice/{site}", params={"building": "9"})
    assert f'<p class="notice-url">http://testserver/r/{site}</p>' in estate_wide.text
    assert qr_svg(f"http://testserver/r/{site}") in estate_wide.text

    resident = estate.resident("10.0.0.8")
    form = resident.get(f"/r/{site}", params={"building": "3"})
    assert form.status_code == 200
    assert '<option value="3" selected>' in form.text
    assert f'href="/r/{site}?lang=en&amp;building=3"' in form.text  # the switch keeps it
    assert '<option value="1" selected>' not in form.text
    for unknown in ("9", HTML[:30] + "x"):
        other = resident.get(f"/r/{site}", params={"building": unknown})
        assert other.status_code == 200 and " selected>" not in other.text.split("<select")[1]
        assert "&amp;building" not in other.text


def test_the_phone_is_masked_in_lists_and_shown_in_full_only_by_a_recorded_reveal(
    estate: Estate,
) -> None:
    """Audit item 8 of issue 16: the dispatcher who makes the follow-up call (回访) needs the
    number that every list masks; asking for it is a POST of its own, recorded without it."""
    client, site = estate.client, estate.site

    def reveals() -> list[dict[str, Any]]:
        return [e for e in events(estate, "request.phone_revealed") if e["site"] == site]

    made = estate.report(phone="+86 138 0000 5678")
    request_id = made["id"]
    opened = client.post(f"/api/v1/requests/{request_id}/accept", json={"skill": "plumbing"})
    move(estate, opened.json()["work_order_id"], "acknowledged", "in_progress", "resolved")
    estate.clock.advance(timedelta(days=3, minutes=1))
    lists = [
        client.get("/api/v1/requests", params={"site": site}, headers=estate.planner),
        client.get("/api/v1/requests/follow-ups", params={"site": site}, headers=estate.planner),
    ]
    for answer in lists:
        assert [r["phone"] for r in answer.json()["items"]] == ["138****5678"]
    one = client.get(f"/api/v1/requests/{request_id}", headers=estate.planner)
    assert one.json()["phone"] == "138****5678"
    assert reveals() == []

    viewer = as_(token(client, "viewer"))
    for caller in (viewer, estate.technician):
        refused = client.post(f"/api/v1/requests/{request_id}/phone", headers=caller)
        assert refused.status_code == 403, refused.text
        assert client.get(f"/requests/{request_id}", headers=caller).status_code == 403
    assert reveals() == []

    shown = client.post(f"/api/v1/requests/{request_id}/phone", headers=estate.planner)
    assert shown.status_code == 200, shown.text
    assert shown.json() == {"phone": "13800005678"}
    assert shown.headers["cache-control"] == "no-store"
    [recorded] = reveals()
    assert recorded["request_id"] == request_id and recorded["site"] == site
    assert recorded["actor"] == "planner-user" and recorded["role"] == "planner"
    assert "5678" not in str(recorded) and "13800005678" not in str(recorded)
    # still masked in the lists afterwards: the reveal is for this caller, this once
    again = client.get("/api/v1/requests/follow-ups", params={"site": site}, headers=estate.planner)
    assert again.json()["items"][0]["phone"] == "138****5678"
    # the request's page in the console says who was shown it, and when
    page = client.get(f"/requests/{request_id}", headers=estate.planner)
    assert page.status_code == 200 and "planner-user" in page.text
    order_page = client.get(f"/work-orders/{opened.json()['work_order_id']}")
    assert f'href="/requests/{request_id}"' in order_page.text  # the order links its request
    assert "13800005678" not in page.text and 'data-event="request.phone_revealed"' in page.text
    # a token's name is anyone's text: the history shows it escaped
    marked = as_(token(client, "planner", name=HTML))
    assert client.post(f"/api/v1/requests/{request_id}/phone", headers=marked).status_code == 200
    page = client.get(f"/requests/{request_id}", headers=estate.planner)
    assert HTML not in page.text and "&lt;script&gt;alert(2)&lt;/script&gt;" in page.text

    # a planner of another estate cannot even learn the request exists
    other = f"oth-{uuid.uuid4().hex[:6]}"
    assert client.put(f"/api/v1/sites/{other}", json={"name": "西园"}).status_code == 200
    elsewhere = as_(token(client, "planner", sites=[other]))
    hidden = client.post(f"/api/v1/requests/{request_id}/phone", headers=elsewhere)
    assert hidden.status_code == 404, hidden.text
    missing = client.post("/api/v1/requests/999999/phone", headers=estate.planner)
    assert missing.status_code == 404
    assert len(reveals()) == 2

    # the event log forgets after 30 days (the hourly retention job); the record of who was
    # shown the number does not, while the number is kept
    service = client.app.state.service  # type: ignore[attr-defined]
    settings = service.settings
    log_retention = Retention(
        service.events,
        service.store,
        estate.clock,
        events_kept=timedelta(days=settings.events_retention_days),
        telemetry_kept=timedelta(days=settings.retention_days),
    )
    estate.clock.advance(timedelta(days=31))
    assert log_retention.prune()[0] >= 5 and reveals() == []
    assert service.residents.prune() == 0
    page = client.get(f"/requests/{request_id}", headers=estate.planner)
    assert 'data-event="request.received"' not in page.text  # the log's own steps are gone
    assert page.text.count('data-event="request.phone_revealed"') == 2
    assert "planner-user" in page.text and "&lt;script&gt;alert(2)&lt;/script&gt;" in page.text
    assert HTML not in page.text and "13800005678" not in page.text
    assert [(r.actor, r.role) for r in service.residents.reveals(request_id)] == [
        ("planner-user", "planner"),
        (HTML, "planner"),
    ]

    # the day before its retention ends the residents' prune keeps the request and its reveals
    estate.clock.advance(timedelta(days=330))  # 364 days and a minute after it came
    assert service.residents.prune() == 0
    assert len(service.residents.reveals(request_id)) == 2
    # past its retention a request holds no phone to give, even before the hourly prune ran
    estate.clock.advance(timedelta(days=2))
    gone = client.post(f"/api/v1/requests/{request_id}/phone", headers=estate.planner)
    assert gone.status_code == 404, gone.text
    assert len(service.residents.reveals(request_id)) == 2 and reveals() == []  # none recorded
    # and the prune takes the record of its reveals with it
    assert service.residents.prune() == 1
    assert service.residents.reveals(request_id) == []
    with service.sessions() as session:
        assert session.scalars(select(PhoneRevealRow)).all() == []
    assert client.get(f"/requests/{request_id}", headers=estate.planner).status_code == 404
