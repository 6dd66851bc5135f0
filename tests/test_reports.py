"""Reports people can look at: the work report as JSON, CSV and charts; the wellness trend."""

from __future__ import annotations

import csv
import io
import os
import struct
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from assistant.offline import nlu
from assistant.offline.conversation import Conversation
from assistant.offline.wording import word_result
from hrcore import keys
from hrcore.actor import Actor, Channel, Role
from hrcore.attendance.models import AttendanceRecord
from hrcore.clock import frozen
from hrcore.config import get_settings
from hrcore.errors import Forbidden
from hrcore.people.models import Department, Organization, User
from hrcore.reports import links
from hrcore.reports.links import SHARED_PATH, ChartRequest, chart_link, open_link
from hrcore.wellness.models import MoodEntry, MoodParticipation
from tests.factories import Team, bearer, make_department
from tests.support.api import problem
from tools.registry import run_tool, tools_for

# Wednesday 11 November 2026, 09:00 in Nairobi; the last week that has ended is 2-8 November.
NOW = datetime(2026, 11, 11, 6, 0, tzinfo=UTC)
LAST_WEEK = date(2026, 11, 2)
NAIROBI = ZoneInfo("Africa/Nairobi")
API = "/api/v1/reports"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with frozen(NOW):
        yield


def _shift(
    session: Session, user: User, day: date, hours: str, *, late: int = 0, at: time = time(8)
) -> None:
    start = datetime.combine(day, at, NAIROBI) + timedelta(minutes=late)
    session.add(
        AttendanceRecord(
            organization_id=user.organization_id,
            employee_id=user.id,
            clock_in_at=start.astimezone(UTC),
            clock_out_at=(start + timedelta(hours=float(hours))).astimezone(UTC),
            method_in=Channel.WEB,
            method_out=Channel.WEB,
            late_minutes=late,
        )
    )


class World:
    """A team with October and September shifts, and another employer with its own."""

    def __init__(self, session: Session) -> None:
        self.team = team = Team(session)
        names = {
            "admin": "Grace Admin",
            "hr": "Peter Hr",
            "supervisor": "Achieng Mary",
            "employee": "Wanjiku Njeri",
            "teammate": "Otieno Baraka",
            "outsider": "=Halima Said",
        }
        for role, name in names.items():
            getattr(team, role).full_name = name
        _shift(session, team.employee, date(2026, 10, 5), "8")
        _shift(session, team.employee, date(2026, 10, 6), "7.5", late=15)
        _shift(session, team.employee, date(2026, 10, 7), "8.25")
        # 00:30 on 1 November in Nairobi is still 31 October in UTC: it counts in November.
        _shift(session, team.employee, date(2026, 11, 1), "1", at=time(0, 30))
        _shift(session, team.employee, date(2026, 9, 14), "8", late=30)
        _shift(session, team.teammate, date(2026, 10, 5), "9", late=5)
        _shift(session, team.teammate, date(2026, 10, 30), "4")
        _shift(session, team.outsider, date(2026, 10, 12), "6")
        _shift(session, team.supervisor, date(2026, 10, 1), "8")
        self.other = Team(session)
        self.other.employee.full_name = "Zed Foreign"
        _shift(session, self.other.employee, date(2026, 10, 5), "10", late=50)
        session.flush()

    def headers(self, role: str) -> dict[str, str]:
        return bearer(getattr(self.team, role))


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


EXPECTED_OCTOBER = {
    # name: (hours, days present, late arrivals, late minutes)
    "Wanjiku Njeri": ("23.75", 3, 1, 15),
    "Otieno Baraka": ("13.00", 2, 1, 5),
    "=Halima Said": ("6.00", 1, 0, 0),
    "Achieng Mary": ("8.00", 1, 0, 0),
    "Grace Admin": ("0.00", 0, 0, 0),
    "Peter Hr": ("0.00", 0, 0, 0),
}


