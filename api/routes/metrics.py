"""What operators watch: Prometheus metrics of deliveries, queues and automations.

`GET /metrics` reads the outbox and the automation runs from the database at every
scrape (so it shows what every worker did, not only this process), plus this process's
own request counts and latencies by route template. With `AJIRA_METRICS_TOKEN` set the
scrape needs `Authorization: Bearer <token>`; in production without a token the
endpoint is off (404), so nothing is exposed by accident.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from typing import Annotated

import structlog
from fastapi import APIRouter, FastAPI, Header, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hrcore import db, tenancy
from hrcore.config import get_settings
from hrcore.errors import NotFound, Unauthenticated
from hrcore.notifications import operations
from hrcore.notifications.models import NotificationStatus

router = APIRouter(tags=["operations"])
log = structlog.get_logger("ajira.metrics")

#: A scrape's database reads give up after this long (Prometheus times out at 10 s).
QUERY_TIMEOUT_MS = 2000
#: Latency buckets in seconds: chat turns and provider calls take seconds, reads milliseconds.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class DatabaseCollector(Collector):
    """Reads the outbox and the automation runs at each scrape."""

    def describe(self) -> Iterator[Metric]:
        # Nothing to read at registration: the database is only asked when scraped.
        return iter(())

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ajira_metrics_database_up",
            "1 when this scrape could read the database, 0 when it could not.",
        )
        started = time.perf_counter()
        try:
            # Totals over every employer (never a row of anyone's): the operator's view.
            with (
                db.session_factory()() as session,
                tenancy.system(session, tenancy.Crossing.OPERATIONS),
            ):
                operations.limit_statement_time(session, QUERY_TIMEOUT_MS)
                outbox = operations.outbox_stats(session)
                automations = operations.automation_stats(session)
                session.rollback()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("metrics_database_unreadable", error=type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        took = GaugeMetricFamily(
            "ajira_metrics_database_seconds", "How long this scrape's database reads took."
        )
        took.add_metric([], time.perf_counter() - started)
        yield took
        yield from _outbox_metrics(outbox)
        yield from _automation_metrics(automations)


def _outbox_metrics(stats: operations.OutboxStats) -> Iterator[Metric]:
    notifications = GaugeMetricFamily(
        "ajira_notifications",
        "Notifications in the outbox by channel and status (every organization).",
        labels=["channel", "status"],
    )
    channels = {channel for channel, _ in stats.by_channel_status}
    for channel in sorted(channels):
        for status in NotificationStatus:
            notifications.add_metric(
                [channel, str(status)], stats.by_channel_status.get((channel, str(status)), 0)
            )
    yield notifications
    lag = GaugeMetricFamily(
        "ajira_outbox_lag_seconds",
        "Age of the oldest pending notification that is due (0 when none waits).",
    )
    lag.add_metric([], stats.lag_seconds)
    yield lag
    for name, value, doc in (
        ("ajira_outbox_due", stats.due, "Pending notifications due now."),
        ("ajira_outbox_held", stats.held, "Pending notifications held: channel not configured."),
        (
            "ajira_outbox_stuck",
            stats.stuck,
            "Notifications in sending for longer than the sending timeout.",
        ),
    ):
        gauge = GaugeMetricFamily(name, doc)
        gauge.add_metric([], value)
        yield gauge
    attempts = CounterMetricFamily(
        "ajira_delivery_attempts",
        "Attempts to hand a notification to its provider, by channel.",
        labels=["channel"],
    )
    failed = CounterMetricFamily(
        "ajira_delivery_attempts_failed",
        "Attempts that did not get the notification out (to be retried, refused, or unknown).",
        labels=["channel"],
    )
    for channel in sorted(stats.attempts):
        attempts.add_metric([channel], stats.attempts[channel])
        failed.add_metric([channel], stats.failed_attempts.get(channel, 0))
    yield attempts
    yield failed


def _automation_metrics(stats: operations.AutomationStats) -> Iterator[Metric]:
    runs = GaugeMetricFamily(
        "ajira_automation_runs",
        "Automation runs (one per organization and day) by name and whether they finished.",
        labels=["name", "finished"],
    )
    for (name, finished), n in sorted(stats.runs.items()):
        runs.add_metric([name, "true" if finished else "false"], n)
    yield runs
    last = GaugeMetricFamily(
        "ajira_automation_last_finished_timestamp_seconds",
        "When the latest run of each automation finished (Unix time).",
        labels=["name"],
    )
    for name, at in sorted(stats.last_finished.items()):
        last.add_metric([name], at.timestamp())
    yield last


REGISTRY = CollectorRegistry()
REGISTRY.register(DatabaseCollector())
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
REQUESTS = Counter(
    "ajira_http_requests",
    "HTTP requests this process answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "ajira_http_request_duration_seconds",
    "Time to answer HTTP requests in this process, by method and route template.",
    ["method", "route"],
    buckets=BUCKETS,
    registry=REGISTRY,
)


class RequestMetrics:
    """Counts requests and their latency by route template ("/api/v1/tools/{name}").

    Only matched routes are named; anything else is "unmatched", so that scanners probing
    random paths cannot grow the number of series.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def install(app: FastAPI) -> None:
    """Count the app's requests (the route itself is included with the other routers)."""
    app.add_middleware(RequestMetrics)


def _check_token(authorization: str | None) -> None:
    settings = get_settings()
    token = settings.metrics_token
    if token is None:
        if settings.env == "production":
            raise NotFound("Not found.", code="not_found")
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise Unauthenticated("A valid metrics token is required.", code="metrics_token_required")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text exposition."}},
    include_in_schema=False,
)
def metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
    """The outbox, automations and request metrics in the Prometheus text format."""
    _check_token(authorization)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
