"""Imports every model so that `Base.metadata` knows all tables (Alembic, tests)."""

from hrcore.attendance.models import AttendanceRecord, GeofenceStatus
from hrcore.audit import AuditEntry
from hrcore.auth.models import AuthSession, RefreshToken
from hrcore.automations.models import AutomationRun, AutomationSetting, BalanceAlert
from hrcore.cases.models import CaseStatus, HRCase
from hrcore.db import Base
from hrcore.documents.models import DocumentStatus, PolicyChunk, PolicyDocument
from hrcore.idempotency import IdempotencyKey
from hrcore.identities.models import ChannelIdentity, InboundMessage
from hrcore.leave.models import Accrual, LeaveBalance, LeaveRequest, LeaveStatus, LeaveType
from hrcore.menus.models import MenuSession
from hrcore.notifications.models import (
    AttemptOutcome,
    Broadcast,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from hrcore.payroll.models import PayrollRun, Payslip, SalaryStructure
from hrcore.people.models import Department, GeofenceMode, Organization, Site, User
from hrcore.performance.models import Review
from hrcore.wellness.models import IssueReport, MoodDayKey, MoodEntry, MoodParticipation

__all__ = [
    "Accrual",
    "AttemptOutcome",
    "AttendanceRecord",
    "AuditEntry",
    "AuthSession",
    "AutomationRun",
    "AutomationSetting",
    "BalanceAlert",
    "Base",
    "Broadcast",
    "CaseStatus",
    "ChannelIdentity",
    "Department",
    "DocumentStatus",
    "GeofenceMode",
    "GeofenceStatus",
    "HRCase",
    "IdempotencyKey",
    "InboundMessage",
    "IssueReport",
    "LeaveBalance",
    "LeaveRequest",
    "LeaveStatus",
    "LeaveType",
    "MenuSession",
    "MoodDayKey",
    "MoodEntry",
    "MoodParticipation",
    "Notification",
    "NotificationAttempt",
    "NotificationStatus",
    "Organization",
    "PayrollRun",
    "Payslip",
    "PolicyChunk",
    "PolicyDocument",
    "RefreshToken",
    "Review",
    "SalaryStructure",
    "Site",
    "User",
]
