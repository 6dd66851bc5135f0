"""The outbox's Celery tasks: deliver one notification through its channel, and sweep.

`deliver` works in three steps, each its own transaction or none:
1. claim: lock the row if it is pending, due and free (`FOR UPDATE SKIP LOCKED`), resolve
   the address, mark it `sending` with a new attempt, commit;
2. send: call the provider with no transaction open and no lock held;
3. record: the attempt's outcome, the provider's id, and a retry date if it may pass.

A second run for the same row (a duplicate task, the sweep, a redelivery after a worker
died) finds it taken or no longer pending and does nothing, so no row is sent twice.
Channels plug in with `outbound.register` below.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from channels import outbound
from channels.africastalking import sms_send
from channels.email import smtp
from channels.messages import Outbound
from channels.outbound import Sender, SendError
from channels.telegram import send as telegram_send
from channels.whatsapp import send as whatsapp_send
from hrcore.actor import Channel
from hrcore.db import unit_of_work
from hrcore.identities.service import last_seen, reply_address
from hrcore.notifications import outbox
from hrcore.notifications.models import AttemptOutcome, Notification
from hrcore.people.models import User
from hrcore.tenancy import Crossing, act_as_owner_of, system
from hrcore.worker import celery_app

log = logging.getLogger("ajira.outbox")

outbound.register(Channel.SMS, sms_send.from_settings)
outbound.register(Channel.EMAIL, smtp.from_settings)
outbound.register(Channel.TELEGRAM, telegram_send.from_settings)
outbound.register(Channel.WHATSAPP, whatsapp_send.from_settings)

#: Pauses before trying again to record an outcome the provider already gave.
_RECORD_PAUSES = (0.5, 2.0)


def address_for(session: Session, user: User, channel: Channel) -> str | None:
    """Where `user` gets a message on `channel`."""
    if channel is Channel.WEB:
        return str(user.id)
    if channel is Channel.EMAIL:
        return user.email
    return reply_address(session, user, channel)


def deliver(notification_id: int) -> str:
    """Deliver one outbox row at most once; return what happened (for logs and tests)."""
    with unit_of_work() as session:
        act_as_owner_of(session, Notification, notification_id)
        row = outbox.lock_due(session, notification_id)
        if row is None:
            # Taken by another worker, done, or not due yet.
            log.debug("outbox_skipped notification=%s", notification_id)
            return "skipped"
        sender = outbound.sender_for(row.channel)
        if sender is None:
            outbox.hold(row, f"not_configured: nothing sends {row.channel} here")
            log.info("outbox_held notification=%s channel=%s", row.id, row.channel)
            return "held"
        user = outbox.recipient(session, row)
        address = address_for(session, user, row.channel) if user is not None else None
        if user is None or address is None:
            outbox.fail_unsent(row, "no_recipient" if user is None else "no_address")
            return "failed"
        claimed = outbox.start_attempt(session, row)
        message = Outbound(
            channel=claimed.channel,
            address=address,
            text=claimed.text,
            choices=claimed.choices,
            kind=claimed.kind,
            language=user.language,
            # A chat app's reply window opens with the recipient's last message.
            last_inbound_at=last_seen(session, user, claimed.channel),
        )
    outcome, error, provider_id = _send(sender, message, claimed)
    kept, retry_in = _record(claimed, outcome, error, provider_id)
    if retry_in is not None:
        outbox.dispatch(outbox.DELIVER, notification_id, countdown=retry_in)
    return str(kept)


def _send(
    sender: Sender, message: Outbound, claimed: outbox.Claimed
) -> tuple[AttemptOutcome, SendError | None, str | None]:
    try:
        result = sender.send(message)
    except SendError as err:
        log.warning(
            "outbox_send_failed notification=%s attempt=%s code=%s retryable=%s",
            claimed.notification_id,
            claimed.attempt,
            err.code,
            err.retryable,
        )
        if err.uncertain:
            return AttemptOutcome.UNKNOWN, err, None  # maybe taken: never a second copy
        return (AttemptOutcome.RETRY if err.retryable else AttemptOutcome.FAILED), err, None
    except Exception as exc:
        # Our own bug, maybe after the provider took the message: never a second copy.
        log.exception("outbox_sender_crashed notification=%s", claimed.notification_id)
        return (
            AttemptOutcome.FAILED,
            SendError("internal_error", type(exc).__name__, retryable=False),
            None,
        )
    outcome = AttemptOutcome.DELIVERED if result.delivered else AttemptOutcome.SENT
    return outcome, None, result.provider_message_id


def _record(
    claimed: outbox.Claimed,
    outcome: AttemptOutcome,
    error: SendError | None,
    provider_id: str | None,
) -> tuple[AttemptOutcome, float | None]:
    # The provider has answered; losing that to a database blip would leave the row
    # `sending` until the sweep gives it up as unknown, so try a little harder.
    pauses = list(_RECORD_PAUSES)
    while True:
        try:
            with unit_of_work(claimed.organization_id) as session:
                return outbox.finish_attempt(
                    session,
                    claimed,
                    outcome,
                    provider_message_id=provider_id,
                    error_code=error.code if error else None,
                    error_detail=error.detail if error else None,
                )
        except OperationalError:
            if not pauses:
                raise
            log.warning("outbox_record_retry notification=%s", claimed.notification_id)
            time.sleep(pauses.pop(0))


def sweep(limit: int = 200) -> dict[str, int]:
    """Give up attempts whose worker died, release held rows whose channel is now set up,
    and queue every row due for a while with nobody working on it."""
    # The sweep looks after every employer's outbox at once.
    with unit_of_work() as session, system(session, Crossing.SCHEDULE):
        unknown = outbox.give_up_unfinished(session)
        released = outbox.release_held(session, outbound.configured_channels())
        due = outbox.due(session, limit=limit)
    queued = list(dict.fromkeys([*released, *due]))
    for notification_id in queued:
        outbox.dispatch(outbox.DELIVER, notification_id)
    if unknown or queued:
        log.info("outbox_swept unknown=%s queued=%s", len(unknown), len(queued))
    return {"unknown": len(unknown), "released": len(released), "queued": len(queued)}


@celery_app.task(name=outbox.DELIVER, ignore_result=True)
def deliver_task(notification_id: int) -> str:
    """Celery entry point: deliver one outbox row."""
    return deliver(notification_id)


@celery_app.task(name=outbox.SWEEP, ignore_result=True)
def sweep_task() -> dict[str, int]:
    """Celery entry point (beat, every minute): the outbox sweep."""
    return sweep()
