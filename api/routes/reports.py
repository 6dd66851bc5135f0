"""Reports people can look at: the monthly work report and wellness trends, as data and charts.

Supervisors see their team, hr and admin the organization (the attendance service's
rule); the wellness trend is for hr and admin, with the wellness summary's anonymity
rules. Charts are PNG (chat apps) or SVG (the web). `/shared/chart.{png|svg}` serves a
signed, short-lived link made by the chart tools, so a chat app can open a chart
without the person's access token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.deps import CurrentActor, DbSession
from api.errors import problem_responses
from hrcore.actor import Actor
from hrcore.people.service import get_organization
from hrcore.reports import service
from hrcore.reports.charts import MEDIA_TYPES, ChartFormat, draw
from hrcore.reports.export import work_report_csv, work_report_filename
from hrcore.reports.links import ChartRequest, open_link
from hrcore.reports.service import LatenessTrend, WellnessTrend, WorkReport
from hrcore.reports.words import Language

PREFIX = "/api/v1/reports"
router = APIRouter(prefix=PREFIX, tags=["reports"])

# Reports are about people: no shared cache may keep them.
_PRIVATE = {"Cache-Control": "private, no-store"}
# Matplotlib's SVG styles its shapes inline; nothing else may load or run.
_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
_ERRORS = (401, 403, 404, 422)

Year = Annotated[int, Path(description="The year, e.g. 2026.")]
MonthNumber = Annotated[int, Path(description="The month, 1 to 12.")]
Format = Annotated[ChartFormat, Path(description="png for chat apps, svg for the web.")]
Lang = Annotated[
    Language | None,
    Query(description="Language of the chart's words: en or sw; default: the user's own."),
]
Months = Annotated[
    int,
    Query(ge=1, le=service.MAX_MONTHS, description="How many months, ending with `end`."),
]
EndMonth = Annotated[
    str | None,
    Query(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="The last month shown (YYYY-MM); default: the current month.",
        examples=["2026-10"],
    ),
]
Weeks = Annotated[
    int,
    Query(ge=1, le=service.MAX_WEEKS, description="How many weeks that have ended."),
]

_IMAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/png": {}, "image/svg+xml": {}},
        "description": "The chart (PNG 1200 px wide, or SVG).",
    },
}


def _image(content: bytes, fmt: ChartFormat, name: str) -> Response:
    headers = {**_PRIVATE, "Content-Disposition": f'inline; filename="{name}.{fmt}"'}
    if fmt == "svg":
        headers["Content-Security-Policy"] = _SVG_CSP
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)


def _language(session: Session, actor: Actor, lang: Language | None) -> Language:
    return lang or service.preferred_language(session, actor)


def _end(end: str | None) -> tuple[int | None, int | None]:
    if end is None:
        return None, None
    year, month = end.split("-")
    return int(year), int(month)


def _wants_csv(accept: str) -> bool:
    """Whether an Accept header prefers CSV to JSON (JSON when it does not say)."""
    weights: dict[str, float] = {}
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        # Earlier entries win ties, as most clients list what they prefer first.
        weights.setdefault(media.lower(), q - position * 1e-6)
    csv = weights.get("text/csv", 0.0)
    json = max(weights.get(m, 0.0) for m in ("application/json", "application/*", "*/*"))
    return csv > 0 and csv > json


@router.get(
    "/work/{year}/{month}",
    summary="The monthly work report: hours, days present and lateness per person",
    response_model=WorkReport,
    responses={
        200: {
            "content": {"application/json": {}, "text/csv": {}},
            "description": "JSON, or CSV with `?format=csv` or `Accept: text/csv`.",
        },
        **problem_responses(*_ERRORS),
    },
)
def work_report(
    year: Year,
    month: MonthNumber,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    output: Annotated[
        Literal["json", "csv"] | None,
        Query(alias="format", description="json or csv; default: as the Accept header asks."),
    ] = None,
) -> Response:
    """Supervisors get their team, hr and admin everyone; employees are refused (403)."""
    report = service.work_report(session, actor, year=year, month=month)
    headers = {**_PRIVATE, "Vary": "Accept"}
    if output == "csv" or (output is None and _wants_csv(request.headers.get("accept", ""))):
        filename = work_report_filename(report, get_organization(session, actor).slug)
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(
            work_report_csv(report).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )
    return JSONResponse(report.model_dump(mode="json"), headers=headers)


@router.get(
    "/work/{year}/{month}/chart.{fmt}",
    summary="Hours worked per person over one month, as a chart",
    response_class=Response,
    responses={**_IMAGE, **problem_responses(*_ERRORS)},
)
def work_chart(
    year: Year,
    month: MonthNumber,
    fmt: Format,
    session: DbSession,
    actor: CurrentActor,
    lang: Lang = None,
) -> Response:
    """The people of the work report, most hours first."""
    chart = ChartRequest(
        kind="work", language=_language(session, actor, lang), year=year, month=month
    )
    name = f"work-report-{year:04d}-{month:02d}"
    return _image(draw(session, actor, chart, fmt), fmt, name)


@router.get(
    "/lateness",
    summary="Late arrivals month by month",
    response_model=LatenessTrend,
    responses=problem_responses(*_ERRORS),
)
def lateness(
    session: DbSession,
    actor: CurrentActor,
    months: Months = service.DEFAULT_MONTHS,
    end: EndMonth = None,
) -> JSONResponse:
    """Of the people in the caller's work report: a team, or the organization."""
    year, month = _end(end)
    trend = service.lateness_trend(session, actor, months=months, year=year, month=month)
    return JSONResponse(trend.model_dump(mode="json"), headers=_PRIVATE)


