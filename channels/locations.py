"""A location someone shared in a chat app: a clock-in, or a clock-out when a shift is open.

For every chat channel alike (WhatsApp, Telegram): the adapter says how far the location
can be trusted (`LocationSource`), and the answer says so too. A pin the person placed
or forwarded is kept as evidence of where they said they were, not proof.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypedDict
from zoneinfo import ZoneInfo

from channels.messages import Inbound, Reply
from hrcore.actor import Actor
from hrcore.attendance import service as attendance
from hrcore.attendance.models import AttendanceRecord, GeofenceStatus, LocationSource
from hrcore.db import unit_of_work
from hrcore.errors import Conflict, HRError
from hrcore.people.models import Organization, User
from hrcore.people.service import get_organization

CLOCKED_IN = {"en": "Clocked in at {time}.", "sw": "Umeingia kazini saa {time}."}
CLOCKED_OUT = {"en": "Clocked out at {time}.", "sw": "Umetoka kazini saa {time}."}
OUTSIDE = {
    "en": "You were outside the work site, so this is flagged for review.",
    "sw": "Ulikuwa nje ya eneo la kazi, kwa hivyo hili litakaguliwa.",
}
TRUST = {
    LocationSource.PIN: {
        "en": "The location you shared is kept as evidence of where you were, not proof: "
        "a pin can be placed anywhere.",
        "sw": "Mahali ulipotuma panahifadhiwa kama ushahidi wa ulipokuwa, si uthibitisho: "
        "pini inaweza kuwekwa popote.",
    },
    LocationSource.LIVE: {
        "en": "Your live location was recorded with it.",
        "sw": "Mahali ulipo moja kwa moja pamehifadhiwa pamoja nalo.",
    },
    LocationSource.DEVICE: {
        "en": "Your location was recorded with it.",
        "sw": "Mahali ulipo pamehifadhiwa pamoja nalo.",
    },
}


def _say(catalog: dict[str, str], language: str) -> str:
    return catalog.get(language, catalog["en"])


def _describe(record: AttendanceRecord, org: Organization, language: str) -> str:
    """The outcome in the person's language ("Clocked in at 08:04, 4 minutes late.")."""
    if language == "en":
        if record.clock_out_at is None:
            return attendance.describe_clock_in(record, org)
        return attendance.describe_clock_out(record, org)
    at = record.clock_out_at or record.clock_in_at
    time = f"{at.astimezone(ZoneInfo(org.timezone)):%H:%M}"
    done = CLOCKED_IN if record.clock_out_at is None else CLOCKED_OUT
    text = _say(done, language).format(time=time)
    if record.clock_out_at is None and record.geofence_status is GeofenceStatus.OUTSIDE:
        text += " " + _say(OUTSIDE, language)
    return text


class _Fix(TypedDict):
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    source: LocationSource


def clock(actor: Actor, inbound: Inbound, source: LocationSource) -> Reply:
    """Clock in at the shared location, or out if a shift is open. Blocking."""
    location = inbound.location
    if location is None:
        raise ValueError("clock() needs an inbound message with a location")
    fix: _Fix = {
        "latitude": location.latitude,
        "longitude": location.longitude,
        "accuracy_m": location.accuracy_m,
        "source": source,
    }
    language = "en"
    try:
        with unit_of_work(actor) as session:
            user = session.get(User, actor.user_id)
            language = user.language if user is not None else "en"
            org = get_organization(session, actor)
            try:
                record = attendance.clock_in(session, actor, **fix)
            except Conflict as exc:
                if exc.code != "already_clocked_in":
                    raise
                record = attendance.clock_out(session, actor, **fix)
            text = _describe(record, org, language)
    except HRError as exc:
        return Reply(text=exc.message, language=language)
    return Reply(text=f"{text} {_say(TRUST[source], language)}", language=language)


def handler(source: LocationSource) -> Callable[[Actor, Inbound], Awaitable[Reply]]:
    """A pipeline handler that clocks by location, trusting it as far as `source` says."""

    async def handle(actor: Actor, inbound: Inbound) -> Reply:
        return await asyncio.to_thread(clock, actor, inbound, source)

    return handle
