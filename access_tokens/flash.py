"""
The one-time display: a new token waits in the user's session, encrypted, for the page that
shows it.

The browser never carries the token (no cookie, no URL): the POST that creates it stores it in
the server-side session and redirects; the next page takes it out and shows it once. Session
data is signed but not encrypted, so the token is sealed with Fernet (AES-128-CBC with an
HMAC-SHA256, from `cryptography`) under a key derived from SECRET_KEY with HKDF and a random
salt per token: a dump of the session table, a WAL segment or a backup holds no usable token.
Fernet stamps the time, and a token left waiting longer than
ACCESS_TOKEN_NEW_TOKEN_DISPLAY_SECONDS (10 minutes) is refused and thrown away.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from .conf import token_settings

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

    from .models import AccessToken

SESSION_KEY = "access_tokens:new"
_INFO = b"keystand access token one-time display"


def _fernet(salt: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class Pending:
    """What the session held: the token's id and name, and its raw value unless too late."""

    token_id: str
    name: str
    raw: str | None

    @property
    def expired(self) -> bool:
        return self.raw is None


def _seconds(now: dt.datetime | None) -> int:
    return int((now or timezone.now()).timestamp())


@sensitive_variables("raw")
def stash(
    session: SessionBase, token: AccessToken, raw: str, *, now: dt.datetime | None = None
) -> None:
    """Keep `raw` for the next page, sealed."""
    salt = os.urandom(16)
    session[SESSION_KEY] = {
        "id": str(token.pk),
        "name": token.display_name,
        "salt": base64.urlsafe_b64encode(salt).decode(),
        "sealed": _fernet(salt).encrypt_at_time(raw.encode(), _seconds(now)).decode(),
    }


@sensitive_variables("raw")
def take(session: SessionBase, *, now: dt.datetime | None = None) -> Pending | None:
    """Remove and return the waiting token, or None. A token that waited too long (or was
    sealed under another SECRET_KEY) comes back without its value."""
    entry = session.pop(SESSION_KEY, None)
    if not isinstance(entry, dict) or "sealed" not in entry:
        return None
    try:
        salt = base64.urlsafe_b64decode(entry["salt"])
        sealed = entry["sealed"].encode()
        ttl = token_settings.NEW_TOKEN_DISPLAY_SECONDS
        raw = _fernet(salt).decrypt_at_time(sealed, ttl, _seconds(now)).decode()
    except (InvalidToken, ValueError, KeyError):
        raw = None
    return Pending(token_id=entry.get("id", ""), name=entry.get("name", ""), raw=raw)
