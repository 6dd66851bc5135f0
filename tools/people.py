"""People tools: the user's own profile and the employees they may see."""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict, Field

from hrcore.actor import Permission, Role, Scope
from hrcore.dates import short_date
from hrcore.people import service as people
from hrcore.people.models import User
from tools.registry import ToolArgs, ToolContext, ToolResult, tool_spec

MAX_LIST = 100


class MyProfileArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class Profile(ToolResult):
    employee_id: int
    full_name: str
    role: Role
    organization_name: str
    supervisor_name: str | None = Field(description="Who the user reports to, if anyone.")
    department: str | None
    hire_date: date
    language: str = Field(description="Preferred language code, e.g. 'en' or 'sw'.")


@tool_spec(name="my_profile", permission=Permission.EMPLOYEE_READ)
def my_profile(ctx: ToolContext, args: MyProfileArgs) -> Profile:
    """Show the user's own employee record: name, role, employer, supervisor and department.

    Also the hire date and preferred language. Use it for "who is my supervisor?" or
    "when did I start?".
    """
    user = people.get_employee(ctx.session, ctx.actor, employee_id=ctx.actor.user_id)
    org = people.get_organization(ctx.session, ctx.actor)
    supervisor = user.reports_to.full_name if user.reports_to is not None else None
    department = user.department.name if user.department is not None else None
    parts = [f"{user.full_name}, {user.role} at {org.name}"]
    if department:
        parts.append(f"department {department}")
    if supervisor:
        parts.append(f"reports to {supervisor}")
    parts.append(f"since {short_date(user.hire_date, 'en')}")
    return Profile(
        summary=", ".join(parts) + ".",
        employee_id=user.id,
        full_name=user.full_name,
        role=user.role,
        organization_name=org.name,
        supervisor_name=supervisor,
        department=department,
        hire_date=user.hire_date,
        language=user.language,
    )


class ListEmployeesArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"limit": 20}]})

    include_inactive: bool = Field(
        default=False, description="Also list people who have left the employer."
    )
    limit: int = Field(default=20, ge=1, le=MAX_LIST, description="At most this many people.")
    offset: int = Field(default=0, ge=0, le=100_000, description="Skip this many people.")


class EmployeeItem(ToolResult):
    employee_id: int
    full_name: str
    role: Role
    department: str | None
    reports_to_id: int | None
    reports_to_name: str | None
    is_active: bool
    email: str | None = Field(description="Shown to hr and admin (and for the user's own row).")
    phone: str | None = Field(description="Shown to hr and admin (and for the user's own row).")


class EmployeeList(ToolResult):
    employees: list[EmployeeItem]


def _employee(user: User, *, show_contact: bool) -> EmployeeItem:
    department = user.department.name if user.department is not None else None
    manager = user.reports_to.full_name if user.reports_to is not None else None
    details = ", ".join([str(user.role)] + ([department] if department else []))
    if not user.is_active:
        details += ", left"
    return EmployeeItem(
        summary=f"#{user.id} {user.full_name} ({details})",
        employee_id=user.id,
        full_name=user.full_name,
        role=user.role,
        department=department,
        reports_to_id=user.reports_to_id,
        reports_to_name=manager,
        is_active=user.is_active,
        email=user.email if show_contact else None,
        phone=user.phone if show_contact else None,
    )


@tool_spec(name="list_employees", permission=Permission.EMPLOYEE_READ)
def list_employees(ctx: ToolContext, args: ListEmployeesArgs) -> EmployeeList:
    """List the people the user may see, by name, with their ids, roles and departments.

    Employees see only themselves, supervisors themselves and their direct reports, hr and
    admin everyone. Use it to find an employee_id for other tools.
    """
    users = people.list_employees(ctx.session, ctx.actor, **args.model_dump())
    # Contact details are for the people team; others see only their own.
    org_wide = ctx.actor.scope is Scope.ORGANIZATION
    items = [_employee(u, show_contact=org_wide or u.id == ctx.actor.user_id) for u in users]
    noun = "person" if len(items) == 1 else "people"
    summary = f"{len(items)} {noun}" + (
        ":\n" + "\n".join(i.summary for i in items) if items else "."
    )
    return EmployeeList(summary=summary, employees=items)


class ResetPinArgs(ToolArgs):
    model_config = ConfigDict(json_schema_extra={"examples": [{"employee_id": 4}]})

    employee_id: int = Field(gt=0, description="The employee whose phone PIN to clear.")


class PinReset(ToolResult):
    employee_id: int
    full_name: str


@tool_spec(
    name="reset_pin", permission=Permission.EMPLOYEE_MANAGE, changes_state=True, confirm=True
)
def reset_pin(ctx: ToolContext, args: ResetPinArgs) -> PinReset:
    """Clear an employee's phone PIN and lift a lock after wrong PINs (hr and admin).

    Use it when someone forgot their PIN or locked themselves out of the phone menu; they
    choose a new PIN the next time they open their payslip or approvals by phone.
    """
    user = people.reset_pin(ctx.session, ctx.actor, employee_id=args.employee_id)
    return PinReset(
        summary=f"The phone PIN of {user.full_name} is cleared; they will choose a new one "
        "next time.",
        employee_id=user.id,
        full_name=user.full_name,
    )
