"""
System checks (`manage.py check`, run before migrate and runserver): a wrong ACCESS_TOKEN_*
value is reported by name at startup, not discovered by the first person to create a token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from .conf import DEFAULTS, token_settings

# Non-negative whole numbers, and those that must be at least 1.
_AT_LEAST = {
    "MAX_PER_USER": 0,
    "LAST_USED_INTERVAL": 0,
    "REAUTH_SECONDS": 0,
    "DEFAULT_LIFETIME_DAYS": 1,
    "INACTIVE_RETENTION_DAYS": 1,
    "NEW_TOKEN_DISPLAY_SECONDS": 1,
}
_HOOKS = ("CAN_EMAIL_USER", "RECENT_AUTH_CHECK")
_SCOPE_NAME_RE = re.compile(r"^[a-z][a-z0-9_:.-]{0,39}$")


def _error(name: str, message: str, number: int) -> Error:
    return Error(f"ACCESS_TOKEN_{name} {message}", id=f"access_tokens.E{number:03d}")


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_numbers() -> list[Error]:
    errors = []
    for name, minimum in _AT_LEAST.items():
        value = getattr(token_settings, name)
        if not _is_whole(value) or value < minimum:
            errors.append(_error(name, f"must be a whole number ≥ {minimum}, not {value!r}.", 1))
    cap = token_settings.MAX_LIFETIME_DAYS
    if cap is not None and (not _is_whole(cap) or cap < 1):
        errors.append(_error("MAX_LIFETIME_DAYS", f"must be None or ≥ 1, not {cap!r}.", 1))
    default = token_settings.DEFAULT_LIFETIME_DAYS
    if _is_whole(cap) and _is_whole(default) and cap >= 1 and default > cap:
        errors.append(
            _error(
                "DEFAULT_LIFETIME_DAYS",
                f"({default}) is longer than ACCESS_TOKEN_MAX_LIFETIME_DAYS ({cap}).",
                2,
            )
        )
    for name in ("CREATION_EMAIL", "LOOKUP_AHEAD"):
        if not isinstance(getattr(token_settings, name), bool):
            errors.append(_error(name, "must be True or False.", 1))
    return errors


def _check_hooks() -> list[Error]:
    errors = []
    for name in _HOOKS:
        value = getattr(token_settings, name)
        if value is None or callable(value):
            continue
        if not isinstance(value, str):
            errors.append(_error(name, "must be a dotted path to a function, or None.", 3))
            continue
        try:
            hook = import_string(value)
        except ImportError as error:
            errors.append(_error(name, f"cannot be imported: {error}", 3))
            continue
        if not callable(hook):
            errors.append(_error(name, f"names {value!r}, which is not callable.", 3))
    for name in ("REAUTH_URL",):
        value = getattr(token_settings, name)
        if value is not None and not isinstance(value, str):
            errors.append(_error(name, "must be a URL name, a path, or None.", 3))
    for name in ("BASE_TEMPLATE", "SITE_NAME"):
        value = getattr(token_settings, name)
        if not isinstance(value, str) or not value.strip():
            errors.append(_error(name, f"must be a non-empty string, not {value!r}.", 4))
    return errors


def _check_scopes() -> list[Error]:
    from .scopes import BUILT_IN

    extra = token_settings.SCOPES
    if not isinstance(extra, Mapping):
        return [_error("SCOPES", "must be a dict of {name: description}.", 5)]
    built_in = {scope.name for scope in BUILT_IN}
    known = built_in | set(extra)
    errors = []
    for name, value in extra.items():
        where = f"[{name!r}]"
        if not isinstance(name, str) or not _SCOPE_NAME_RE.match(name):
            errors.append(
                _error(
                    "SCOPES",
                    f"has the name {name!r}: use lower-case letters, digits and _ : . - "
                    "(a letter first, at most 40 characters).",
                    5,
                )
            )
            continue
        if name in built_in:
            errors.append(_error("SCOPES", f"{where} would replace a built-in scope.", 6))
        if isinstance(value, str):
            continue
        if not isinstance(value, Mapping) or set(value) - {"description", "implies"}:
            errors.append(
                _error(
                    "SCOPES",
                    f"{where} must be a description, or a dict with 'description' and 'implies'.",
                    5,
                )
            )
            continue
        implies = value.get("implies", ())
        if isinstance(implies, str) or not all(isinstance(n, str) for n in implies):
            errors.append(_error("SCOPES", f"{where}['implies'] must be a list of names.", 5))
            continue
        unknown = sorted(set(implies) - known)
        if unknown:
            errors.append(
                _error("SCOPES", f"{where} implies unknown scopes: {', '.join(unknown)}.", 7)
            )
    return errors


def _check_unknown_names() -> list[Warning]:
    """Catch a misspelt setting (ACCESS_TOKEN_MAX_PER_USERS), which would silently do nothing.
    A warning, not an error: a host may use the prefix for settings of its own."""
    names = [n for n in dir(settings) if n.startswith("ACCESS_TOKEN_")]
    return [
        Warning(
            f"{name} is not a setting of the access_tokens app.",
            hint="Known: " + ", ".join(f"ACCESS_TOKEN_{n}" for n in DEFAULTS) + ".",
            id="access_tokens.W001",
        )
        for name in names
        if name.removeprefix("ACCESS_TOKEN_") not in DEFAULTS
    ]


@register(Tags.compatibility)
def check_settings(app_configs=None, **kwargs) -> list[Error]:
    """Return an error for every ACCESS_TOKEN_* setting that the app cannot use."""
    return [*_check_numbers(), *_check_hooks(), *_check_scopes(), *_check_unknown_names()]


@register(Tags.admin)
def check_user_admin(app_configs=None, **kwargs) -> list[Warning]:
    """Warn when the user admin was registered, after this app's admin, without the tokens."""
    from django.apps import apps
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    from .user_admin import TokenUserAdminMixin

    if not apps.is_installed("django.contrib.admin"):
        return []
    User = get_user_model()
    if not admin.site.is_registered(User):
        return []
    if isinstance(admin.site.get_model_admin(User), TokenUserAdminMixin):
        return []
    return [
        Warning(
            "The user admin does not show users' access tokens.",
            hint=(
                "Put access_tokens.user_admin.TokenUserAdminMixin first in the bases of your "
                "UserAdmin (it was registered after access_tokens' admin, so the app could "
                "not add it)."
            ),
            obj=type(admin.site.get_model_admin(User)),
            id="access_tokens.W002",
        )
    ]
