"""Every tool module, imported once so their declarations register."""

from tools import (  # noqa: F401
    attendance,
    cases,
    leave,
    messages,
    payroll,
    people,
    performance,
    policy,
    preferences,
    reports,
    wellness,
)
