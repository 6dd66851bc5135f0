"""Report charts as PNG (for chat apps) and SVG (for the web), byte for byte reproducible.

Charts are drawn with matplotlib's object API (no pyplot, no global figure state) and
the DejaVu Sans font that ships with matplotlib, so every machine draws the same
pixels. PNG and SVG carry no timestamp or version, and SVG element ids are salted
with a constant, so the same figures always give the same bytes. Settings are global
in matplotlib, so one chart is drawn at a time.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sqlalchemy.orm import Session

from hrcore.actor import Actor
from hrcore.dates import month_name, short_day, short_month
from hrcore.reports import service
from hrcore.reports.links import ChartRequest
from hrcore.reports.service import LatenessTrend, MoodSeries, WellnessTrend, WorkReport
from hrcore.reports.words import Language, hours, say
from hrcore.wellness.summary import FORMER_DEPARTMENT_NAME, UNASSIGNED_GROUP

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

ChartFormat = Literal["png", "svg"]
MEDIA_TYPES: dict[ChartFormat, str] = {"png": "image/png", "svg": "image/svg+xml"}

#: 6 x 3.75 inches at 200 dpi: 1200 x 750 pixels, text still legible on a phone screen.
WIDTH_IN = 6.0
HEIGHT_IN = 3.75
DPI = 200
#: Each bar beyond what the base height holds adds this much height to the work chart.
ROW_IN = 0.28
#: A chart of more people than this shows those with most hours (the CSV has everyone).
MAX_BARS = 40
#: Department lines on the wellness chart, those with most answers first.
MAX_GROUPS = 6
MAX_NAME = 24

INK = "#1f2933"
MUTED = "#616e7c"
BAR = "#2f6f9f"
LATE = "#c8553d"
TOTAL = "#1f2933"
# Okabe-Ito: told apart by people with the common kinds of colour blindness.
GROUP_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#D55E00", "#0072B2")

_RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    # A name with two dollar signs must stay a name, not become a formula.
    "text.parse_math": False,
    "text.usetex": False,
    # Text stays text in SVG: selectable, searchable, read out by screen readers.
    "svg.fonttype": "none",
    "svg.hashsalt": "ajira-reports",
    "svg.image_inline": True,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}
_lock = threading.Lock()


@contextmanager
def _figure(height_in: float = HEIGHT_IN) -> Iterator[Figure]:
    with _lock, mpl.rc_context(_RC):
        figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        yield figure


def _render(figure: Figure, fmt: ChartFormat) -> bytes:
    buffer = io.BytesIO()
    if fmt == "png":
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    elif fmt == "svg":
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    else:
        raise ValueError(f"unknown chart format {fmt!r}")
    return buffer.getvalue()


def _titles(figure: Figure, ax: Axes, title: str, note: str) -> None:
    figure.suptitle(title, x=0.02, ha="left", fontsize=13, fontweight="bold")
    ax.set_title(note, loc="left", fontsize=8.5, color=MUTED)


def _empty(ax: Axes, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color=MUTED)


def _short(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1].rstrip() + "…"


def work_chart(report: WorkReport, *, language: Language, fmt: ChartFormat) -> bytes:
    """Hours worked per person over the month, most hours on top."""
    ranked = sorted(report.rows, key=lambda r: (-r.hours_worked, r.full_name, r.employee_id))
    shown = ranked[:MAX_BARS]
    height = max(HEIGHT_IN, 1.4 + ROW_IN * len(shown))
    title = say("work_title", language, month=month_name(report.year, report.month, language))
    note = say(
        "work_note",
        language,
        people=report.people,
        hours=hours(report.hours_worked),
        late=report.late_arrivals,
    )
    if len(ranked) > len(shown):
        note += " · " + say("work_more", language, shown=len(shown), more=len(ranked) - len(shown))
    with _figure(height) as figure:
        ax = figure.add_subplot()
        _titles(figure, ax, title, note)
        if not shown or not any(r.hours_worked for r in shown):
            _empty(ax, say("no_hours" if shown else "nobody", language))
            return _render(figure, fmt)
        worked = [float(r.hours_worked) for r in shown]
        rows = range(len(shown))
        ax.barh(rows, worked, color=BAR, height=0.65)
        ax.set_yticks(list(rows), labels=[_short(r.full_name) for r in shown])
        ax.invert_yaxis()
        ax.set_xlim(0, max(max(worked) * 1.35, 1.0))
        ax.set_xlabel(say("work_axis", language))
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#e4e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        for row, (r, h) in enumerate(zip(shown, worked, strict=True)):
            label = say("work_bar", language, hours=hours(r.hours_worked), days=r.days_present)
            ax.annotate(
                label,
                (h, row),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color=INK,
            )
        return _render(figure, fmt)


def lateness_chart(trend: LatenessTrend, *, language: Language, fmt: ChartFormat) -> bytes:
    """Late arrivals month by month, each bar labelled with its count and share of days."""
    months = trend.months
    first, last = months[0], months[-1]
    title = say(
        "lateness_title",
        language,
        first=short_month(first.year, first.month, language),
        last=short_month(last.year, last.month, language),
    )
    with _figure() as figure:
        ax = figure.add_subplot()
        _titles(figure, ax, title, say("lateness_note", language))
        positions = range(len(months))
        counts = [m.late_arrivals for m in months]
        ax.bar(positions, counts, color=LATE, width=0.6)
        ax.set_xticks(
            list(positions), labels=[short_month(m.year, m.month, language) for m in months]
        )
        if len(months) > 8:
            ax.tick_params(axis="x", labelrotation=45)
        ax.set_ylim(0, max(max(counts) * 1.25, 1))
        locator = ax.yaxis.get_major_locator()
        if isinstance(locator, MaxNLocator):  # the default AutoLocator is one
            locator.set_params(integer=True)
        ax.set_ylabel(say("lateness_axis", language))
        ax.grid(axis="y", color="#e4e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        for position, m in zip(positions, months, strict=True):
            ax.annotate(
                say("lateness_bar", language, late=m.late_arrivals, share=m.late_share),
                (position, m.late_arrivals),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
        return _render(figure, fmt)


def _group_name(series: MoodSeries, language: Language) -> str:
    if series.key == UNASSIGNED_GROUP:
        return say("small_groups", language)
    if series.name == FORMER_DEPARTMENT_NAME:
        return say("former_department", language)
    return _short(series.name)


def _values(series: MoodSeries) -> list[float]:
    # NaN leaves a gap: a week without figures is not drawn as if it had any.
    return [float(p.average) if p.average is not None else math.nan for p in series.points]


def wellness_chart(trend: WellnessTrend, *, language: Language, fmt: ChartFormat) -> bytes:
    """Average mood per week for the organization and each group the summary shows."""
    weeks = trend.weeks
    title = say(
        "wellness_title",
        language,
        first=short_day(weeks[0], language),
        last=short_day(weeks[-1], language),
    )
    note = say("wellness_note", language, n=trend.min_group_size)
    busiest = sorted(trend.groups, key=lambda s: -sum(p.responses or 0 for p in s.points))[
        :MAX_GROUPS
    ]
    groups = [s for s in trend.groups if s in busiest]
    with _figure() as figure:
        ax = figure.add_subplot()
        _titles(figure, ax, title, note)
        if all(p.average is None for p in trend.total.points):
            _empty(ax, say("wellness_none", language))
            return _render(figure, fmt)
        positions = list(range(len(weeks)))
        for colour, series in zip(GROUP_COLOURS, groups, strict=False):
            ax.plot(
                positions,
                _values(series),
                color=colour,
                linewidth=1.2,
                marker="o",
                markersize=3,
                label=_group_name(series, language),
            )
        ax.plot(
            positions,
            _values(trend.total),
            color=TOTAL,
            linewidth=2.4,
            marker="o",
            markersize=4.5,
            label=say("whole_organization", language),
        )
        step = max(1, math.ceil(len(weeks) / 8))
        ax.set_xticks(positions[::step], labels=[short_day(w, language) for w in weeks[::step]])
        ax.set_xlim(-0.5, len(weeks) - 0.5)
        ax.set_ylim(0.8, 5.2)
        ax.set_yticks([1, 2, 3, 4, 5])
        ax.set_ylabel(say("wellness_axis", language))
        ax.set_xlabel(say("wellness_week_axis", language))
        ax.grid(axis="y", color="#e4e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        figure.legend(
            loc="outside lower center", ncols=min(3, len(groups) + 1), fontsize=8, frameon=False
        )
        return _render(figure, fmt)


def draw(session: Session, actor: Actor, chart: ChartRequest, fmt: ChartFormat) -> bytes:
    """The chart `chart` names, from the figures `actor` may see now."""
    if chart.kind == "work":
        if chart.year is None or chart.month is None:
            chart_year, chart_month = service.current_month(session, actor)
        else:
            chart_year, chart_month = chart.year, chart.month
        report = service.work_report(session, actor, year=chart_year, month=chart_month)
        return work_chart(report, language=chart.language, fmt=fmt)
    if chart.kind == "lateness":
        trend = service.lateness_trend(
            session,
            actor,
            months=chart.months or service.DEFAULT_MONTHS,
            year=chart.year,
            month=chart.month,
        )
        return lateness_chart(trend, language=chart.language, fmt=fmt)
    weeks = chart.weeks or service.DEFAULT_WEEKS
    return wellness_chart(
        service.wellness_trend(session, actor, weeks=weeks), language=chart.language, fmt=fmt
    )
