"""
Mail leaves the request: a message is rendered where it is asked for and sent by a background
task (Django's tasks API: the `django-tasks` backport, with `django-tasks-db`'s queue in the
database and its `db_worker` command), so an SMTP server that is slow or never answers holds up
a worker, never a request.

The queue is a database table, so what goes into it is sealed: the message (which may carry a
password-reset or invitation link) is encrypted with Fernet under a key derived from SECRET_KEY
with HKDF, and a dump of the table reads nothing. No message carries a raw access token.

A send that fails is queued again, later: after 1 minute, 5 minutes, 30 minutes, 2 hours and
6 hours; then it is given up and logged. A task backend that cannot defer (the immediate one,
used in development) tries once and logs the failure.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import smtplib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

# Seconds to wait before each new attempt; one more failure after the last gives up.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 60 * 60, 6 * 60 * 60)
# What a failed send raises: the server refused, dropped or never answered (a timeout).
SEND_ERRORS = (smtplib.SMTPException, OSError)
_INFO = b"keystand mail queue"


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(message: EmailMessage) -> str:
    if message.attachments:
        raise ValueError("Queued mail carries no attachments.")
    data = {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": message.to,
        "cc": message.cc,
        "bcc": message.bcc,
        "reply_to": message.reply_to,
        "headers": message.extra_headers,
        "content_subtype": message.content_subtype,
        "alternatives": [[content, mimetype] for content, mimetype in _alternatives(message)],
    }
    return _fernet().encrypt(json.dumps(data).encode()).decode()


def _alternatives(message: EmailMessage) -> list:
    return list(getattr(message, "alternatives", []))


def _open(sealed: str) -> EmailMultiAlternatives:
    data = json.loads(_fernet().decrypt(sealed.encode()))
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    message.content_subtype = data["content_subtype"]
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message


def send(message: EmailMessage) -> None:
    """Queue `message` for the task worker; return without touching the mail server."""
    deliver_email.enqueue(_seal(message))


@task()
def deliver_email(sealed: str, attempt: int = 0) -> None:
    """Send one queued message; when that fails, queue it again for later, or give up."""
    try:
        message = _open(sealed)
    except InvalidToken:
        # Sealed under another SECRET_KEY (rotated since it was queued): nothing to send.
        logger.error("A queued email cannot be opened (SECRET_KEY changed?); it is dropped.")
        return
    try:
        message.send()
    except SEND_ERRORS as error:
        _retry_or_give_up(sealed, attempt, message, error)
        # Raised, so the task's own record says it failed and why.
        raise


def _retry_or_give_up(
    sealed: str, attempt: int, message: EmailMessage, error: BaseException
) -> None:
    to = ", ".join(message.recipients())
    why = f"{type(error).__name__}: {error}"
    if not deliver_email.get_backend().supports_defer:
        logger.error(
            "Email %r to %s could not be sent (%s); this task backend cannot retry later.",
            message.subject,
            to,
            why,
        )
    elif attempt < len(RETRY_DELAYS):
        delay = RETRY_DELAYS[attempt]
        run_after = timezone.now() + dt.timedelta(seconds=delay)
        deliver_email.using(run_after=run_after).enqueue(sealed, attempt + 1)
        logger.warning(
            "Email %r to %s could not be sent (%s); retrying in %d s (retry %d of %d).",
            message.subject,
            to,
            why,
            delay,
            attempt + 1,
            len(RETRY_DELAYS),
        )
    else:
        logger.error(
            "Email %r to %s could not be sent (%s); giving up after %d attempts.",
            message.subject,
            to,
            why,
            attempt + 1,
        )
