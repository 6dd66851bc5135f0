"""Read Africa's Talking's SMS delivery report callback (form-encoded).

Fields: `id` (the `messageId` the send returned), `status`, `phoneNumber`, `networkCode`,
`retryCount`, and `failureReason` when the status is `Rejected` or `Failed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hrcore.actor import Channel
from hrcore.notifications.models import NotificationStatus

CHANNEL = Channel.SMS

#: Their status, ours: accepted by the network so far, on the handset, or never.
STATUSES = {
    "Sent": NotificationStatus.SENT,
    "Submitted": NotificationStatus.SENT,
    "Buffered": NotificationStatus.SENT,
    "Success": NotificationStatus.DELIVERED,
    "Rejected": NotificationStatus.FAILED,
    "Failed": NotificationStatus.FAILED,
    "Expired": NotificationStatus.FAILED,
}


class MalformedReport(ValueError):
    """The callback is not a delivery report we can read."""


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One delivery report, in our terms."""

    provider_message_id: str
    status: NotificationStatus
    provider_status: str
    failure_reason: str | None = None
    phone_number: str | None = None
    network_code: str | None = None
    retry_count: int | None = None

    @property
    def reason(self) -> str | None:
        """Why it failed, as the provider says it (`UserInBlackList`), for failures only."""
        if self.status is not NotificationStatus.FAILED:
            return None
        return self.failure_reason or self.provider_status


def _field(form: Mapping[str, object], name: str, *, limit: int, required: bool) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        if required:
            raise MalformedReport(f"`{name}` is missing.")
        return None
    if not isinstance(value, str):
        raise MalformedReport(f"`{name}` must be a form field, not a file.")
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise MalformedReport(f"`{name}` is not valid.")
    return value


def parse(form: Mapping[str, object]) -> DeliveryReport:
    """The report in `form`; `MalformedReport` says what is wrong with it."""
    message_id = _field(form, "id", limit=200, required=True)
    status = _field(form, "status", limit=32, required=True)
    assert message_id is not None
    assert status is not None
    if status not in STATUSES:
        raise MalformedReport(f"`status` must be one of {', '.join(STATUSES)}.")
    retry_count = _field(form, "retryCount", limit=6, required=False)
    if retry_count is not None and not retry_count.isdigit():
        raise MalformedReport("`retryCount` must be a whole number.")
    return DeliveryReport(
        provider_message_id=message_id,
        status=STATUSES[status],
        provider_status=status,
        failure_reason=_field(form, "failureReason", limit=64, required=False),
        phone_number=_field(form, "phoneNumber", limit=32, required=False),
        network_code=_field(form, "networkCode", limit=16, required=False),
        retry_count=int(retry_count) if retry_count is not None else None,
    )
