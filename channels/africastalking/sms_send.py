"""Send an SMS through Africa's Talking's official SDK, and say whether a failure may pass.

As courier reads the send API: no connection, a timeout or a 5xx is "try again later";
any other HTTP refusal (401 bad key) is final; a 201 still carries a verdict per
recipient in `statusCode` (101/102 sent; 401-407 final, e.g. 403 InvalidPhoneNumber;
500-502 later), and an empty recipient list names the problem (`InvalidSenderId`).
"""

from __future__ import annotations

from typing import Any

import africastalking
import requests
from africastalking.Service import AfricasTalkingException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from channels.messages import Outbound
from channels.outbound import SendError, SendResult, retryable_status
from hrcore.config import Settings

#: Per-recipient `statusCode`s: processed, sent, queued.
SENT_CODES = frozenset({100, 101, 102})
#: InternalServerError, GatewayError, RejectedByGateway: the gateway's trouble, not ours.
RETRYABLE_CODES = frozenset({500, 501, 502})
#: (connect, read) seconds, as the SDK's own default.
TIMEOUT = (3.05, 9.05)


class AfricasTalkingSMS:
    """Sends one SMS per call with the SDK's `SMSService`."""

    def __init__(
        self,
        username: str,
        api_key: str,
        *,
        sender_id: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self.service = africastalking.SMSService(username, api_key)
        if base_url:
            # The SDK has no option for its host; this attribute is where it keeps it
            # (a sandbox proxy, or a local stand-in in tests).
            self.service._baseUrl = base_url.rstrip("/")
        self.sender_id = sender_id

    def send(self, message: Outbound) -> SendResult:
        try:
            body = self.service.send(
                message.text, [message.address], sender_id=self.sender_id, timeout=TIMEOUT
            )
        except ValueError:
            # The SDK checks the number before any request; the number stays out of logs.
            raise SendError("InvalidPhoneNumber", "not an E.164 number", retryable=False) from None
        except requests.ConnectTimeout:
            raise SendError(
                "connection_failed", "could not reach the API", retryable=True
            ) from None
        except requests.Timeout:
            # The request reached Africa's Talking, which may have sent it: never twice.
            raise SendError(
                "outcome_unknown", "no answer in time", retryable=False, uncertain=True
            ) from None
        except requests.ConnectionError as exc:
            if _never_reached(exc):
                raise SendError(
                    "connection_failed", "could not reach the API", retryable=True
                ) from None
            raise SendError(
                "outcome_unknown", "the connection dropped", retryable=False, uncertain=True
            ) from None
        except requests.RequestException as exc:
            raise SendError("request_failed", type(exc).__name__, retryable=True) from None
        except AfricasTalkingException as exc:
            raise _refused(exc) from None
        return _verdict(body)


def _never_reached(exc: requests.ConnectionError) -> bool:
    """Whether the connection failed before the request could leave (no route, refused)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _refused(exc: AfricasTalkingException) -> SendError:
    """A non-2xx answer. The SDK keeps only the body in its exception; the status is read
    from the response its raising frame still holds."""
    detail = str(exc).strip()[:200]
    status = _http_status(exc)
    if status is None:
        # An SDK that no longer keeps the response: its one well-known final answer aside,
        # assume the gateway's trouble.
        if "authentication is invalid" in detail:
            return SendError("auth_failed", detail, retryable=False)
        return SendError("http_error", detail, retryable=True)
    if retryable_status(status):
        return SendError(f"http_{status}", detail, retryable=True)
    if status == 401:
        return SendError("auth_failed", detail, retryable=False)
    return SendError(f"http_{status}", detail, retryable=False)


def _http_status(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    status = None
    while tb is not None:
        response = tb.tb_frame.f_locals.get("res")
        if isinstance(response, requests.Response):
            status = response.status_code
        tb = tb.tb_next
    return status


def _verdict(body: Any) -> SendResult:
    if not isinstance(body, dict):
        # A 2xx we cannot read may still have been sent: final, never a second copy.
        raise SendError("unreadable_response", "the API answered without JSON", retryable=False)
    data = body.get("SMSMessageData") or {}
    recipients = data.get("Recipients") or []
    if not recipients:
        # e.g. {"Message": "InvalidSenderId", "Recipients": []}
        raise SendError(str(data.get("Message") or "no_recipients")[:64], retryable=False)
    first = recipients[0]
    try:
        code = int(first.get("statusCode"))
    except (TypeError, ValueError):
        code = -1
    if code in SENT_CODES:
        message_id = first.get("messageId")
        return SendResult(provider_message_id=str(message_id) if message_id else None)
    name = str(first.get("status") or f"status_{code}")[:64]
    raise SendError(name, f"statusCode {code}", retryable=code in RETRYABLE_CODES)


def from_settings(settings: Settings) -> AfricasTalkingSMS | None:
    """The SMS sender, or None without `AT_USERNAME` and `AT_API_KEY`."""
    if not (settings.at_username and settings.at_api_key):
        return None
    return AfricasTalkingSMS(
        settings.at_username,
        settings.at_api_key,
        sender_id=settings.at_sender_id,
        base_url=settings.at_api_base_url,
    )
