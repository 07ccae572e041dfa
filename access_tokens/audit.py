"""
The audit trail's one writer.

Every write in services.py (and the expiry notices) appends a row here in the same transaction
as the change it records. Kept apart from services.py so that the writes and the emails can
both use it without importing each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .client_ip import client_ip
from .models import AccessToken, AccessTokenEvent
from .users import display_name

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

# Who the audit trail names when a management command acts without a signed-in operator.
COMMAND_LINE_ACTOR = "command line"


def acting_token(request: HttpRequest | None) -> AccessToken | None:
    """Return the token the request authenticated with, if it did (DRF sets request.auth)."""
    auth = getattr(request, "auth", None) if request is not None else None
    return auth if isinstance(auth, AccessToken) else None


def client_details(request: HttpRequest | None) -> dict:
    """Return the client's address and user agent, ready to store."""
    if request is None:
        return {}
    return {
        "ip": client_ip(request),
        # PostgreSQL refuses NUL in text; a hostile header must not turn a write into a 500.
        "user_agent": request.META.get("HTTP_USER_AGENT", "").replace("\x00", "\ufffd")[:255],
    }


def record_event(
    *,
    action: str,
    token: AccessToken,
    actor: AbstractBaseUser | None,
    via: str,
    request: HttpRequest | None = None,
    detail: str = "",
) -> AccessTokenEvent:
    """Append one row to the audit trail, naming the token the request acted with, if any,
    so an operator who revokes a leaked token can find everything it did."""
    by_token = acting_token(request)
    return AccessTokenEvent.objects.create(
        action=action,
        via=via,
        token_id=token.pk,
        token_name=token.name,
        token_last_four=token.last_four,
        owner=token.user,
        owner_username=display_name(token.user),
        actor=actor,
        actor_username=(
            display_name(actor)
            if actor is not None
            else COMMAND_LINE_ACTOR
            if via == AccessTokenEvent.Via.COMMAND_LINE
            else ""
        ),
        actor_token_id=by_token.pk if by_token is not None else None,
        actor_token_last_four=by_token.last_four if by_token is not None else "",
        detail=detail[:255],
        **client_details(request),
    )
