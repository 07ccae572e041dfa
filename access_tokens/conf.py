"""
The app's settings: one object, every value with a default.

A host project may set any of them in its Django settings as `ACCESS_TOKEN_<NAME>`; it need set
none. Values are read on every use rather than copied at import, so `override_settings` (and a
settings module that computes them at startup) always win. `checks.py` refuses bad values.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # How many active tokens one user may hold.
    "MAX_PER_USER": 100,
    # The longest lifetime a new or rotated token may have, in days; None = no cap.
    "MAX_LIFETIME_DAYS": None,
    # The lifetime of a token whose creator did not choose one (the form's default too).
    "DEFAULT_LIFETIME_DAYS": 30,
    # last_used_at / last_used_ip are written at most once per this many seconds per token.
    "LAST_USED_INTERVAL": 60,
    # Email the owner whenever a token is created on their account.
    "CREATION_EMAIL": True,
    # Revoked and expired tokens stay visible (as inactive) this many days, then are purged.
    "INACTIVE_RETENTION_DAYS": 30,
    # How long a new token waits, encrypted, for the page that shows it once (seconds).
    "NEW_TOKEN_DISPLAY_SECONDS": 600,
    # Scopes a host project adds to the built-in ones: {"name": "description"}.
    "SCOPES": {},
    # Dotted path to fn(user) -> bool: may this user's address be mailed? See hooks.py.
    "CAN_EMAIL_USER": None,
    # Sudo mode: creating, rotating or extending a token in the browser needs a password (or
    # second factor) entered this many seconds ago at most; 0 = off. See reauth.py.
    "REAUTH_SECONDS": 900,
    # Dotted path to fn(request, max_age) -> bool; None = the default in reauth.py.
    "RECENT_AUTH_CHECK": None,
    # URL name or path of the page that asks for the password again; None = allauth's
    # account_reauthenticate when allauth is installed, else settings.LOGIN_URL.
    "REAUTH_URL": None,
    # The template the app's pages extend (through access_tokens/base.html); see the README.
    "BASE_TEMPLATE": "base.html",
    # How the app names the site in emails ("[Keystand] New token …").
    "SITE_NAME": "Keystand",
}

# Settings that belong to the whole deployment rather than to this app, read unprefixed.
UNPREFIXED: dict[str, Any] = {
    # Proxies (addresses or networks) whose X-Forwarded-For is believed; see client_ip.py.
    "TRUSTED_PROXIES": [],
}


class TokenSettings:
    """Attribute access to the app's settings: `token_settings.MAX_PER_USER`."""

    def __getattr__(self, name: str) -> Any:
        if name in DEFAULTS:
            return getattr(settings, f"ACCESS_TOKEN_{name}", DEFAULTS[name])
        if name in UNPREFIXED:
            return getattr(settings, name, UNPREFIXED[name])
        raise AttributeError(f"No access-token setting named {name!r}.")


token_settings = TokenSettings()
