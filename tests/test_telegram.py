"""Telegram over the real webhook, the real assistant and python-telegram-bot against a
local stand-in of the Bot API: what the database holds and what Telegram was asked."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from assistant import memory
from channels.delivery import deliver
from channels.messages import Confirmation, Reply
from channels.telegram import render
from channels.telegram.link import contact_phone
from hrcore.actor import Channel
from hrcore.attendance.models import AttendanceRecord, GeofenceStatus, LocationSource
from hrcore.clock import frozen
from hrcore.identities import service as identities
from hrcore.identities.models import ChannelIdentity, InboundMessage
from hrcore.leave.models import LeaveRequest, LeaveStatus
from hrcore.notifications import outbox
from hrcore.notifications.models import AttemptOutcome, NotificationStatus
from hrcore.notifications.service import notify
from hrcore.people.models import GeofenceMode, User
from tests.factories import Team, arranging, make_site
from tests.fakes import telegram_server as tg
from tests.fakes.outbox_support import (
    attempts,
    committed_team,
    row,
    settings_env,
    wait_for,
)

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
WEBHOOK = "/channels/telegram/webhook"
SECRET = "tg-secret_for-tests_only"
# Monday 23 November 2026, 09:00 in Nairobi.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
# The user and chat of the documented payloads, and the number in contact.json.
USER_ID = 5123456789
PHONE = "+254711000001"
SITE = (-1.2921, 36.8219)

_update_ids = iter(range(900_000_000, 999_999_999))


def payload(name: str, **message: Any) -> dict[str, Any]:
    """A documented payload with a fresh update_id; `message` overrides message fields."""
    body = copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))
    body["update_id"] = next(_update_ids)
    if message:
        body["message"].update(message)
    return body


def text_update(text: str, **message: Any) -> dict[str, Any]:
    return payload("text_message", text=text, **message)


def press(data: str) -> dict[str, Any]:
    """callback_query.json with our button's data."""
    body = payload("callback_query")
    body["callback_query"]["data"] = data
    return body


# ------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def app(engine: object) -> FastAPI:
    memory.setup_checkpointer()
    return create_app()


@pytest.fixture(scope="module")
def module_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
        client.portal.call(memory.close_async_checkpointer)  # type: ignore[union-attr]


@pytest.fixture
def telegram() -> Iterator[tg.FakeTelegram]:
    with tg.running() as server, settings_env(**tg.env(server, secret=SECRET)):
        yield server


@pytest.fixture
def client(
    module_client: TestClient, session: Session, telegram: tg.FakeTelegram
) -> Iterator[TestClient]:
    with frozen(NOW):
        yield module_client


pytestmark = [pytest.mark.team(leave_types=True), pytest.mark.one_committed_database]


@pytest.fixture
def telegram_team(session: Session, team: Team) -> Team:
    """The demo team; its employee, Wanjiku, has the number her Telegram account shares."""
    team.employee.phone = PHONE
    team.employee.full_name = "Wanjiku Mwangi"
    session.flush()
    return team


@pytest.fixture
def wanjiku(session: Session, telegram_team: Team) -> User:
    """The employee, her Telegram account already linked."""
    identities.link(
        session,
        telegram_team.employee,
        Channel.TELEGRAM,
        str(USER_ID),
        verified_via="telegram_contact",
        reply_to=str(USER_ID),
    )
    session.flush()
    return telegram_team.employee


def post(client: TestClient, body: Any, *, secret: str | None = SECRET) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(WEBHOOK, content=content, headers=headers)


def deliver_update(client: TestClient, body: dict[str, Any]) -> None:
    response = post(client, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "received"}


def texts(telegram: tg.FakeTelegram) -> list[str]:
    return [c.params["text"] for c in telegram.sent_to(USER_ID)]


def last_markup(telegram: tg.FakeTelegram) -> dict[str, Any]:
    return telegram.sent_to(USER_ID)[-1].params["reply_markup"]


def handled_updates(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(InboundMessage.external_id).where(InboundMessage.channel == Channel.TELEGRAM)
        )
    )


