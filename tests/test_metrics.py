"""GET /metrics: the outbox and automations as the database holds them, and requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from hrcore.actor import Channel
from hrcore.automations.models import AutomationRun
from hrcore.config import get_settings
from hrcore.notifications.models import (
    AttemptOutcome,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from tests.factories import Team

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


pytestmark = pytest.mark.frozen_at(NOW)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AJIRA_METRICS_TOKEN", "scrape-me-please-0123456789")
    get_settings.cache_clear()
    yield "scrape-me-please-0123456789"
    monkeypatch.delenv("AJIRA_METRICS_TOKEN")
    get_settings.cache_clear()


def scrape(client: TestClient, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    return samples.get((metric, tuple(sorted(labels.items()))), 0.0)


def row(
    session: Session,
    team: Team,
    channel: Channel,
    status: NotificationStatus,
    *,
    due: datetime | None = None,
    attempts: tuple[AttemptOutcome | None, ...] = (),
) -> Notification:
    note = Notification(
        organization_id=team.org.id,
        recipient_id=team.employee.id,
        channel=channel,
        kind="test.metrics",
        text="Counted, never shown",
        status=status,
        attempts=len(attempts),
        next_attempt_at=due,
    )
    session.add(note)
    session.flush()
    for number, outcome in enumerate(attempts, 1):
        session.add(
            NotificationAttempt(
                organization_id=team.org.id,
                notification_id=note.id,
                number=number,
                started_at=NOW - timedelta(minutes=30),
                finished_at=None if outcome is None else NOW - timedelta(minutes=29),
                outcome=outcome,
            )
        )
    session.flush()
    return note


def test_the_scrape_counts_what_the_database_holds(client: TestClient, session: Session) -> None:
    before = scrape(client)
    team = Team(session)
    row(session, team, Channel.SMS, NotificationStatus.PENDING, due=NOW - timedelta(seconds=90))
    row(session, team, Channel.SMS, NotificationStatus.PENDING, due=NOW - timedelta(seconds=30))
    row(session, team, Channel.SMS, NotificationStatus.PENDING, due=NOW + timedelta(hours=1))
    row(session, team, Channel.WHATSAPP, NotificationStatus.PENDING, due=None)  # held
    row(
        session,
        team,
        Channel.SMS,
        NotificationStatus.FAILED,
        attempts=(AttemptOutcome.RETRY, AttemptOutcome.FAILED),
    )
    row(session, team, Channel.SMS, NotificationStatus.SENT, attempts=(AttemptOutcome.SENT,))
    row(session, team, Channel.EMAIL, NotificationStatus.SENDING, attempts=(None,))  # stuck
    for name, finished in (("late_digest", True), ("late_digest", False), ("birthdays", True)):
        session.add(
            AutomationRun(
                organization_id=team.org.id,
                name=name,
                day=date(2026, 11, 23) - timedelta(days=0 if finished else 1),
                started_at=NOW - timedelta(hours=1),
                finished_at=NOW - timedelta(minutes=5) if finished else None,
                sent=3,
            )
        )
    session.flush()

    after = scrape(client)

    def grew(metric: str, /, **labels: str) -> float:
        return value(after, metric, **labels) - value(before, metric, **labels)

    assert grew("ajira_notifications", channel="sms", status="pending") == 3
    assert grew("ajira_notifications", channel="sms", status="failed") == 1
    assert grew("ajira_notifications", channel="sms", status="sent") == 1
    assert grew("ajira_notifications", channel="whatsapp", status="pending") == 1
    assert grew("ajira_notifications", channel="email", status="sending") == 1
    assert value(after, "ajira_outbox_lag_seconds") >= 90
    assert grew("ajira_outbox_due") == 2
    assert grew("ajira_outbox_held") == 1
    assert grew("ajira_outbox_stuck") == 1
    assert grew("ajira_delivery_attempts_total", channel="sms") == 3
    assert grew("ajira_delivery_attempts_failed_total", channel="sms") == 2
    assert grew("ajira_delivery_attempts_total", channel="email") == 1
    assert grew("ajira_delivery_attempts_failed_total", channel="email") == 0
    assert grew("ajira_automation_runs", name="late_digest", finished="true") == 1
    assert grew("ajira_automation_runs", name="late_digest", finished="false") == 1
    assert grew("ajira_automation_runs", name="birthdays", finished="true") == 1
    assert value(after, "ajira_automation_last_finished_timestamp_seconds", name="birthdays") == (
        (NOW - timedelta(minutes=5)).timestamp()
    )
    assert value(after, "ajira_metrics_database_up") == 1
    # The text of a notification never appears in a scrape.
    assert "Counted, never shown" not in client.get("/metrics").text


def test_requests_are_counted_by_route_template(client: TestClient) -> None:
    before = scrape(client)
    client.post("/api/v1/tools/leave_balance", json={})  # no token: 401
    client.get("/healthz")
    client.get("/no/such/page/12345")
    after = scrape(client)

    def grew(**labels: str) -> float:
        return value(after, "ajira_http_requests_total", **labels) - value(
            before, "ajira_http_requests_total", **labels
        )

    assert grew(method="POST", route="/api/v1/tools/leave_balance", status="401") == 1
    assert grew(method="GET", route="/healthz", status="200") == 1
    assert grew(method="GET", route="unmatched", status="404") == 1
    assert not any("12345" in dict(labels).get("route", "") for _, labels in after)
    count = value(
        after,
        "ajira_http_request_duration_seconds_count",
        method="GET",
        route="/healthz",
    )
    assert count >= 1


def test_a_token_is_required_when_configured(client: TestClient, token: str) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert scrape(client, Authorization=f"Bearer {token}")


def test_in_production_without_a_token_metrics_are_off(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AJIRA_ENV", "production")
    get_settings.cache_clear()
    try:
        assert client.get("/metrics").status_code == 404
    finally:
        monkeypatch.setenv("AJIRA_ENV", "test")
        get_settings.cache_clear()
