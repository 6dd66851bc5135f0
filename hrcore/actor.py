"""Who is acting: the identity every service call carries, and what each role may do."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hrcore.errors import Forbidden


class Role(enum.StrEnum):
    ADMIN = "admin"
    HR = "hr"
    SUPERVISOR = "supervisor"
    EMPLOYEE = "employee"


class Channel(enum.StrEnum):
    WEB = "web"
    API = "api"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    USSD = "ussd"
    SMS = "sms"
    EMAIL = "email"
    CLI = "cli"
    SYSTEM = "system"


class Permission(enum.StrEnum):
    ORG_MANAGE = "org.manage"
    EMPLOYEE_READ = "employee.read"
    EMPLOYEE_MANAGE = "employee.manage"
    ATTENDANCE_CLOCK = "attendance.clock"
    ATTENDANCE_READ = "attendance.read"
    LEAVE_REQUEST = "leave.request"
    LEAVE_READ = "leave.read"
    LEAVE_APPROVE = "leave.approve"
    LEAVE_MANAGE = "leave.manage"
    REVIEW_WRITE = "review.write"
    REVIEW_READ = "review.read"
    WELLNESS_SUBMIT = "wellness.submit"
    WELLNESS_SUMMARY = "wellness.summary"
    AUDIT_READ = "audit.read"
    NOTIFICATION_READ = "notification.read"
    PAYSLIP_READ = "payslip.read"
    PAYROLL_RUN = "payroll.run"
    POLICY_READ = "policy.read"
    POLICY_MANAGE = "policy.manage"
    HR_CASE_OPEN = "hr_case.open"
    HR_CASE_ANSWER = "hr_case.answer"
    #: Reports across people (a team's or the organization's hours, lateness trends).
    REPORTS_READ = "reports.read"
    MESSAGE_SEND = "message.send"


_EVERYONE = {
    Permission.EMPLOYEE_READ,
    Permission.ATTENDANCE_CLOCK,
    Permission.ATTENDANCE_READ,
    Permission.LEAVE_REQUEST,
    Permission.LEAVE_READ,
    Permission.REVIEW_READ,
    Permission.WELLNESS_SUBMIT,
    Permission.NOTIFICATION_READ,
    Permission.PAYSLIP_READ,
    Permission.POLICY_READ,
    Permission.HR_CASE_OPEN,
}
_PEOPLE_TEAM = {
    Permission.REPORTS_READ,
    Permission.EMPLOYEE_MANAGE,
    Permission.LEAVE_APPROVE,
    Permission.LEAVE_MANAGE,
    Permission.WELLNESS_SUMMARY,
    Permission.PAYROLL_RUN,
    Permission.POLICY_MANAGE,
    Permission.HR_CASE_ANSWER,
    Permission.MESSAGE_SEND,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.EMPLOYEE: frozenset(_EVERYONE),
    Role.SUPERVISOR: frozenset(
        _EVERYONE | {Permission.LEAVE_APPROVE, Permission.REVIEW_WRITE, Permission.REPORTS_READ}
    ),
    Role.HR: frozenset(_EVERYONE | _PEOPLE_TEAM | {Permission.REVIEW_WRITE}),
    Role.ADMIN: frozenset(
        _EVERYONE | _PEOPLE_TEAM | {Permission.ORG_MANAGE, Permission.AUDIT_READ}
    ),
}


class Scope(enum.IntEnum):
    """How far a role's reads reach: self, self and direct reports, or the organization."""

    SELF = 1
    TEAM = 2
    ORGANIZATION = 3


ROLE_SCOPE: dict[Role, Scope] = {
    Role.EMPLOYEE: Scope.SELF,
    Role.SUPERVISOR: Scope.TEAM,
    Role.HR: Scope.ORGANIZATION,
    Role.ADMIN: Scope.ORGANIZATION,
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated caller. Built from a session, never from request arguments."""

    user_id: int
    organization_id: int
    role: Role
    channel: Channel = Channel.API

    @property
    def employee_id(self) -> int:
        """Every user is an employee of their organization; the ids are the same."""
        return self.user_id

    @property
    def scope(self) -> Scope:
        return ROLE_SCOPE[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise `Forbidden` unless the actor's role grants `permission`."""
        if not self.can(permission):
            raise Forbidden(
                f"Your role ({self.role}) may not do this.",
                permission=str(permission),
            )
