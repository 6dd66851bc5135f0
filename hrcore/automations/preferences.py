"""Each person's notification preferences, and each employer's automation settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore.actor import Actor, Channel, Permission
from hrcore.audit import audited
from hrcore.automations.models import AutomationSetting
from hrcore.automations.service import AUTOMATIONS, setting_of
from hrcore.errors import Invalid, NotFound
from hrcore.notifications.service import preferred_channel
from hrcore.people.models import User
from hrcore.people.service import get_organization

#: The channels a person may choose for notifications ("default" clears the choice).
CHOOSABLE = {
    "sms": Channel.SMS,
    "whatsapp": Channel.WHATSAPP,
    "telegram": Channel.TELEGRAM,
    "email": Channel.EMAIL,
    "web": Channel.WEB,
}


@dataclass(frozen=True, slots=True)
class PreferencesView:
    channel: str
    channel_now: str
    quiet_start: time | None
    quiet_end: time | None
    muted: tuple[str, ...]


def _view(user: User) -> PreferencesView:
    return PreferencesView(
        channel=user.notify_channel.value if user.notify_channel else "default",
        channel_now=preferred_channel(user).value,
        quiet_start=user.quiet_start,
        quiet_end=user.quiet_end,
        muted=tuple(user.muted_automations or ()),
    )


def _me(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id, with_for_update=True)
    if user is None or user.organization_id != actor.organization_id:
        raise NotFound("No such user.", code="user_not_found")
    return user


def get_preferences(session: Session, actor: Actor) -> PreferencesView:
    """The acting user's own preferences."""
    actor.require(Permission.NOTIFICATION_READ)
    return _view(_me(session, actor))


@audited("preferences.set", target_type="user")
def set_preferences(
    session: Session,
    actor: Actor,
    *,
    channel: str | None = None,
    quiet_start: time | None = None,
    quiet_end: time | None = None,
    no_quiet_hours: bool = False,
    mute: Sequence[str] = (),
    unmute: Sequence[str] = (),
) -> PreferencesView:
    """Change the acting user's own channel, quiet hours and muted reminders."""
    actor.require(Permission.NOTIFICATION_READ)
    user = _me(session, actor)
    if channel is not None:
        if channel != "default" and channel not in CHOOSABLE:
            choices = ", ".join(["default", *CHOOSABLE])
            raise Invalid(f"Choose the channel from {choices}.", code="unknown_channel")
        if channel == "email" and not user.email:
            raise Invalid("There is no email address on your record.", code="no_email")
        if channel in ("sms", "whatsapp") and not user.phone:
            raise Invalid("There is no phone number on your record.", code="no_phone")
        user.notify_channel = None if channel == "default" else CHOOSABLE[channel]
    if no_quiet_hours:
        user.quiet_start = user.quiet_end = None
    elif quiet_start is not None or quiet_end is not None:
        if quiet_start is None or quiet_end is None:
            raise Invalid("Give quiet hours as a start and an end.", code="quiet_hours_incomplete")
        if quiet_start == quiet_end:
            raise Invalid(
                "Quiet hours must start and end at different times.", code="quiet_hours_empty"
            )
        user.quiet_start, user.quiet_end = quiet_start, quiet_end
    unknown = [n for n in (*mute, *unmute) if n not in AUTOMATIONS]
    if unknown:
        raise Invalid(f"No reminder called {unknown[0]}.", code="unknown_automation")
    fixed = [n for n in mute if not AUTOMATIONS[n].mutable]
    if fixed:
        raise Invalid(
            f"{fixed[0]} is part of the employer's process and cannot be turned off.",
            code="automation_not_mutable",
        )
    muted = [n for n in (user.muted_automations or []) if n not in unmute]
    muted += [n for n in mute if n not in muted]
    user.muted_automations = muted
    session.flush()
    return _view(user)


@dataclass(frozen=True, slots=True)
class SettingView:
    name: str
    enabled: bool
    at: time
    description: str


@audited("automations.settings", target_type="organization")
def automation_settings(
    session: Session,
    actor: Actor,
    *,
    name: str | None = None,
    enabled: bool | None = None,
    at: time | None = None,
) -> list[SettingView]:
    """The organization's automations; with `name`, switch it or move it first (admins)."""
    actor.require(Permission.ORG_MANAGE)
    org = get_organization(session, actor)
    if name is None and (enabled is not None or at is not None):
        raise Invalid("Say which automation to change.", code="automation_required")
    if name is not None:
        if name not in AUTOMATIONS:
            raise Invalid(f"No automation called {name}.", code="unknown_automation")
        row = session.scalar(
            select(AutomationSetting).where(
                AutomationSetting.organization_id == org.id, AutomationSetting.name == name
            )
        )
        if row is None:
            row = AutomationSetting(organization_id=org.id, name=name, enabled=True)
            session.add(row)
        if enabled is not None:
            row.enabled = enabled
        if at is not None:
            row.at = at
        session.flush()
    views = []
    for key, automation in AUTOMATIONS.items():
        on, when = setting_of(session, org, key)
        views.append(SettingView(key, on, when, automation.description))
    return views
