"""Who clocks in during the 08:00 rush, how and when: five employers and their people.

Seeded straight into the database (fast bulk inserts); everything they then do goes
through the real HTTP paths (bench/rush.py).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hrcore import db, tenancy
from hrcore.actor import Role
from hrcore.auth.service import open_session
from hrcore.automations.models import AutomationSetting
from hrcore.automations.service import AUTOMATIONS
from hrcore.people.models import GeofenceMode, Organization, Site, User
from hrcore.people.service import normalize_phone
from knowledge.embeddings import CachedEmbedder, get_embedder
from knowledge.handbook import seed_handbook

#: Channel shares of the clock-ins.
MIX = {"rest": 0.40, "ussd": 0.25, "sms": 0.25, "chat": 0.10}
#: Share of the handbook employer's staff who also ask a policy question.
ASKING = 0.25
QUESTIONS = (
    "how long is paternity leave?",
    "how many days of maternity leave do I get?",
    "what is the per diem when I travel for work?",
    "can I work from home?",
    "how is overtime paid?",
    "how do I raise a grievance?",
)
#: How every channel words a clock-in refused because the shift is already open.
ALREADY = "already clocked in"
#: Supervisors: one per this many employees.
TEAM = 25
#: (slug, name, country, time zone, currency, phone prefix, geofence)
EMPLOYERS = (
    ("rush-mlimani", "Mlimani Foods Ltd", "KE", "Africa/Nairobi", "KES", "+25471", False),
    ("rush-pwani", "Pwani Logistics Ltd", "TZ", "Africa/Dar_es_Salaam", "TZS", "+25575", True),
    ("rush-nile", "Nile Textiles Ltd", "UG", "Africa/Kampala", "UGX", "+25677", False),
    ("rush-kivu", "Kivu Coffee Ltd", "RW", "Africa/Kigali", "RWF", "+25078", False),
    ("rush-afya", "Afya Clinics Ltd", "KE", "Africa/Nairobi", "KES", "+25472", False),
)
SITE = (-6.8161, 39.2803)  # the geofenced employer's depot, Dar es Salaam


# ------------------------------------------------------------------ the plan


@contextmanager
def arranged() -> Iterator[Session]:
    """A unit of work across every employer: the bench's own seeding and checks."""
    with db.unit_of_work() as session:
        tenancy.bind(session, tenancy.Tenant(crossing=tenancy.Crossing.ARRANGE))
        yield session


@dataclass
class Person:
    """One employee of the rush: how and when they clock in, and what they also do."""

    user_id: int
    org: int
    phone: str
    channel: str
    at: float
    #: Their clock-in is sent twice (a provider's or an app's retry).
    duplicate: bool = False
    #: A second channel they clock in on at the same moment (the app and a text), or None.
    second: str | None = None
    question: str | None = None
    asks_at: float = 0.0
    token: str = ""


@dataclass
class Employer:
    id: int
    slug: str
    timezone: str
    geofence: bool
    hr_id: int
    supervisors: list[int]


@dataclass
class Plan:
    employers: list[Employer]
    people: list[Person]

    @property
    def by_channel(self) -> Counter[str]:
        return Counter(p.channel for p in self.people)

    @property
    def racing(self) -> list[Person]:
        """Those who clock in on two channels at once."""
        return [p for p in self.people if p.second]


def _phone(prefix: str, n: int) -> str:
    phone = f"{prefix}{n:07d}"
    assert normalize_phone(phone) == phone, phone
    return phone


