"""Typed results of the attendance services."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class WorkReportRow(BaseModel):
    """One employee's attendance over a calendar month."""

    model_config = ConfigDict(frozen=True)

    employee_id: int
    full_name: str
    hours_worked: Decimal
    days_present: int
    late_arrivals: int
    late_minutes_total: int
