"""
The emails Keystand sends about tokens: created, revoked by an operator, expiring soon.

Plain text, one template each under the app's templates/access_tokens/emails/. They name a
token by its name and masked value (kspat_…a1B2); the raw token never goes into an email. Each
is rendered here and sent by a background task (mail.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import textwrap
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import mail
from .audit import record_event
from .client_ip import client_ip
from .conf import token_settings
from .hooks import can_email_user
from .models import AccessToken, AccessTokenEvent
from .users import email_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

# Characters that could break a line, reorder text or hide in an email: shown as U+FFFD.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def plain(text: str) -> str:
    """Return `text` safe to quote on one line of a plain-text email.

    Plain text needs no HTML escaping (that would show "&lt;"), but a name must not be able
    to start a new line or flip the direction of the text around it.
    """
    return "".join(
        "\ufffd" if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text
    )


def tokens_page_url(request: HttpRequest | None = None) -> str:
    """Return the absolute address of the token page: from the request when there is one,
    from SITE_URL for commands and cron; a bare path if neither is known."""
    path = reverse("access_tokens:list")
    if request is not None:
        return request.build_absolute_uri(path)
    site_url = getattr(settings, "SITE_URL", "")
    return site_url.rstrip("/") + path if site_url else path


# Plain-text mail is read in 78-column windows, and a longer line is broken wherever the
# client likes. A name of up to 100 characters without a space is wrapped here instead, each
# continuation indented under the first line, so the "Name:" column stays a column.
_LINE = 76


def _wrapped(text: str, *, indent: int) -> str:
    lines = textwrap.wrap(text, width=_LINE - indent, break_on_hyphens=False) or [""]
    return ("\n" + " " * indent).join(lines)


def _describe(token: AccessToken) -> dict:
    name = plain(token.display_name)
    return {
        "name": _wrapped(name, indent=12),  # after "  Name:     "
        "listed": _wrapped(f"{name} ({token.masked})", indent=2),
        "masked": token.masked,
        "scopes": ", ".join(token.scope_list),
        "expires": (
            timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M %Z")
            if token.expires_at
            else "never"
        ),
    }


def _send(user: AbstractBaseUser, subject: str, template: str, ctx: dict) -> bool:
    if not can_email_user(user):
        return False
    site = token_settings.SITE_NAME
    ctx = {"username": plain(user.get_username()), "site_name": site, **ctx}
    body = render_to_string(f"access_tokens/emails/{template}", ctx)
    # Queued: a worker sends it, so a slow mail server never holds up the request (mail.py).
    mail.send(EmailMessage(f"[{site}] {subject}", body, None, [email_of(user)]))
    return True


def send_token_created(token: AccessToken, *, via: str, request: HttpRequest | None = None) -> bool:
    """Tell the owner a token was created on their account, so a stranger's token is noticed."""
    ctx = {
        "token": _describe(token),
        "via": AccessTokenEvent.Via(via).label,
        "ip": client_ip(request) if request is not None else None,
        "when": timezone.localtime(token.created_at).strftime("%Y-%m-%d %H:%M %Z"),
        "url": tokens_page_url(request),
    }
    return _send(token.user, "A personal access token was created", "created.txt", ctx)


def send_token_revoked_by_operator(
    token: AccessToken, *, request: HttpRequest | None = None
) -> bool:
    """Tell the owner an operator revoked one of their tokens, so a broken script is explained."""
    ctx = {
        "token": _describe(token),
        "revoked_with": [_describe(t) for t in getattr(token, "revoked_with", [])],
        "url": tokens_page_url(request),
    }
    return _send(token.user, "An operator revoked one of your access tokens", "revoked.txt", ctx)


def send_tokens_expiring(user: AbstractBaseUser, tokens: list[AccessToken]) -> bool:
    """Tell the owner which of their tokens stop working soon."""
    ctx = {"tokens": [_describe(t) for t in tokens], "url": tokens_page_url()}
    if len(tokens) == 1:
        subject = "Your access token expires soon"
    else:
        subject = f"{len(tokens)} of your access tokens expire soon"
    return _send(user, subject, "expiring.txt", ctx)


@dataclass
class ExpiryNotice:
    owners: int = 0
    tokens: int = 0
    skipped_no_email: int = 0
    # Owners whose address may not be mailed yet (unverified): their tokens stay unclaimed,
    # so a later run mails them once the address is verified.
    waiting_for_address: int = 0


def notify_expiring_tokens(
    *, within: dt.timedelta, dry_run: bool = False, now: dt.datetime | None = None
) -> ExpiryNotice:
    """Email each owner about their live tokens that expire within `within`, once per token.

    Each token is claimed with a conditional UPDATE before its mail is queued, inside one
    transaction per owner: a second run (or a concurrent one from another cron host) finds
    nothing left to claim, and a mail that cannot be queued leaves its tokens for the next run.
    Sending is the task worker's, with its retries (mail.py).
    """
    now = now or timezone.now()
    due = (
        AccessToken.objects.select_related("user")
        .filter(
            expires_at__gt=now,
            expires_at__lte=now + within,
            revoked_at__isnull=True,
            expiry_notified_at__isnull=True,
            user__is_active=True,
        )
        .order_by("user_id", "expires_at")
    )
    # Keyed by the owner's pk, whatever its type (an int, a UUID, …).
    by_owner: dict[object, list[AccessToken]] = defaultdict(list)
    for token in due:
        by_owner[token.user_id].append(token)

    result = ExpiryNotice()
    for tokens in by_owner.values():
        owner = tokens[0].user
        if not email_of(owner):
            result.skipped_no_email += len(tokens)
            continue
        if not can_email_user(owner):
            result.waiting_for_address += len(tokens)
            continue
        if dry_run:
            result.owners += 1
            result.tokens += len(tokens)
            continue
        with transaction.atomic():
            claimed = [
                t
                for t in tokens
                if AccessToken.objects.filter(pk=t.pk, expiry_notified_at__isnull=True).update(
                    expiry_notified_at=now
                )
            ]
            if not claimed:
                continue
            for token in claimed:
                record_event(
                    action=AccessTokenEvent.Action.EXPIRY_NOTIFIED,
                    token=token,
                    actor=None,
                    via=AccessTokenEvent.Via.COMMAND_LINE,
                    detail=f"emailed {email_of(owner)}",
                )
            send_tokens_expiring(owner, claimed)
        result.owners += 1
        result.tokens += len(claimed)
    return result
