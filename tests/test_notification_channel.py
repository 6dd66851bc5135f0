"""Which channel a notification takes by default: the chat app a person last wrote from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hrcore.actor import Channel
from hrcore.clock import frozen
from hrcore.identities import service as identities
from hrcore.notifications.service import notify, preferred_channel
from tests.factories import Team
from tests.fakes.outbox_support import settings_env

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
CHAT_APPS = {
    "TELEGRAM_BOT_TOKEN": "123456:TEST",
    "WHATSAPP_TOKEN": "wa-token",
    "WHATSAPP_PHONE_NUMBER_ID": "1055",
}
OFF = dict.fromkeys(CHAT_APPS)


def test_the_chat_app_last_written_from_wins_when_it_is_set_up(session: Session) -> None:
    team = Team(session)
    john = team.employee
    assert john.phone
    with frozen(NOW):
        telegram = identities.link(session, john, Channel.TELEGRAM, "4242", verified_via="test")
        whatsapp = identities.link(session, john, Channel.WHATSAPP, john.phone, verified_via="t")
    telegram.last_seen_at = NOW - timedelta(hours=1)
    whatsapp.last_seen_at = NOW - timedelta(days=2)
    session.flush()

    with settings_env(**CHAT_APPS):
        assert preferred_channel(john) is Channel.TELEGRAM
        whatsapp.last_seen_at = NOW
        session.flush()
        assert preferred_channel(john) is Channel.WHATSAPP
        assert notify(session, john, kind="test", text="hello").channel is Channel.WHATSAPP
    with settings_env(**{**CHAT_APPS, "WHATSAPP_TOKEN": None}):
        assert preferred_channel(john) is Channel.TELEGRAM  # WhatsApp is not set up here
    with settings_env(**OFF):
        assert preferred_channel(john) is Channel.SMS  # no chat app: the phone


def test_without_any_chat_app_identity_the_phone_is_used(session: Session) -> None:
    team = Team(session)
    with settings_env(**CHAT_APPS):
        assert preferred_channel(team.teammate) is Channel.SMS
