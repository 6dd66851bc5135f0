"""Preferences: where each person hears from Ajira and when not; the employer's automations."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from hrcore.actor import Permission
from hrcore.automations import preferences
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec
from tools.types import ClockTime

NotifyChannel = Literal["default", "sms", "whatsapp", "telegram", "email", "web"]
Automation = Literal[
    "late_digest",
    "midday_check",
    "clock_out_reminder",
    "approval_reminder",
    "low_balance",
    "mood_invitation",
    "payroll_draft",
]


class NoArgs(ToolArgs):
    pass


class SetPreferencesArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"channel": "sms", "quiet_start": "20:00", "quiet_end": "07:00"},
                {"mute": ["mood_invitation"]},
            ]
        }
    )

    channel: NotifyChannel | None = Field(
        default=None,
        description='Where notifications go; "default": the chat app last used, else SMS.',
    )
    quiet_start: ClockTime | None = Field(
        default=None, description="Local time from which nothing that can wait is sent (HH:MM)."
    )
    quiet_end: ClockTime | None = Field(
        default=None, description="Local time until which it waits (HH:MM); both or neither."
    )
    no_quiet_hours: bool = Field(default=False, description="True to remove quiet hours.")
    mute: list[Automation] = Field(
        default_factory=list, max_length=7, description="Reminders to stop, by name."
    )
    unmute: list[Automation] = Field(
        default_factory=list, max_length=7, description="Reminders to start again, by name."
    )


class Preferences(ToolResult):
    channel: str = Field(description='The chosen channel, or "default".')
    channel_now: str = Field(description="Where a notification would go now.")
    quiet_start: ClockTime | None
    quiet_end: ClockTime | None
    muted: list[str]


#: How a summary names each channel and reminder.
CHANNEL_NAMES = {
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "email": "email",
    "web": "the web app",
}
REMINDER_NAMES = {
    "late_digest": "the late and absent digest",
    "midday_check": "the midday check",
    "clock_out_reminder": "the clock-out reminder",
    "mood_invitation": "the weekly mood check-in",
}


def _result(view: preferences.PreferencesView) -> Preferences:
    now = CHANNEL_NAMES.get(view.channel_now, view.channel_now)
    where = (
        f"Notifications go by {now}"
        if view.channel != "default"
        else f"Notifications go to the chat app you last used (now {now})"
    )
    quiet = (
        f"quiet hours {view.quiet_start:%H:%M}–{view.quiet_end:%H:%M}"
        if view.quiet_start is not None and view.quiet_end is not None
        else "no quiet hours"
    )
    muted = ", ".join(REMINDER_NAMES.get(n, n) for n in view.muted) or "none"
    return Preferences(
        summary=f"{where}; {quiet}; reminders turned off: {muted}.",
        channel=view.channel,
        channel_now=view.channel_now,
        quiet_start=view.quiet_start,
        quiet_end=view.quiet_end,
        muted=list(view.muted),
    )


@tool_spec(name="get_preferences", permission=Permission.NOTIFICATION_READ)
def get_preferences(ctx: ToolContext, args: NoArgs) -> Preferences:
    """Show where the user's notifications go, their quiet hours and the reminders they
    turned off."""
    return _result(preferences.get_preferences(ctx.session, ctx.actor))


@tool_spec(name="set_preferences", permission=Permission.NOTIFICATION_READ, changes_state=True)
def set_preferences(ctx: ToolContext, args: SetPreferencesArgs) -> Preferences:
    """Change the user's own notification channel, quiet hours, or reminders
    ("send me SMS", "nothing after 8pm", "stop the mood reminders"). Only their own."""
    view = preferences.set_preferences(
        ctx.session,
        ctx.actor,
        channel=args.channel,
        quiet_start=args.quiet_start,
        quiet_end=args.quiet_end,
        no_quiet_hours=args.no_quiet_hours,
        mute=args.mute,
        unmute=args.unmute,
    )
    return _result(view)


class AutomationSettingsArgs(ToolArgs):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "midday_check", "enabled": False}]}
    )

    name: Automation | None = Field(default=None, description="The automation to change.")
    enabled: bool | None = Field(default=None, description="Turn it on or off.")
    at: ClockTime | None = Field(default=None, description="Its new local time (HH:MM).")


class AutomationRow(ToolResult):
    name: str
    enabled: bool
    at: ClockTime
    description: str


class AutomationList(ToolResult):
    automations: list[AutomationRow]


@tool_spec(name="automation_settings", permission=Permission.ORG_MANAGE, changes_state=True)
def automation_settings(ctx: ToolContext, args: AutomationSettingsArgs) -> AutomationList:
    """List the employer's scheduled automations, or switch one on or off or move its time
    (admins)."""
    rows = preferences.automation_settings(
        ctx.session, ctx.actor, name=args.name, enabled=args.enabled, at=args.at
    )
    items = [
        AutomationRow(
            summary=f"{r.name}: {'on' if r.enabled else 'off'} at {r.at:%H:%M}",
            name=r.name,
            enabled=r.enabled,
            at=r.at,
            description=r.description,
        )
        for r in rows
    ]
    return AutomationList(summary="; ".join(i.summary for i in items), automations=items)
