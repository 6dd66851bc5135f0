"""Send a notification by email over SMTP.

`SMTP_URL` is `smtp://user:pass@host:587` (STARTTLS whenever the server offers it) or
`smtps://user:pass@host:465` (TLS from the start). Credentials never cross a connection
without TLS, except to a server on this machine. As with SMS: no connection, a timeout
or a 4xx reply is "try again later"; a 5xx reply (unknown mailbox, bad login) is final.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from channels.messages import Outbound
from channels.outbound import SendError, SendResult
from hrcore.config import Settings

log = logging.getLogger("ajira.outbox")

TIMEOUT_S = 15.0
SUBJECT_MAX = 70


class SMTPSender:
    """One SMTP session per message: notifications are few and far between."""

    def __init__(self, url: str, from_address: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else ""
        self.from_address = from_address or f"Ajira <ajira@{self.host}>"

    def send(self, message: Outbound) -> SendResult:
        try:
            email = self._compose(message)
        except ValueError:
            raise SendError(
                "invalid_address", "not a usable email address", retryable=False
            ) from None
        try:
            with self._connect() as smtp:
                self._secure_and_log_in(smtp)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b""))
            raise _by_reply_code(code, reply) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError("auth_failed", _text(exc.smtp_error), retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            raise _by_reply_code(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SendError("smtp_unsupported", str(exc)[:200], retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            # Refused or dropped connections, timeouts, TLS handshakes that failed.
            raise SendError("connection_failed", type(exc).__name__, retryable=True) from None
        return SendResult(provider_message_id=email["Message-ID"])

    def _compose(self, message: Outbound) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.from_address
        email["To"] = message.address
        email["Subject"] = subject_of(message.text)
        email["Date"] = formatdate(usegmt=True)
        domain = parseaddr(self.from_address)[1].rpartition("@")[2] or self.host
        email["Message-ID"] = make_msgid(domain=domain)
        email.set_content(message.text)
        return email

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=TIMEOUT_S, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)

    def _secure_and_log_in(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        secure = self.implicit_tls
        if not secure and smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
            secure = True
        if self.username is None:
            return
        if not secure and not _is_loopback(self.host):
            raise SendError(
                "smtp_insecure",
                "the server offers no TLS; credentials are not sent in clear",
                retryable=False,
            )
        smtp.login(self.username, self.password)


def subject_of(text: str) -> str:
    """The email's subject: the notification's first line, shortened."""
    first = " ".join(text.strip().splitlines()[0].split()) if text.strip() else "Notification"
    if len(first) > SUBJECT_MAX:
        first = first[: SUBJECT_MAX - 1].rstrip() + "…"
    return f"Ajira: {first}"


def _by_reply_code(code: int, reply: bytes | str) -> SendError:
    return SendError(f"smtp_{code}", _text(reply), retryable=400 <= code < 500)


def _text(reply: bytes | str) -> str:
    raw = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return raw.strip()[:200]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def from_settings(settings: Settings) -> SMTPSender | None:
    """The email sender, or None without `SMTP_URL`."""
    if not settings.smtp_url:
        return None
    try:
        return SMTPSender(settings.smtp_url, settings.smtp_from)
    except ValueError:
        log.error("smtp_url_invalid: email stays in the outbox until SMTP_URL is fixed")
        return None