@router.get(
    "/lateness/chart.{fmt}",
    summary="Late arrivals month by month, as a chart",
    response_class=Response,
    responses={**_IMAGE, **problem_responses(*_ERRORS)},
)
def lateness_chart(
    fmt: Format,
    session: DbSession,
    actor: CurrentActor,
    months: Months = service.DEFAULT_MONTHS,
    end: EndMonth = None,
    lang: Lang = None,
) -> Response:
    """Each month's bar is labelled with its count and its share of days present."""
    year, month = _end(end)
    chart = ChartRequest(
        kind="lateness",
        language=_language(session, actor, lang),
        year=year,
        month=month,
        months=months,
    )
    return _image(draw(session, actor, chart, fmt), fmt, "lateness")


@router.get(
    "/wellness",
    summary="Anonymous average mood week by week",
    response_model=WellnessTrend,
    responses=problem_responses(*_ERRORS),
)
def wellness(
    session: DbSession, actor: CurrentActor, weeks: Weeks = service.DEFAULT_WEEKS
) -> JSONResponse:
    """Hr and admin only. Weeks and groups with fewer than 5 people are left out."""
    trend = service.wellness_trend(session, actor, weeks=weeks)
    return JSONResponse(trend.model_dump(mode="json"), headers=_PRIVATE)


@router.get(
    "/wellness/chart.{fmt}",
    summary="Anonymous average mood week by week, as a chart",
    response_class=Response,
    responses={**_IMAGE, **problem_responses(*_ERRORS)},
)
def wellness_chart(
    fmt: Format,
    session: DbSession,
    actor: CurrentActor,
    weeks: Weeks = service.DEFAULT_WEEKS,
    lang: Lang = None,
) -> Response:
    """Hr and admin only. Weeks and groups with fewer than 5 people are left out."""
    chart = ChartRequest(kind="wellness", language=_language(session, actor, lang), weeks=weeks)
    return _image(draw(session, actor, chart, fmt), fmt, "wellness")


# `hrcore.reports.links.SHARED_PATH`: where the links the chart tools make land.
@router.get(
    "/shared/chart.{fmt}",
    summary="A chart from a signed link (no bearer token)",
    response_class=Response,
    responses={**_IMAGE, **problem_responses(403, 422)},
)
def shared_chart(
    fmt: Format,
    session: DbSession,
    token: Annotated[
        str, Query(min_length=1, max_length=2048, description="The link's signed token.")
    ],
) -> Response:
    """The chart a link from the assistant names, drawn with its owner's current rights.

    Links expire after 30 minutes (`link_expired`); an altered one is `link_invalid`.
    """
    actor, chart = open_link(session, token)
    return _image(draw(session, actor, chart, fmt), fmt, f"{chart.kind}-chart")
