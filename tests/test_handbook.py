"""The demo handbook: its documents, topics, Swahili sections, facts and seeding."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrcore.documents.models import PolicyChunk, PolicyDocument
from hrcore.leave.service import ensure_default_leave_types
from hrcore.seed import DEMO_ORG
from knowledge.handbook import handbook_documents, seed_handbook
from knowledge.ingest import prepare
from tests.factories import make_org
from tests.knowledge_fixtures import CountingEmbedder


def _texts() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for _, path in handbook_documents()}


def test_the_handbook_has_eight_documents_of_realistic_length_that_parse() -> None:
    documents = handbook_documents()
    assert len(documents) >= 8
    for title, path in documents:
        text = path.read_text(encoding="utf-8")
        words = len(text.split())
        assert 300 <= words <= 1200, (path.name, words)
        assert text.startswith(f"# {title}\n")
        assert re.search(r"^## ", text, re.MULTILINE), path.name
        chunks = prepare(path.name, path.read_bytes(), "text/markdown").chunks
        assert len(chunks) >= 5
        assert all(chunk.heading_path[0] == title for chunk in chunks)


def test_the_handbook_covers_every_required_topic() -> None:
    titles = {title for title, _ in handbook_documents()}
    assert {
        "Leave Policy",
        "Working Hours and Attendance Policy",
        "Overtime Policy",
        "Code of Conduct",
        "Grievance Procedure",
        "Remote Work Policy",
        "Expenses and Per Diem Policy",
        "Data Protection Policy",
    } <= titles
    leave = _texts()["leave-policy.md"]
    for heading in (
        "## Annual leave",
        "### Carrying leave over",
        "## Sick leave",
        "## Maternity leave",
        "## Paternity leave",
        "## Compassionate leave",
        "## Unpaid leave",
    ):
        assert heading in leave
    assert "Data Protection Act, 2019" in _texts()["data-protection-policy.md"]


def test_the_handbook_has_swahili_sections() -> None:
    texts = _texts()
    leave = texts["leave-policy.md"]
    for heading in (
        "## Maternity leave (Likizo ya uzazi)",
        "## Sick leave (Likizo ya ugonjwa)",
        "## Compassionate leave (Likizo ya msiba)",
        "## Muhtasari kwa Kiswahili",
    ):
        assert heading in leave
    # Every kind of leave is explained in Swahili inside its own section, so a question in
    # either language lands on the same passage.
    assert leave.count("\nKwa Kiswahili: ") == 6
    assert "likizo ya uzazi ya **miezi mitatu (siku 90)**" in leave
    grievance = texts["grievance-procedure.md"]
    assert "## Hatua za kuwasilisha malalamiko" in grievance
    # The Swahili grievance steps mirror the English ones, step for step.
    assert len(re.findall(r"^### Hatua ya \d", grievance, re.MULTILINE)) == len(
        re.findall(r"^### Step \d", grievance, re.MULTILINE)
    )
    with_swahili = [
        name for name, text in texts.items() if "Kiswahili" in text or "## Ulinzi" in text
    ]
    assert len(with_swahili) >= 5


def test_the_leave_figures_are_the_ones_the_app_enforces(session: Session) -> None:
    types = {t.code: t for t in ensure_default_leave_types(session, make_org(session))}
    leave = _texts()["leave-policy.md"]
    assert types["maternity"].days_per_year == Decimal(90)
    assert types["maternity"].counts_calendar_days
    assert "three months (90 calendar days) of maternity leave" in leave
    assert types["paternity"].days_per_year == Decimal(14)
    assert "14 days of paternity leave" in leave
    assert types["sick"].days_per_year == Decimal(14)
    assert types["sick"].requires_document
    assert "14 days of sick leave" in leave
    assert "medical certificate" in leave
    assert types["compassionate"].days_per_year == Decimal(5)
    assert "5 days of compassionate leave" in leave
    assert types["annual"].carry_over_cap == Decimal(5)
    assert types["annual"].carry_over_expiry_months == 3  # carried days lapse after 31 March
    assert "5 unused annual leave days" in leave
    assert "31 March" in leave
    # The Employment Act's minimum (section 28): 21 working days a year.
    assert "21 working days" in leave
    assert DEMO_ORG.default_annual_leave_days == 21  # the app grants what the handbook says


def test_the_working_time_figures_are_the_ones_the_app_enforces() -> None:
    from hrcore.seed import DEMO_ORG

    hours = _texts()["working-hours-and-attendance.md"]
    assert DEMO_ORG.work_start.strftime("%H:%M") == "08:00"
    assert "Monday to Friday, 08:00 to 17:00" in hours
    assert f"grace period of {DEMO_ORG.grace_minutes} minutes" in hours
    overtime = _texts()["overtime-policy.md"]
    assert "one and a half times (1.5×)" in overtime
    assert "two times (2×)" in overtime


def test_seeding_the_handbook_is_idempotent_and_stays_in_its_organization(
    session: Session,
) -> None:
    org, other = make_org(session), make_org(session)
    embedder = CountingEmbedder()

    first = seed_handbook(session, org.id, embedder=embedder)
    embedded = embedder.passages
    chunks = session.scalar(select(func.count()).where(PolicyChunk.organization_id == org.id))
    assert len(first) == len(handbook_documents())
    assert chunks == embedded > 50

    again = seed_handbook(session, org.id, embedder=embedder)

    assert [d.id for d in again] == [d.id for d in first]
    assert embedder.passages == embedded  # nothing re-embedded
    assert (
        session.scalar(select(func.count()).where(PolicyChunk.organization_id == org.id)) == chunks
    )
    assert (
        session.scalar(select(func.count()).where(PolicyDocument.organization_id == other.id)) == 0
    )
