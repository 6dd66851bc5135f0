"""Africa's Talking's callbacks and their one guard: the URL token and the per-address limit.

Every screen and text of every caller reaches us from Africa's Talking's few gateway
addresses. At 08:00 a few thousand people clocking in are more callbacks a minute than the
per-address limit allows a stranger (bench/rush.py lost 60 of 2,000 clock-ins to 429s), so
a callback that shows the configured token is never limited per address, and one that does
not is limited and, with a token configured, refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.africastalking import callbacks
from hrcore.config import get_settings
from hrcore.identities.models import InboundMessage
from tests.factories import make_org, make_user

TOKEN = "s3cret-path-token-for-at"
USSD = "/channels/africastalking/ussd"
EVENTS = "/channels/africastalking/ussd/events"
SMS = "/channels/africastalking/sms"
REPORTS = "/channels/africastalking/sms/delivery"


@pytest.fixture
def token_set(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AT_CALLBACK_TOKEN", TOKEN)
    callbacks.get_callback_settings.cache_clear()
    yield
    monkeypatch.delenv("AT_CALLBACK_TOKEN")
    callbacks.get_callback_settings.cache_clear()


@pytest.fixture
def tight_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "webhook_limit", "2/minute")


def post(client: TestClient, path: str, fields: dict[str, str], **params: str) -> Any:
    return client.post(
        path,
        content=urlencode(fields),
        params=params,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def screen(session_id: str, phone: str, text: str = "") -> dict[str, str]:
    return {"sessionId": session_id, "serviceCode": "*384*12345#", "phoneNumber": phone,
            "networkCode": "63902", "text": text}  # fmt: skip


def text_message(message_id: str, sender: str = "+254711999001") -> dict[str, str]:
    return {"from": sender, "to": "22384", "text": "clock me in", "id": message_id,
            "date": "2026-12-01 08:00:00", "linkId": "", "networkCode": "63902"}  # fmt: skip


def report(message_id: str) -> dict[str, str]:
    return {"id": message_id, "status": "Success", "phoneNumber": "+254711999001"}


def sms_handled(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def test_the_gateway_showing_the_token_is_never_limited_per_address(
    client: TestClient, session: Session, token_set: None, tight_limit: None
) -> None:
    org = make_org(session)
    john = make_user(session, org, phone="+254711999002")
    assert john.phone is not None
    for n in range(6):
        dialled = post(client, USSD, screen(f"ATUid_rush{n}", john.phone), token=TOKEN)
        assert dialled.status_code == 200, dialled.text
        assert dialled.text.startswith("CON ")
        ended = post(client, EVENTS, {"sessionId": f"ATUid_rush{n}", "status": "Incomplete"},
                     token=TOKEN)  # fmt: skip
        assert ended.status_code == 200, ended.text
        assert post(client, SMS, text_message(f"rush-{n}"), token=TOKEN).status_code == 200
        assert post(client, REPORTS, report(f"ATXid_{n}"), token=TOKEN).status_code == 200
    assert sms_handled(session) >= 6


def test_without_the_token_a_callback_is_limited_then_refused(
    client: TestClient, session: Session, token_set: None, tight_limit: None
) -> None:
    answers = [post(client, SMS, text_message(f"forged-{n}")) for n in range(3)]
    assert [a.status_code for a in answers] == [403, 403, 429]
    assert answers[0].json()["code"] == "invalid_callback_token"
    assert "Retry-After" in answers[2].headers
    wrong = post(client, REPORTS, report("ATXid_1"), token="wrong")
    assert wrong.status_code == 429
    assert sms_handled(session) == 0, "a refused text is never handled"


@pytest.mark.parametrize("path", [SMS, REPORTS])
def test_with_a_token_set_every_callback_must_carry_it(
    client: TestClient, session: Session, token_set: None, path: str
) -> None:
    fields = text_message("no-token") if path == SMS else report("ATXid_2")
    for given in ({}, {"token": "wrong"}):
        refused = post(client, path, fields, **given)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "invalid_callback_token"
    assert sms_handled(session) == 0
    assert post(client, path, fields, token=TOKEN).status_code == 200


def test_without_a_token_configured_every_callback_is_limited_per_address(
    client: TestClient, session: Session, tight_limit: None
) -> None:
    answers = [post(client, SMS, text_message(f"plain-{n}")) for n in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    # A token means nothing when none is set: still a stranger's request.
    limited = post(client, REPORTS, report("ATXid_3"), token=TOKEN)
    assert limited.status_code == 429