def _png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(PNG_SIGNATURE)
    assert content[12:16] == b"IHDR"
    return struct.unpack(">II", content[16:24])


def _svg_text(content: bytes) -> str:
    root = ElementTree.fromstring(content)  # noqa: S314 - our own chart, not outside input
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join(t for t in root.itertext() if t.strip())


# --- the work report as data ----------------------------------------------------------------


def test_work_report_json_has_each_persons_figures_and_the_totals(
    client: TestClient, world: World
) -> None:
    response = client.get(f"{API}/work/2026/10", headers=world.headers("hr"))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    got = {
        r["full_name"]: (
            r["hours_worked"],
            r["days_present"],
            r["late_arrivals"],
            r["late_minutes_total"],
        )
        for r in body["rows"]
    }
    assert got == EXPECTED_OCTOBER
    assert (body["year"], body["month"], body["people"]) == (2026, 10, 4)
    assert Decimal(body["hours_worked"]) == Decimal("50.75")
    assert (body["days_present"], body["late_arrivals"], body["late_minutes_total"]) == (7, 2, 20)


@pytest.mark.parametrize(
    "how", [{"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}]
)
def test_work_report_csv_matches_the_rows(
    client: TestClient, world: World, how: dict[str, Any]
) -> None:
    headers = {**world.headers("admin"), **how.get("headers", {})}
    response = client.get(f"{API}/work/2026/10", params=how.get("params"), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    slug = world.team.org.slug
    assert f'filename="{slug}-work-report-2026-10.csv"' in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith(
        "employee_id,full_name,month,hours_worked,days_present,late_arrivals,late_minutes_total\r\n"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    total = rows.pop()
    got = {
        r["full_name"]: (
            r["hours_worked"],
            int(r["days_present"]),
            int(r["late_arrivals"]),
            int(r["late_minutes_total"]),
        )
        for r in rows
    }
    # A cell a spreadsheet would run as a formula is written as text.
    assert got == {
        ("'" + name if name.startswith("=") else name): figures
        for name, figures in EXPECTED_OCTOBER.items()
    }
    assert {r["month"] for r in rows} == {"2026-10"}
    assert total["employee_id"] == "TOTAL"
    assert (total["hours_worked"], total["days_present"], total["late_arrivals"]) == (
        "50.75",
        "7",
        "2",
    )


def test_json_is_the_default_for_browsers(client: TestClient, world: World) -> None:
    headers = {**world.headers("hr"), "Accept": "text/html,application/json;q=0.9,*/*;q=0.8"}
    response = client.get(f"{API}/work/2026/10", headers=headers)
    assert response.headers["content-type"] == "application/json"


def test_a_supervisor_sees_only_their_team(client: TestClient, world: World) -> None:
    body = client.get(f"{API}/work/2026/10", headers=world.headers("supervisor")).json()
    assert {r["full_name"] for r in body["rows"]} == {
        "Achieng Mary",
        "Wanjiku Njeri",
        "Otieno Baraka",
    }
    svg = client.get(f"{API}/work/2026/10/chart.svg", headers=world.headers("supervisor"))
    words = _svg_text(svg.content)
    assert "Wanjiku Njeri" in words
    assert "Halima Said" not in words
    assert "Peter Hr" not in words


def test_another_employers_people_never_appear(client: TestClient, world: World) -> None:
    headers = world.headers("hr")
    seen = [
        client.get(f"{API}/work/2026/10", headers=headers).text,
        client.get(f"{API}/work/2026/10?format=csv", headers=headers).text,
        _svg_text(client.get(f"{API}/work/2026/10/chart.svg", headers=headers).content),
    ]
    for text in seen:
        assert "Wanjiku Njeri" in text
        assert "Zed Foreign" not in text
    lateness = client.get(f"{API}/lateness?months=1&end=2026-10", headers=headers).json()
    assert lateness["months"][0]["late_arrivals"] == 2  # not the other employer's 3rd


@pytest.mark.parametrize(
    "path",
    [
        "/work/2026/10",
        "/work/2026/10?format=csv",
        "/work/2026/10/chart.png",
        "/lateness",
        "/lateness/chart.svg",
        "/wellness",
        "/wellness/chart.png",
    ],
)
def test_employees_are_refused_and_anonymous_callers_must_sign_in(
    client: TestClient, world: World, path: str
) -> None:
    problem(client.get(API + path), 401, "unauthenticated")
    body = problem(client.get(API + path, headers=world.headers("employee")), 403, "forbidden")
    assert body["details"]["permission"] in {"reports.read", "wellness.summary"}


@pytest.mark.parametrize("path", ["/wellness", "/wellness/chart.svg"])
def test_the_wellness_trend_is_for_hr_and_admin_only(
    client: TestClient, world: World, path: str
) -> None:
    problem(client.get(API + path, headers=world.headers("supervisor")), 403, "forbidden")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/work/2026/13", 422, "invalid_month"),
        ("/work/2026/0/chart.png", 422, "invalid_month"),
        ("/work/1999/12", 422, "invalid_month"),
        ("/work/99999999999999999999/1", 422, "invalid_month"),
        ("/work/twenty/10", 422, "validation_error"),
        ("/work/2026/10?format=xml", 422, "validation_error"),
        ("/work/2026/10/chart.gif", 422, "validation_error"),
        ("/lateness?months=0", 422, "validation_error"),
        ("/lateness?months=6&end=2026-13", 422, "validation_error"),
        ("/lateness?months=24&end=2001-06", 422, "invalid_month"),
        ("/wellness/chart.png?weeks=27", 422, "validation_error"),
    ],
)
def test_bad_periods_and_formats_are_refused_with_a_stable_code(
    client: TestClient, world: World, path: str, status: int, code: str
) -> None:
    problem(client.get(API + path, headers=world.headers("hr")), status, code)


# --- charts ---------------------------------------------------------------------------------


def test_the_png_chart_is_phone_sized_and_the_same_every_time(
    client: TestClient, world: World
) -> None:
    headers = world.headers("hr")
    first = client.get(f"{API}/work/2026/10/chart.png", headers=headers)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/png"
    assert _png_size(first.content) == (1200, 750)
    again = client.get(f"{API}/work/2026/10/chart.png", headers=headers)
    assert again.content == first.content


def test_the_svg_chart_names_the_people_and_the_month_in_their_language(
    client: TestClient, world: World
) -> None:
    headers = world.headers("hr")
    english = client.get(f"{API}/work/2026/10/chart.svg", headers=headers)
    assert english.headers["content-type"].startswith("image/svg+xml")
    assert "style-src 'unsafe-inline'" in english.headers["content-security-policy"]
    words = _svg_text(english.content)
    assert "October 2026" in words
    assert all(name in words for name in ("Wanjiku Njeri", "Otieno Baraka", "Achieng Mary"))
    assert english.content == client.get(f"{API}/work/2026/10/chart.svg", headers=headers).content
    swahili = _svg_text(
        client.get(f"{API}/work/2026/10/chart.svg?lang=sw", headers=headers).content
    )
    assert "Saa za kazi, Oktoba 2026" in swahili


def test_a_month_nobody_worked_says_so_instead_of_empty_bars(
    client: TestClient, world: World
) -> None:
    headers = world.headers("hr")
    words = _svg_text(client.get(f"{API}/work/2026/8/chart.svg", headers=headers).content)
    assert "No hours recorded this month" in words
    assert "Wanjiku Njeri" not in words
    swahili = client.get(f"{API}/work/2026/8/chart.svg?lang=sw", headers=headers).content
    assert "Hakuna saa za kazi zilizorekodiwa mwezi huu" in _svg_text(swahili)


def test_the_chart_speaks_the_users_own_language_by_default(
    client: TestClient, world: World, session: Session
) -> None:
    world.team.hr.language = "sw"
    session.flush()
    words = _svg_text(
        client.get(f"{API}/work/2026/10/chart.svg", headers=world.headers("hr")).content
    )
    assert "Oktoba 2026" in words


def test_lateness_per_month_as_data_and_chart(client: TestClient, world: World) -> None:
    headers = world.headers("hr")
    body = client.get(f"{API}/lateness?months=3&end=2026-10", headers=headers).json()
    got = [(m["month"], m["late_arrivals"], m["late_minutes_total"]) for m in body["months"]]
    assert got == [(8, 0, 0), (9, 1, 30), (10, 2, 20)]
    assert body["months"][2]["late_share"] == round(100 * 2 / 7)
    chart = client.get(f"{API}/lateness/chart.svg?months=3&end=2026-10", headers=headers)
    words = _svg_text(chart.content)
    assert all(label in words for label in ("Aug 2026", "Sep 2026", "Oct 2026"))
    png = client.get(f"{API}/lateness/chart.png", headers=headers)
    assert _png_size(png.content) == (1200, 750)


# --- wellness -------------------------------------------------------------------------------


def _moods(
    session: Session, org: Organization, dept: Department | None, scores: list[int], week: date
) -> None:
    """A week's moods as `submit_mood` stores them: entries, and one pseudonym per person."""
    for score in scores:
        session.add(
            MoodEntry(
                organization_id=org.id,
                department_id=dept.id if dept else None,
                week=week,
                score=score,
            )
        )
        session.add(
            MoodParticipation(
                organization_id=org.id,
                week=week,
                department_id=dept.id if dept else None,
                pseudonym=os.urandom(32),
            )
        )
    session.flush()


def test_the_wellness_chart_never_shows_a_group_below_the_minimum(
    client: TestClient, world: World, session: Session
) -> None:
    org = world.team.org
    big = make_department(session, org, "Packing")
    small = make_department(session, org, "Drivers")
    _moods(session, org, big, [4, 4, 3, 5, 4, 4], LAST_WEEK)
    _moods(session, org, small, [1, 2, 1], LAST_WEEK)
    # Five people without a department: with them hidden too, the hidden pool is big enough
    # for Packing to be shown beside the total.
    _moods(session, org, None, [3, 3, 4, 4, 5], LAST_WEEK)
    # A week before, only the small group answered: nothing of that week may be shown.
    _moods(session, org, small, [1, 1, 2], LAST_WEEK - timedelta(days=7))
    headers = world.headers("hr")
    body = client.get(f"{API}/wellness?weeks=4", headers=headers).json()
    assert body["weeks"] == [str(LAST_WEEK - timedelta(days=7 * n)) for n in (3, 2, 1, 0)]
    assert body["min_group_size"] == 5
    assert [g["name"] for g in body["groups"]] == [big.name]
    totals = [p["average"] for p in body["total"]["points"]]
    assert totals == [None, None, None, "3.4"]  # (24 + 4 + 19) / 14 answers
    assert "Drivers" not in str(body)
    svg = _svg_text(client.get(f"{API}/wellness/chart.svg?weeks=4", headers=headers).content)
    assert big.name in svg
    assert "Drivers" not in svg
    png = client.get(f"{API}/wellness/chart.png?weeks=4", headers=headers)
    assert _png_size(png.content) == (1200, 750)


def test_no_week_with_enough_answers_says_so(client: TestClient, world: World) -> None:
    svg = client.get(f"{API}/wellness/chart.svg?lang=sw", headers=world.headers("admin"))
    assert "Hakuna wiki" in _svg_text(svg.content)


# --- tools and signed links -----------------------------------------------------------------


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_the_chart_tool_gives_figures_and_links_that_open_without_a_token(
    client: TestClient, world: World, session: Session
) -> None:
    hr = world.team.actor("hr", Channel.TELEGRAM)
    result = run_tool(session, hr, "work_report_chart", {"year": 2026, "month": 10})
    assert result.summary.startswith(
        "Work report chart for October 2026: 4 people present, 50.75 h worked in all, "
        "2 late arrivals. Most hours: Wanjiku Njeri (23.75 h)."
    )
    url = result.chart_url  # type: ignore[attr-defined]
    assert url.startswith(SHARED_PATH + ".png?token=")
    claims = jwt.decode(_token(url), options={"verify_signature": False})
    assert claims["typ"] == "report-chart"  # never an access token
    opened = client.get(url)
    assert opened.status_code == 200, opened.text
    direct = client.get(f"{API}/work/2026/10/chart.png?lang=en", headers=world.headers("hr"))
    assert opened.content == direct.content
    lateness = client.get(result.lateness_chart_url)  # type: ignore[attr-defined]
    assert _png_size(lateness.content) == (1200, 750)
    as_svg = client.get(url.replace("chart.png", "chart.svg"))
    assert "Wanjiku Njeri" in _svg_text(as_svg.content)


def test_a_chart_link_is_refused_when_tampered_with_or_expired(
    client: TestClient, world: World, session: Session
) -> None:
    hr = world.team.actor("hr")
    url = chart_link(hr, ChartRequest(kind="work", language="en", year=2026, month=10))
    token = _token(url)
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    problem(client.get(f"{SHARED_PATH}.png?token={head}.{payload}.{flipped}"), 403, "link_invalid")
    # Another person's id in a copied payload does not carry the signature with it.
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(
        {**claims, "sub": str(world.other.hr.id)}, os.urandom(32), algorithm="HS256"
    )
    problem(client.get(f"{SHARED_PATH}.png?token={forged}"), 403, "link_invalid")
    problem(client.get(f"{SHARED_PATH}.png?token=nonsense"), 403, "link_invalid")
    problem(client.get(f"{SHARED_PATH}.png"), 422, "validation_error")
    with frozen(NOW + links.LINK_LIFETIME + timedelta(minutes=1)):
        problem(client.get(url), 403, "link_expired")
    with frozen(NOW + links.LINK_LIFETIME - timedelta(minutes=1)):
        assert client.get(url).status_code == 200


def test_a_chart_link_follows_the_persons_current_rights(
    client: TestClient, world: World, session: Session
) -> None:
    supervisor = world.team.supervisor
    url = chart_link(
        world.team.actor("supervisor"),
        ChartRequest(kind="work", language="en", year=2026, month=10),
        fmt="svg",
    )
    assert "Otieno Baraka" in _svg_text(client.get(url).content)
    supervisor.role = Role.EMPLOYEE
    session.flush()
    problem(client.get(url), 403, "link_invalid")
    supervisor.role = Role.SUPERVISOR
    supervisor.is_active = False
    session.flush()
    problem(client.get(url), 403, "link_invalid")


def test_a_chart_link_names_its_channel_and_needs_its_own_key(session: Session) -> None:
    team = Team(session)
    actor = team.actor("admin", Channel.WHATSAPP)
    token = links.sign(actor, ChartRequest(kind="wellness", language="sw", weeks=8))
    opened, chart = open_link(session, token)
    assert opened == actor
    assert chart == ChartRequest(kind="wellness", language="sw", weeks=8)
    # Signed with the access-token key, a link is worthless.
    claims = jwt.decode(token, options={"verify_signature": False})
    key = keys.token_key()
    wrong = jwt.encode(claims, key, algorithm="HS256", headers={"kid": keys.key_id(key)})
    with pytest.raises(Forbidden) as err:
        open_link(session, wrong)
    assert err.value.code == "link_invalid"


def test_the_link_path_is_the_route_that_serves_it(app: FastAPI) -> None:
    assert app.url_path_for("shared_chart", fmt="png") == SHARED_PATH + ".png"


def test_links_are_absolute_under_the_public_url(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "public_url", "https://hr.example.co.ke/")
    url = chart_link(Team(session).actor("hr"), ChartRequest(kind="wellness", language="en"))
    assert url.startswith("https://hr.example.co.ke" + SHARED_PATH + ".png?token=")


def test_the_wellness_chart_tool_is_for_hr_and_keeps_anonymity(
    session: Session, world: World
) -> None:
    org = world.team.org
    dept = make_department(session, org, "Sales")
    _moods(session, org, dept, [3, 4, 4, 5, 3], LAST_WEEK)
    _moods(session, org, None, [2], LAST_WEEK)
    result = run_tool(session, world.team.actor("hr"), "wellness_chart", {"weeks": 4})
    assert result.summary.startswith(
        "Average mood by week over 4 weeks (12 Oct to the week of 2 Nov; anonymous"
    )
    assert "latest 3.5/5 (week of 2 Nov)" in result.summary
    # The one person without a department is in the total, never shown on their own.
    assert result.groups == []  # type: ignore[attr-defined]
    assert result.chart_url.startswith(SHARED_PATH + ".png?token=")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("role", "tools"),
    [
        (Role.EMPLOYEE, set()),
        (Role.SUPERVISOR, {"work_report_chart"}),
        (Role.HR, {"work_report_chart", "wellness_chart"}),
        (Role.ADMIN, {"work_report_chart", "wellness_chart"}),
    ],
)
def test_chart_tools_are_offered_to_those_who_may_use_them(role: Role, tools: set[str]) -> None:
    offered = {spec.name for spec in tools_for(Actor(1, 1, role))}
    assert offered & {"work_report_chart", "wellness_chart"} == tools


def test_the_supervisor_chart_tool_covers_only_their_team(session: Session, world: World) -> None:
    result = run_tool(session, world.team.actor("supervisor"), "work_report_chart", {"month": 10})
    assert "3 people present, 44.75 h worked in all, 2 late arrivals" in result.summary


# --- asking the assistant -------------------------------------------------------------------

MARY = Conversation(
    today=date(2026, 11, 23),
    timezone="Africa/Nairobi",
    language="en",
    user_name="Mary Akinyi",
    role="supervisor",
    employer="Jua Kali Foods Ltd",
)


@pytest.mark.parametrize(
    ("text", "language", "tool", "args"),
    [
        ("show me last month's attendance chart", "en", "work_report_chart", {"month": 10}),
        ("nionyeshe chati ya mahudhurio ya Oktoba", "sw", "work_report_chart", {"month": 10}),
        ("graph of hours worked in September", "en", "work_report_chart", {"month": 9}),
        ("nitumie chart ya masaa ya team", "sw", "work_report_chart", {}),
        ("how has the mood been lately, as a chart?", "en", "wellness_chart", {}),
        ("nionyeshe grafu ya hali ya wafanyakazi", "sw", "wellness_chart", {}),
    ],
)
def test_the_assistant_understands_chart_requests(
    text: str, language: str, tool: str, args: dict[str, Any]
) -> None:
    understood = nlu.understand(text, MARY, None, language=language)
    assert isinstance(understood, nlu.Intent), understood
    assert understood.tool == tool
    expected = {"language": language}
    if "month" in args:
        expected |= {"year": 2026, **args}
    assert understood.args == expected


def test_the_reply_carries_the_chart_links_in_the_users_language() -> None:
    result = {
        "summary": "Work report chart for October 2026: 3 people present.",
        "year": 2026,
        "month": 10,
        "people": 3,
        "hours_worked": "44.75",
        "late_arrivals": 2,
        "chart_url": "/chart.png?token=a",
        "lateness_chart_url": "/chart.png?token=b",
    }
    english = word_result("work_report_chart", result, "success", "en", "Africa/Nairobi")
    assert "Chart: /chart.png?token=a" in english
    assert "Late arrivals by month: /chart.png?token=b" in english
    swahili = word_result("work_report_chart", result, "success", "sw", "Africa/Nairobi")
    assert swahili.startswith("Ripoti ya kazi ya Oktoba 2026: watu 3 walihudhuria")
    assert "Chati: /chart.png?token=a" in swahili
