"""
The app's settings: one object, every value with a default.

A host project may set any of them in its Django settings as `ACCESS_TOKEN_<NAME>`; it need set
none. A value is read from Django's settings on first use, not copied at import, so a settings
module that computes it at startup wins; it is then kept (every API request reads several, and
each read went through Django's settings proxy), and forgotten when Django announces a change
(`override_settings`, pytest-django's `settings`). `checks.py` refuses bad values.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

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
    # On PostgreSQL, send a token's lookup as the request arrives, so the database answers
    # while Django routes the request (ahead.py; needs its LookupAheadMiddleware).
    "LOOKUP_AHEAD": True,
}

# Settings that belong to the whole deployment rather than to this app, read unprefixed.
UNPREFIXED: dict[str, Any] = {
    # Proxies (addresses or networks) whose X-Forwarded-For is believed; see client_ip.py.
    "TRUSTED_PROXIES": [],
}


class TokenSettings:
    """Attribute access to the app's settings: `token_settings.MAX_PER_USER`."""

    def __getattr__(self, name: str) -> Any:
        # Only called for a name not yet in the instance's __dict__: the first read.
        if name in DEFAULTS:
            value = getattr(settings, f"ACCESS_TOKEN_{name}", DEFAULTS[name])
        elif name in UNPREFIXED:
            value = getattr(settings, name, UNPREFIXED[name])
        else:
            raise AttributeError(f"No access-token setting named {name!r}.")
        self.__dict__[name] = value
        return value

    def forget(self, name: str) -> None:
        """Drop the kept value of a setting (its bare name): the next read takes it afresh."""
        self.__dict__.pop(name, None)


token_settings = TokenSettings()


def _forget_changed_setting(*, setting: str, **kwargs) -> None:
    name = setting.removeprefix("ACCESS_TOKEN_")
    if (name != setting and name in DEFAULTS) or setting in UNPREFIXED:
        token_settings.forget(name)


setting_changed.connect(_forget_changed_setting)
