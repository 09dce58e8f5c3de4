"""The Apprise adapter: each send's error is its own though sends run side by side (real
webhooks, real threads), and an error never shows a receiver's secrets."""

from __future__ import annotations

import threading

import pytest

from facility_dispatch.notify.apprise_sender import AppriseSender, DeliveryFailedError
from tests.notify.receivers import Webhook
from tests.services import free_port


def _error(sender: AppriseSender, url: str) -> str:
    try:
        sender.send(url, "title", "body")
    except DeliveryFailedError as failure:
        return str(failure)
    return ""


def test_a_send_keeps_its_own_error_while_another_fails_beside_it() -> None:
    sender = AppriseSender()
    held = Webhook(hold=threading.Event(), status=500)
    held.start()
    errors: dict[str, str] = {}
    try:
        slow = f"json://127.0.0.1:{held.port}/hook?rto=20"
        first = threading.Thread(target=lambda: errors.update(held=_error(sender, slow)))
        first.start()  # waits for the held webhook; meanwhile another receiver fails
        errors["refused"] = _error(sender, f"json://127.0.0.2:{free_port()}/hook")
        assert "127.0.0.2" in errors["refused"]
    finally:
        held.hold.set()  # type: ignore[union-attr]
        first.join(30)
        held.stop()
    assert "127.0.0.2" not in errors["held"], "the other's failure is not its error"
    assert "500" in errors["held"] or "Internal Server Error" in errors["held"], errors["held"]


SECRET = "s3cr3t-Pa55word"
KEY = "693a91f6-7b2c-4d9e-a1c3-0f5e8d7b6a42"


@pytest.mark.parametrize(
    ("url", "text", "hidden"),
    [
        (f"mailto://ops:{SECRET}@mail.example.com", f"login as ops:{SECRET} refused", SECRET),
        (f"json://hooks.example.com/desk/{KEY}", f"POST /desk/{KEY}: 500", KEY),
        (
            f"wecombot://{KEY.replace('-', '')}",
            f"bad key {KEY.replace('-', '')}",
            KEY[9:30].replace("-", ""),
        ),
        ("json://example.com/x", f"redirected to https://u:{SECRET}@other/", SECRET),
    ],
)
def test_an_error_hides_the_receivers_secrets(url: str, text: str, hidden: str) -> None:
    shown = AppriseSender().scrub(text, url)
    assert hidden not in shown and shown != text, shown
