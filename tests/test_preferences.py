"""Preferences: each person's channel, quiet hours and reminders; the employer's automations."""

from __future__ import annotations

from datetime import date, time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore.actor import Channel
from hrcore.automations import preferences
from hrcore.automations import service as automations
from hrcore.errors import Forbidden, Invalid
from hrcore.notifications.models import Notification
from hrcore.notifications.service import notify
from tests.factories import Team, bearer, refused

TOOLS = "/api/v1/tools"


def test_a_chosen_channel_and_quiet_hours_are_kept_and_used(session: Session) -> None:
    team = Team(session)
    john = team.actor("employee")
    view = preferences.set_preferences(
        session, john, channel="web", quiet_start=time(20, 0), quiet_end=time(7, 0)
    )
    assert (view.channel, view.channel_now) == ("web", "web")
    assert notify(session, team.employee, kind="test", text="hi").channel is Channel.WEB
    back = preferences.set_preferences(session, john, channel="default", no_quiet_hours=True)
    assert (back.channel, back.channel_now, back.quiet_start) == ("default", "sms", None)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"channel": "pigeon"}, "unknown_channel"),
        ({"quiet_start": time(20, 0)}, "quiet_hours_incomplete"),
        ({"quiet_start": time(8, 0), "quiet_end": time(8, 0)}, "quiet_hours_empty"),
        ({"mute": ["everything"]}, "unknown_automation"),
        ({"mute": ["approval_reminder"]}, "automation_not_mutable"),
    ],
)
def test_a_malformed_preference_is_refused_and_nothing_changes(
    session: Session, kwargs: dict, code: str
) -> None:
    team = Team(session)
    with refused(Invalid) as err:
        preferences.set_preferences(session, team.actor("employee"), **kwargs)
    assert err.value.code == code
    session.refresh(team.employee)
    assert team.employee.notify_channel is None
    assert team.employee.quiet_start is None


def test_stopping_the_mood_reminders_stops_them(session: Session) -> None:
    team = Team(session)
    preferences.set_preferences(session, team.actor("employee"), mute=["mood_invitation"])
    automations.run_one(session, team.org, "mood_invitation", date(2026, 11, 23), force_time=True)
    sent_to = set(
        session.scalars(
            select(Notification.recipient_id).where(Notification.kind == "mood_invitation")
        )
    )
    assert team.employee.id not in sent_to
    assert team.teammate.id in sent_to


def test_only_admins_change_the_employers_automations(session: Session) -> None:
    team = Team(session)
    with refused(Forbidden):
        preferences.automation_settings(
            session, team.actor("hr"), name="midday_check", enabled=False
        )
    rows = preferences.automation_settings(
        session, team.actor("admin"), name="late_digest", at=time(9, 15)
    )
    digest = next(r for r in rows if r.name == "late_digest")
    assert (digest.enabled, digest.at) == (True, time(9, 15))
    assert automations.setting_of(session, team.org, "late_digest") == (True, time(9, 15))


def test_preferences_over_rest_refuse_a_time_of_25_00(client: TestClient, session: Session):
    team = Team(session)
    headers = bearer(team.employee)
    bad = client.post(
        f"{TOOLS}/set_preferences", json={"quiet_start": "25:00", "quiet_end": "07:00"},
        headers=headers,
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["code"]
    good = client.post(f"{TOOLS}/set_preferences", json={"channel": "web"}, headers=headers)
    assert good.status_code == 200, good.text
    assert good.json()["channel"] == "web"
    shown = client.post(f"{TOOLS}/get_preferences", json={}, headers=headers)
    assert shown.json()["channel_now"] == "web"


def test_quiet_hours_are_kept_to_the_minute_and_answered_as_the_schema_says(
    client: TestClient, session: Session
):
    import re

    team = Team(session)
    answer = client.post(
        f"{TOOLS}/set_preferences",
        json={"quiet_start": "21:30:15.5", "quiet_end": "06:45"},
        headers=bearer(team.employee),
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["quiet_start"], answer.json()["quiet_end"]) == ("21:30", "06:45")
    session.refresh(team.employee)
    assert (team.employee.quiet_start, team.employee.quiet_end) == (time(21, 30), time(6, 45))
    # The published answer is a pattern "HH:MM" every answer matches (not `format: time`,
    # which wants a UTC offset no local time of day has).
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    quiet = next(s for name, s in schemas.items() if name.startswith("Preferences"))
    declared = [
        option for option in quiet["properties"]["quiet_start"]["anyOf"] if "pattern" in option
    ]
    assert len(declared) == 1
    assert re.match(declared[0]["pattern"], answer.json()["quiet_start"])


def chat(client: TestClient, user: object, message: str) -> str:
    response = client.post(
        "/api/v1/chat",
        json={"message": message, "conversation_id": "prefs"},
        headers=bearer(user),
    )
    assert response.status_code == 200, response.text
    return response.json()["reply"]


def test_preferences_are_reachable_by_chat_in_english_and_swahili(
    client: TestClient, session: Session
) -> None:
    team = Team(session)
    john = team.employee
    said = chat(client, john, "stop the mood reminders")
    session.refresh(john)
    assert john.muted_automations == ["mood_invitation"]
    assert "weekly mood check-in" in said

    said = chat(client, john, "nitumie ujumbe kwa SMS")
    session.refresh(john)
    assert john.notify_channel is Channel.SMS
    assert "SMS" in said
    assert "Arifa" in said

    chat(client, john, "please don't message me after 9pm")
    session.refresh(john)
    assert (john.quiet_start, john.quiet_end) == (time(21, 0), time(7, 0))

    chat(client, john, "usinitumie kitu kati ya saa mbili usiku na saa kumi na mbili asubuhi")
    session.refresh(john)
    assert (john.quiet_start, john.quiet_end) == (time(20, 0), time(6, 0))

    chat(client, john, "turn the mood check-in back on")
    session.refresh(john)
    assert john.muted_automations == []
    # Still only John's own: nobody else's preferences moved.
    session.refresh(team.teammate)
    assert team.teammate.notify_channel is None
    assert team.teammate.quiet_start is None


def test_an_admin_switches_an_automation_off_for_everyone_by_chat(
    client: TestClient, session: Session
) -> None:
    team = Team(session)
    chat(client, team.admin, "turn off the midday check for everyone")
    assert automations.setting_of(session, team.org, "midday_check")[0] is False
    # The same words from hr change only hr's own reminders.
    chat(client, team.hr, "turn off the mood check-in for everyone")
    assert automations.setting_of(session, team.org, "mood_invitation")[0] is True
    session.refresh(team.hr)
    assert team.hr.muted_automations == ["mood_invitation"]