def telegram_identity(session: Session) -> ChannelIdentity | None:
    return session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == Channel.TELEGRAM, ChannelIdentity.address == str(USER_ID)
        )
    )


# ------------------------------------------------------------------------ the door


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
def test_a_missing_or_wrong_secret_is_401_and_nothing_is_handled(
    client: TestClient,
    session: Session,
    telegram_team: Team,
    telegram: tg.FakeTelegram,
    secret: str | None,
) -> None:
    response = post(client, payload("start_command"), secret=secret)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_telegram_secret"
    assert handled_updates(session) == []
    assert telegram.calls == []


def test_without_a_token_and_secret_the_webhook_is_off(
    module_client: TestClient, session: Session
) -> None:
    with settings_env(TELEGRAM_BOT_TOKEN=None, TELEGRAM_WEBHOOK_SECRET=None):
        response = post(module_client, payload("start_command"))
    assert response.status_code == 404
    assert response.json()["code"] == "telegram_not_configured"
    with settings_env(TELEGRAM_BOT_TOKEN=tg.TOKEN, TELEGRAM_WEBHOOK_SECRET=None):
        # A token alone is not enough: without the secret anyone could post updates.
        assert post(module_client, payload("start_command")).status_code == 404


@pytest.mark.parametrize(
    "body", ["{not json", "[1, 2]", '{"message": {}}', '{"update_id": "7"}', b"\xff\xfe"]
)
def test_a_body_that_is_not_an_update_is_400(
    client: TestClient, session: Session, telegram: tg.FakeTelegram, body: str | bytes
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_update"
    assert telegram.calls == []


@pytest.mark.parametrize("kind", ["edited_message", "channel_post", "my_chat_member"])
def test_updates_that_are_not_ours_are_acknowledged_and_ignored(
    client: TestClient, session: Session, wanjiku: User, telegram: tg.FakeTelegram, kind: str
) -> None:
    body = payload("text_message")
    message = body.pop("message")
    if kind == "my_chat_member":
        body[kind] = {
            "chat": message["chat"],
            "from": message["from"],
            "date": message["date"],
            "old_chat_member": {"status": "member", "user": tg.BOT_USER},
            "new_chat_member": {"status": "kicked", "user": tg.BOT_USER, "until_date": 0},
        }
    else:
        body[kind] = {**message, "edit_date": message["date"] + 5, "text": "clock me in"}
    response = post(client, body)
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert telegram.calls == []
    assert handled_updates(session) == []
    assert session.scalars(select(AttendanceRecord)).all() == []


def test_a_group_chat_is_never_answered(
    client: TestClient, session: Session, wanjiku: User, telegram: tg.FakeTelegram
) -> None:
    body = text_update("how many leave days do I have left?")
    body["message"]["chat"] = {"id": -100123, "title": "Depot staff", "type": "group"}
    assert post(client, body).json() == {"status": "ignored"}
    assert telegram.calls == []


# ------------------------------------------------------------------------ linking


def test_a_stranger_is_asked_to_share_their_own_number(
    client: TestClient, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    deliver_update(client, payload("start_command"))
    (call,) = telegram.sent_to(USER_ID)
    assert "share your phone number" in call.params["text"]
    (button,) = call.params["reply_markup"]["keyboard"][0]
    assert button["request_contact"] is True
    assert telegram_identity(session) is None


def test_a_swahili_speaking_stranger_is_asked_in_swahili(
    client: TestClient, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    body = payload("start_command")
    body["message"]["from"]["language_code"] = "sw"
    deliver_update(client, body)
    assert "bonyeza kitufe" in texts(telegram)[0]
    deliver_update(client, text_update("nataka likizo kesho"))
    assert "Shiriki namba yangu" in json.dumps(last_markup(telegram), ensure_ascii=False)


def test_sharing_ones_own_number_links_the_account_and_greets_by_name(
    client: TestClient, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    deliver_update(client, payload("contact"))
    identity = telegram_identity(session)
    assert identity is not None
    assert (identity.user_id, identity.verified_via, identity.reply_to) == (
        telegram_team.employee.id,
        "telegram_contact",
        str(USER_ID),
    )
    (greeting,) = texts(telegram)
    assert greeting.startswith("Welcome, Wanjiku!")
    assert last_markup(telegram) == {"remove_keyboard": True}
    # From now on the same account is Wanjiku.
    resolved = identities.resolve(session, Channel.TELEGRAM, str(USER_ID))
    assert resolved.actor is not None
    assert resolved.actor.user_id == telegram_team.employee.id


def test_someone_elses_contact_card_links_nothing(
    client: TestClient, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    body = payload("contact")
    body["message"]["contact"]["user_id"] = 5999999999  # Wanjiku's card, forwarded by another
    deliver_update(client, body)
    assert telegram_identity(session) is None
    (told,) = texts(telegram)
    assert "belongs to someone else" in told
    assert last_markup(telegram)["keyboard"][0][0]["request_contact"] is True
    # A card without any Telegram account behind it is not the sender's either.
    body = payload("contact")
    del body["message"]["contact"]["user_id"]
    deliver_update(client, body)
    assert telegram_identity(session) is None


def test_an_unknown_number_is_told_to_ask_hr(
    client: TestClient, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    body = payload("contact")
    body["message"]["contact"]["phone_number"] = "254722999000"
    deliver_update(client, body)
    assert telegram_identity(session) is None
    (told,) = texts(telegram)
    assert "+254722999000 is not on any employee record" in told
    assert "HR" in told


def test_a_deactivated_employee_is_told_their_access_ended(
    client: TestClient, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    telegram_team.employee.is_active = False
    session.flush()
    deliver_update(client, payload("contact"))
    assert telegram_identity(session) is None
    (told,) = texts(telegram)
    assert "access to Ajira has ended" in told


def test_a_redelivered_contact_links_and_greets_once(
    client: TestClient, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    body = payload("contact")
    deliver_update(client, body)
    deliver_update(client, body)
    assert len(texts(telegram)) == 1
    assert len(session.scalars(select(ChannelIdentity)).all()) == 1


# ------------------------------------------------------------------------ conversation


def test_clock_me_in_clocks_in_and_answers(
    client: TestClient, session: Session, wanjiku: User, telegram: tg.FakeTelegram
) -> None:
    deliver_update(client, text_update("clock me in"))
    (shift,) = session.scalars(select(AttendanceRecord)).all()
    assert (shift.employee_id, shift.method_in, shift.clock_out_at) == (
        wanjiku.id,
        Channel.TELEGRAM,
        None,
    )
    (answer,) = texts(telegram)
    assert "09:00" in answer


def test_leave_in_swahili_asks_with_two_buttons_then_yes_files_it_once(
    client: TestClient, session: Session, wanjiku: User, telegram: tg.FakeTelegram
) -> None:
    deliver_update(client, text_update("nataka likizo tarehe 1 hadi 4 Desemba"))
    assert session.scalars(select(LeaveRequest)).all() == []  # nothing until the yes
    (question,) = telegram.sent_to(USER_ID)
    assert "Thibitisha?" in question.params["text"]
    (yes, no) = question.params["reply_markup"]["inline_keyboard"][0]
    assert (yes["text"], no["text"]) == ("Ndiyo", "Hapana")
    assert all(len(b["callback_data"].encode()) <= 64 for b in (yes, no))

    pressed = press(yes["callback_data"])
    deliver_update(client, pressed)
    deliver_update(client, pressed)  # Telegram's redelivery of the same press

    (request,) = session.scalars(select(LeaveRequest)).all()
    assert (request.employee_id, request.status) == (wanjiku.id, LeaveStatus.PENDING)
    assert (request.start_date, request.end_date) == (date(2026, 12, 1), date(2026, 12, 4))
    # Both deliveries answered, plainly (the spinner stops), and the redelivery did nothing.
    answered = telegram.of("answerCallbackQuery")
    assert [c.params["callback_query_id"] for c in answered] == ["4278655576057498272"] * 2
    assert all("text" not in c.params for c in answered)
    # The buttons were taken off the question, and the outcome was said in Swahili.
    (dropped, *_) = telegram.of("editMessageReplyMarkup")
    assert dropped.params["message_id"] == "60"
    assert len(texts(telegram)) == 2


def test_an_old_button_never_answers_a_newer_question(
    client: TestClient, session: Session, wanjiku: User, telegram: tg.FakeTelegram
) -> None:
    deliver_update(client, text_update("nataka likizo tarehe 1 hadi 4 Desemba"))
    old_yes = last_markup(telegram)["inline_keyboard"][0][0]["callback_data"]
    deliver_update(client, press(render.confirm_data("no", old_yes.split(":")[2])))
    deliver_update(client, text_update("nataka likizo tarehe 7 hadi 8 Desemba"))
    sent_before = len(texts(telegram))

    deliver_update(client, press(old_yes))  # the first question's yes, pressed later

    assert session.scalars(select(LeaveRequest)).all() == []
    assert len(texts(telegram)) == sent_before  # nothing said in the chat
    note = telegram.of("answerCallbackQuery")[-1]
    # She wrote in Swahili, so the assistant now speaks Swahili with her.
    assert "hakitumiki tena" in note.params["text"]


def test_a_button_that_is_not_ours_is_answered_and_does_nothing(
    client: TestClient, session: Session, wanjiku: User, telegram: tg.FakeTelegram
) -> None:
    deliver_update(client, payload("callback_query"))  # data "leave:submit:LR-1042"
    (answer,) = telegram.of("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "4278655576057498272"
    assert "no longer active" in answer.params["text"]
    assert telegram.of("sendMessage") == []
    assert session.scalars(select(LeaveRequest)).all() == []


def test_a_photo_or_an_endless_text_gets_a_short_explanation_only(
    client: TestClient, session: Session, wanjiku: User, telegram: tg.FakeTelegram
) -> None:
    photo = payload("text_message")
    del photo["message"]["text"]
    photo["message"]["photo"] = [
        {"file_id": "AgACAgQ", "file_unique_id": "AQAD", "width": 90, "height": 67}
    ]
    deliver_update(client, photo)
    deliver_update(client, photo)  # redelivered: not explained twice
    deliver_update(client, text_update("clock me in " * 400))
    (explained, too_long) = texts(telegram)
    assert "only read text messages" in explained
    assert "too long" in too_long
    assert session.scalars(select(AttendanceRecord)).all() == []


# ------------------------------------------------------------------------ location


@pytest.fixture
def fenced(session: Session, wanjiku: User) -> User:
    """Wanjiku's employer checks where people clock in (flagging, not refusing)."""
    org = wanjiku.organization
    org.geofence_mode = GeofenceMode.FLAG
    make_site(session, org, name="Industrial Area depot", latitude=SITE[0], longitude=SITE[1])
    session.flush()
    return wanjiku


def location_update(*, live_period: int | None, sent: datetime) -> dict[str, Any]:
    body = payload("text_message")
    del body["message"]["text"]
    body["message"]["date"] = int(sent.timestamp())
    place: dict[str, Any] = {"latitude": SITE[0], "longitude": SITE[1], "horizontal_accuracy": 12}
    if live_period is not None:
        place["live_period"] = live_period
    body["message"]["location"] = place
    return body


def test_a_fresh_live_location_clocks_in_as_live_then_out(
    client: TestClient, session: Session, fenced: User, telegram: tg.FakeTelegram
) -> None:
    deliver_update(client, location_update(live_period=900, sent=NOW - timedelta(seconds=30)))
    (shift,) = session.scalars(select(AttendanceRecord)).all()
    assert shift.location_source_in is LocationSource.LIVE
    assert shift.geofence_status is GeofenceStatus.INSIDE
    assert (shift.latitude_in, shift.accuracy_in_m) == (SITE[0], 12)
    assert "live location" in texts(telegram)[0]

    with frozen(NOW + timedelta(hours=8)):
        deliver_update(client, location_update(live_period=900, sent=NOW + timedelta(hours=8)))
    session.refresh(shift)
    assert shift.clock_out_at == NOW + timedelta(hours=8)
    assert shift.location_source_out is LocationSource.LIVE
    assert texts(telegram)[1].startswith("Clocked out at 17:00")


@pytest.mark.parametrize(
    ("live_period", "age"),
    [(900, timedelta(minutes=5)), (None, timedelta(seconds=5))],
    ids=["stale-live-location", "pin"],
)
def test_a_stale_live_location_or_a_pin_is_only_evidence(
    client: TestClient,
    session: Session,
    fenced: User,
    telegram: tg.FakeTelegram,
    live_period: int | None,
    age: timedelta,
) -> None:
    deliver_update(client, location_update(live_period=live_period, sent=NOW - age))
    (shift,) = session.scalars(select(AttendanceRecord)).all()
    assert shift.location_source_in is LocationSource.PIN
    (answer,) = texts(telegram)
    assert "evidence" in answer
    assert "not proof" in answer


def test_a_stranger_sharing_a_location_clocks_nobody_in(
    client: TestClient, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    deliver_update(client, location_update(live_period=None, sent=NOW))
    assert session.scalars(select(AttendanceRecord)).all() == []
    assert last_markup(telegram)["keyboard"][0][0]["request_contact"] is True


# ------------------------------------------------------------------------ rendering


def test_long_replies_are_split_within_telegrams_limit() -> None:
    sentence = "Annual leave is 21 working days a year and accrues monthly. "
    parts = render.render(Reply(text=sentence * 200))
    assert len(parts) > 1
    assert all(len(p.text) <= 4096 for p in parts)
    assert "".join(p.text.replace(" ", "") for p in parts) == (sentence * 200).replace(" ", "")


def test_a_confirmation_carries_a_short_key_not_its_payload() -> None:
    args = {"leave_type": "annual", "reason": "x" * 500, "start_date": "2026-12-01"}
    reply = Reply(
        text="ignored",
        confirmation=Confirmation(
            "request_leave", args, "Annual leave, 5 days", "Confirm?", "Yes", "No"
        ),
    )
    (message,) = render.render(reply)
    buttons = message.markup.inline_keyboard[0]  # type: ignore[union-attr]
    assert [b.text for b in buttons] == ["Yes", "No"]
    assert all(len(str(b.callback_data).encode()) <= 64 for b in buttons)
    assert render.parse_callback(str(buttons[0].callback_data)) == render.Pressed(
        "yes", render.action_digest("request_leave", args)
    )
    assert render.parse_callback("leave:submit:LR-1042") is None
    assert render.parse_callback(None) is None


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("254711000001", "+254711000001"),
        ("+254711000001", "+254711000001"),
        ("0788531373", "+254788531373"),
        ("255700000002", "+255700000002"),
        ("12", None),
    ],
)
def test_shared_numbers_are_read_as_telegram_sends_them(raw: str, phone: str | None) -> None:
    assert contact_phone(raw) == phone


# ------------------------------------------------------------------------ notifications


@pytest.fixture
def committed(committed_engine: Engine) -> Iterator[Engine]:
    """The module's committed database, its deliveries run in the committing thread."""
    outbox.skip_in_process_sweeps(3600)
    outbox.run_inline(True)
    try:
        yield committed_engine
    finally:
        outbox.run_inline(False)


@pytest.fixture
def linked_in_db(committed: Engine, telegram: tg.FakeTelegram) -> Iterator[int]:
    """A committed employee whose Telegram chat is linked; their id."""
    with committed_team(committed) as team, arranging(Session(committed)) as session:
        user = session.get(User, team.employee.id)
        assert user is not None
        identities.link(
            session,
            user,
            Channel.TELEGRAM,
            str(USER_ID),
            verified_via="telegram_contact",
            reply_to=str(USER_ID),
        )
        session.commit()
        yield user.id


def notify_now(engine: Engine, user_id: int) -> int:
    with arranging(Session(engine)) as session:
        user = session.get(User, user_id)
        assert user is not None
        note = notify(
            session,
            user,
            kind="leave.approved",
            text="Your leave was approved.",
            channel=Channel.TELEGRAM,
        )
        session.commit()
        return note.id


def test_a_notification_reaches_the_linked_chat(
    committed: Engine, linked_in_db: int, telegram: tg.FakeTelegram
) -> None:
    nid = notify_now(committed, linked_in_db)
    (call,) = telegram.of("sendMessage")
    assert (call.params["chat_id"], call.params["text"]) == (
        str(USER_ID),
        "Your leave was approved.",
    )
    sent = row(committed, nid)
    assert sent.status is NotificationStatus.SENT
    assert sent.provider_message_id == "1001"
    assert deliver(nid) == "skipped"
    assert len(telegram.of("sendMessage")) == 1


def test_a_blocked_bot_fails_the_notification_without_a_retry(
    committed: Engine, linked_in_db: int, telegram: tg.FakeTelegram
) -> None:
    telegram.fail("sendMessage", tg.BLOCKED)
    nid = notify_now(committed, linked_in_db)
    failed = row(committed, nid)
    assert failed.status is NotificationStatus.FAILED
    assert [(a.outcome, a.error_code) for a in attempts(committed, nid)] == [
        (AttemptOutcome.FAILED, "bot_blocked")
    ]
    assert len(telegram.of("sendMessage")) == 1


def test_a_telegram_500_is_tried_again(
    committed: Engine, linked_in_db: int, telegram: tg.FakeTelegram
) -> None:
    telegram.fail("sendMessage", tg.SERVER_ERROR)
    with settings_env(AJIRA_OUTBOX_RETRY_BASE="0.2", **tg.env(telegram, secret=SECRET)):
        nid = notify_now(committed, linked_in_db)
        wait_for(lambda: row(committed, nid).status is NotificationStatus.SENT)
    assert [(a.outcome, a.error_code) for a in attempts(committed, nid)] == [
        (AttemptOutcome.RETRY, "unavailable"),
        (AttemptOutcome.SENT, None),
    ]
    assert len(telegram.of("sendMessage")) == 2


# ------------------------------------------------------------------------ command line


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "200"})


def test_set_webhook_registers_the_url_with_the_secret(
    runner: CliRunner, telegram: tg.FakeTelegram
) -> None:
    url = "https://hr.example.co.ke/channels/telegram/webhook"
    result = runner.invoke(cli, ["telegram-set-webhook", url])
    assert result.exit_code == 0, result.output
    (call,) = telegram.of("setWebhook")
    assert call.params["url"] == url
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]
    assert f"url: {url}" in result.output


@pytest.mark.parametrize(
    "url", ["http://hr.example.co.ke/channels/telegram/webhook", "ftp://x", "not a url"]
)
def test_set_webhook_refuses_plain_http_except_localhost(
    runner: CliRunner, telegram: tg.FakeTelegram, url: str
) -> None:
    result = runner.invoke(cli, ["telegram-set-webhook", url])
    assert result.exit_code == 1
    assert "https://" in result.output
    assert telegram.calls == []
    local = runner.invoke(cli, ["telegram-set-webhook", "http://localhost:8081/hook"])
    assert local.exit_code == 0, local.output


def test_poll_feeds_updates_through_the_webhooks_handler(
    runner: CliRunner, session: Session, telegram_team: Team, telegram: tg.FakeTelegram
) -> None:
    update = payload("start_command")
    telegram.queue_updates(update)
    with frozen(NOW):
        result = runner.invoke(cli, ["telegram-poll", "--once"])
    assert result.exit_code == 0, result.output
    assert f"update {update['update_id']}: unknown" in result.output
    (call,) = telegram.sent_to(USER_ID)
    assert call.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    # The next poll confirms the update, so Telegram does not hand it out again.
    first, second = telegram.of("getUpdates")
    assert "offset" not in first.params
    assert second.params["offset"] == str(update["update_id"] + 1)
    assert handled_updates(session) == [f"tg:{update['update_id']}"]


def test_poll_leaves_a_webhook_alone_unless_told(
    runner: CliRunner, telegram: tg.FakeTelegram
) -> None:
    telegram.webhook_url = "https://hr.example.co.ke/channels/telegram/webhook"
    result = runner.invoke(cli, ["telegram-poll", "--once"])
    assert result.exit_code == 1
    assert "--delete-webhook" in result.output
    assert telegram.of("getUpdates") == []
