"""Typed results of the attendance services."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from hrcore.actor import Channel
from hrcore.attendance.models import GeofenceStatus


class AttendanceRecordRead(BaseModel):
    """One shift as callers see it (instants are UTC; render them in the employer's zone)."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    employee_id: int
    clock_in_at: datetime
    clock_out_at: datetime | None
    method_in: Channel
    method_out: Channel | None
    site_id: int | None
    geofence_status: GeofenceStatus
    late_minutes: int
    note: str | None


class WorkReportRow(BaseModel):
    """One employee's attendance over a calendar month."""

    model_config = ConfigDict(frozen=True)

    employee_id: int
    full_name: str
    hours_worked: Decimal
    days_present: int
    late_arrivals: int
    late_minutes_total: int