def seed(
    employees: int,
    employers: int,
    duplicates: float,
    both: float,
    window: float,
    rng: random.Random,
) -> Plan:
    """The employers, their people and who does what when; the handbook for the first."""
    chosen = EMPLOYERS[:employers]
    sizes = [employees // len(chosen) + (i < employees % len(chosen)) for i in range(len(chosen))]
    people: list[Person] = []
    found: list[Employer] = []
    channels = list(MIX)
    with arranged() as session:
        for index, (slug, name, country, zone, currency, prefix, fenced) in enumerate(chosen):
            org = Organization(
                slug=slug,
                name=name,
                country=country,
                timezone=zone,
                currency=currency,
                grace_minutes=0,
                geofence_mode=GeofenceMode.FLAG if fenced else GeofenceMode.OFF,
            )
            session.add(org)
            session.flush()
            if fenced:
                session.add(
                    Site(
                        organization_id=org.id,
                        name="Depot",
                        latitude=SITE[0],
                        longitude=SITE[1],
                        radius_m=300,
                    )
                )
            # Only the late digest: the other automations are due at times the rush fakes.
            session.add_all(
                AutomationSetting(organization_id=org.id, name=automation, enabled=False)
                for automation in AUTOMATIONS
                if automation != "late_digest"
            )
            hired = date(2022, 1, 10)
            hr = User(
                organization_id=org.id,
                full_name=f"HR {name}",
                role=Role.HR,
                phone=_phone(prefix, 9_000_000),
                email=f"hr@{slug}.test",
                hire_date=hired,
            )
            bosses = [
                User(
                    organization_id=org.id,
                    full_name=f"Supervisor {n + 1}",
                    role=Role.SUPERVISOR,
                    phone=_phone(prefix, 8_000_000 + n),
                    hire_date=hired,
                )
                for n in range(math.ceil(sizes[index] / TEAM))
            ]
            session.add_all([hr, *bosses])
            session.flush()
            staff = [
                User(
                    organization_id=org.id,
                    full_name=f"Staff {n + 1} of {name}",
                    role=Role.EMPLOYEE,
                    phone=_phone(prefix, n),
                    reports_to_id=bosses[n // TEAM].id,
                    hire_date=hired,
                )
                for n in range(sizes[index])
            ]
            session.add_all(staff)
            session.flush()
            found.append(Employer(org.id, slug, zone, fenced, hr.id, [b.id for b in bosses]))
            for user in staff:
                assert user.phone is not None
                channel = rng.choices(channels, weights=[MIX[c] for c in channels])[0]
                person = Person(
                    user_id=user.id,
                    org=index,
                    phone=user.phone,
                    channel=channel,
                    at=window * rng.betavariate(3, 2.5),
                )
                if index == 0 and rng.random() < ASKING:
                    person.question = rng.choice(QUESTIONS)
                    person.asks_at = window * rng.random()
                people.append(person)
        # Exact shares, not coin flips: a run always has its retries and its races.
        retried = [p for p in people if p.channel != "chat"]  # a chat turn has no retry id
        for person in rng.sample(retried, round(duplicates * len(retried))):
            person.duplicate = True
        for person in rng.sample(people, round(both * len(people))):
            person.second = rng.choice([c for c in channels if c != person.channel])
        # Cached on disk: a second run embeds nothing.
        seed_handbook(session, found[0].id, embedder=CachedEmbedder(get_embedder()))
    return Plan(found, people)


def mint_tokens(plan: Plan) -> dict[int, str]:
    """Access tokens for those who use the API (an app's live session), and the hr users."""
    api = ("rest", "chat")
    wanted = {p.user_id for p in plan.people if {p.channel, p.second} & set(api) or p.question}
    wanted |= {e.hr_id for e in plan.employers}
    tokens: dict[int, str] = {}
    with arranged() as session:
        for user in session.scalars(select(User).where(User.id.in_(wanted))):
            tokens[user.id] = open_session(session, user).access_token
    for person in plan.people:
        person.token = tokens.get(person.user_id, "")
    return tokens


def set_work_start(plan: Plan, at: datetime) -> None:
    """Make `at` each employer's start of work, to the minute, in its own time zone.

    (A rush that straddles local midnight finds everyone after it early: a new day.)
    """
    with arranged() as session:
        for employer in plan.employers:
            org = session.get(Organization, employer.id)
            assert org is not None
            org.work_start = at.astimezone(ZoneInfo(org.timezone)).time().replace(second=0)
