"""The monthly work report as CSV: one row per person, then a TOTAL row."""

from __future__ import annotations

from hrcore.reports.service import WorkReport
from hrcore.spreadsheet import safe_cell, write_csv

#: Stable column names (in English whatever the reader's language): integrations key on them.
WORK_COLUMNS = (
    "employee_id",
    "full_name",
    "month",
    "hours_worked",
    "days_present",
    "late_arrivals",
    "late_minutes_total",
)


def work_report_filename(report: WorkReport, organization_slug: str) -> str:
    """`demo-work-report-2026-10.csv`."""
    return f"{organization_slug}-work-report-{report.year:04d}-{report.month:02d}.csv"


def work_report_csv(report: WorkReport) -> str:
    """The report as CSV text (UTF-8 when encoded), hours with two decimal places."""
    month = f"{report.year:04d}-{report.month:02d}"
    rows = [
        [
            str(r.employee_id),
            safe_cell(r.full_name),
            month,
            f"{r.hours_worked:.2f}",
            str(r.days_present),
            str(r.late_arrivals),
            str(r.late_minutes_total),
        ]
        for r in report.rows
    ]
    rows.append(
        [
            "TOTAL",
            f"{report.people} people present",
            month,
            f"{report.hours_worked:.2f}",
            str(report.days_present),
            str(report.late_arrivals),
            str(report.late_minutes_total),
        ]
    )
    return write_csv(WORK_COLUMNS, rows)
