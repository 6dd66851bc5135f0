"""Send through the WhatsApp Cloud API, and say whether a failure may pass.

Free-form messages (text, buttons, lists) reach a person only within 24 hours of their
last message to us; after that only an approved template does, so a notification for
someone who has not written for a day goes as the template `WHATSAPP_TEMPLATES` names
for its kind (or `"*"`), its text as the body parameter. No template: a final
`no_template` failure here, rather than a message Meta would refuse.

As courier reads the Graph API: no connection, a timeout, a 429 or a 5xx is "try again
later"; any other refusal is final and keeps Meta's error code (131047, 131026...),
except the codes Meta documents as throttling or a passing fault.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from channels.messages import Outbound
from channels.outbound import SendError, SendResult, retryable_status, transport_error
from channels.whatsapp import render
from hrcore import clock
from hrcore.config import Settings

#: The customer-service window, and the margin kept from its end: a message queued a
#: moment before it closes must not arrive just after.
WINDOW = timedelta(hours=24)
WINDOW_MARGIN = timedelta(minutes=15)
#: Seconds: connecting, and the whole exchange.
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
#: Graph error codes worth another try: unknown or temporary errors, throttling
#: (4, 80007, 130429), pair rate limit (131056), service unavailable (131016, 133004).
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004})
#: The template used for any kind without its own.
ANY_KIND = "*"


def window_open(last_inbound_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether free-form messages may still go: the recipient wrote within 24 hours."""
    if last_inbound_at is None:
        return False
    return (now or clock.now()) - last_inbound_at < WINDOW - WINDOW_MARGIN


class WhatsAppCloud:
    """Sends one message per call to `{graph_url}/{phone_number_id}/messages`."""

    def __init__(
        self,
        *,
        token: str,
        phone_number_id: str,
        graph_url: str,
        templates: dict[str, str] | None = None,
    ) -> None:
        self.url = f"{graph_url.rstrip('/')}/{phone_number_id}/messages"
        self.token = token
        self.templates = dict(templates or {})

    def body(self, message: Outbound) -> dict[str, Any]:
        """The request for `message`: free-form inside the window, else its template."""
        if window_open(message.last_inbound_at):
            return render.message_body(message)
        template = self.templates.get(message.kind) or self.templates.get(ANY_KIND)
        if not template:
            raise SendError(
                "no_template",
                f"no approved template for {message.kind or 'this message'} outside the "
                "24-hour window (WHATSAPP_TEMPLATES)",
                retryable=False,
            )
        return render.template_body(message, template)

    def send(self, message: Outbound) -> SendResult:
        body = self.body(message)
        try:
            response = httpx.post(
                self.url,
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=TIMEOUT,
            )
        except httpx.TransportError as exc:
            raise transport_error(exc) from None
        if response.is_success:
            return SendResult(provider_message_id=_message_id(response))
        raise _refused(response)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message_id(response: httpx.Response) -> str:
    data = _json(response)
    try:
        message_id = data["messages"][0]["id"]
    except (TypeError, KeyError, IndexError):
        message_id = None
    if not isinstance(message_id, str) or not message_id:
        # Taken, perhaps: never a second copy, so final.
        raise SendError(
            "unreadable_response", "the API answered without a message id", retryable=False
        )
    return message_id


def _refused(response: httpx.Response) -> SendError:
    """A non-2xx answer: Graph's `{"error": {"code", "message", "error_data"}}` if any."""
    status = response.status_code
    data = _json(response)
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        return SendError(f"http_{status}", response.text[:200], retryable=retryable_status(status))
    code = error["code"]
    details = (
        error.get("error_data", {}).get("details")
        if isinstance(error.get("error_data"), dict)
        else None
    )
    detail = ": ".join(str(p) for p in (error.get("message"), details) if p)
    return SendError(
        str(code),
        f"HTTP {status}, {detail}"[:500],
        retryable=retryable_status(status) or code in RETRYABLE_CODES,
    )


def from_settings(settings: Settings) -> WhatsAppCloud | None:
    """The WhatsApp sender, or None without `WHATSAPP_TOKEN` and `WHATSAPP_PHONE_NUMBER_ID`."""
    if not (settings.whatsapp_token and settings.whatsapp_phone_number_id):
        return None
    return WhatsAppCloud(
        token=settings.whatsapp_token,
        phone_number_id=settings.whatsapp_phone_number_id,
        graph_url=settings.whatsapp_graph_url,
        templates=settings.whatsapp_templates,
    )
