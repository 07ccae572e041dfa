"""
Sudo mode (GitHub's name): creating, rotating or extending a token in the browser needs a
password (or second factor) entered within the last ACCESS_TOKEN_REAUTH_SECONDS (default 900;
0 turns it off). A two-week-old session must not be enough to mint a credential that outlives
a password change.

The app asks its host through two settings, so it needs no particular accounts system:

- `ACCESS_TOKEN_RECENT_AUTH_CHECK`: dotted path to `fn(request, max_age: int) -> bool`, whether
  the signed-in person entered a password or second factor within `max_age` seconds. Default:
  with `allauth.account` installed, allauth's record of this session's sign-ins and
  re-authentications (`allauth_recent_auth`); without it, the time of this session's last
  sign-in, which the app writes into the session on Django's `user_logged_in` signal
  (`session_recent_auth`) — so any `django.contrib.auth.login()` counts, whatever the host's
  login page.
- `ACCESS_TOKEN_REAUTH_URL`: a URL name or path where a person re-enters the password; it gets
  `?next=<the form's address>`. Default: allauth's `account_reauthenticate` with allauth, else
  `settings.LOGIN_URL` (signing in again there records a fresh sign-in).

A POST that needs re-authentication is not carried out: its fields are kept in the session and
the form comes back filled in afterwards (`stashed_form_data`), for the person to submit again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django.utils.module_loading import import_string
from rest_framework import exceptions

from .conf import token_settings

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

STASH_SESSION_KEY = "access_tokens:reauth_form"
# Never kept: the CSRF token is the old page's, and the form renders a fresh one.
_NOT_STASHED = {"csrfmiddlewaretoken"}
# allauth records how each sign-in and re-authentication was done; these prove a person.
_PROVING_METHODS = {"password", "mfa"}
# Without allauth: when this session last signed in (seconds since the epoch).
SIGNED_IN_AT_SESSION_KEY = "access_tokens:signed_in_at"


def record_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """Remember when this session signed in (connected to `user_logged_in` in apps.py)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT_SESSION_KEY] = time.time()


def session_recent_auth(request: HttpRequest, max_age: int) -> bool:
    """Return whether this session signed in within max_age seconds (see record_sign_in)."""
    at = request.session.get(SIGNED_IN_AT_SESSION_KEY)
    return isinstance(at, int | float) and time.time() - at < max_age


def allauth_recent_auth(request: HttpRequest, max_age: int) -> bool:
    """Return whether allauth saw a password or second factor in this session within max_age."""
    from allauth.account.authentication import get_authentication_records

    records = get_authentication_records(request, request.user)
    times = [r.get("at", 0) for r in records if r.get("method") in _PROVING_METHODS]
    return bool(times) and time.time() - max(times) < max_age


def _default_recent_auth(request: HttpRequest, max_age: int) -> bool:
    if apps.is_installed("allauth.account"):
        return allauth_recent_auth(request, max_age)
    return session_recent_auth(request, max_age)


def recently_authenticated(request: HttpRequest) -> bool:
    """Return whether the person may change tokens now without proving it is them again."""
    max_age = token_settings.REAUTH_SECONDS
    if not max_age:
        return True
    check = token_settings.RECENT_AUTH_CHECK
    if check is None:
        check = _default_recent_auth
    elif isinstance(check, str):
        check = import_string(check)
    return bool(check(request, max_age))


def _reauth_url(request: HttpRequest) -> str:
    target = token_settings.REAUTH_URL
    if target is None:
        allauth = apps.is_installed("allauth.account")
        target = "account_reauthenticate" if allauth else settings.LOGIN_URL
    return f"{resolve_url(target)}?{urlencode({REDIRECT_FIELD_NAME: request.path})}"


def reauthentication_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a POST from a session whose password is too old: keep the form's fields and send
    the person to re-enter the password, then back to the form. GET and HEAD pass."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and not recently_authenticated(request):
            request.session[STASH_SESSION_KEY] = {
                "path": request.path,
                "data": {k: v for k, v in request.POST.lists() if k not in _NOT_STASHED},
            }
            return HttpResponseRedirect(_reauth_url(request))
        return view(request, *args, **kwargs)

    return wrapper


def check_session_write(request) -> None:
    """Refuse an API write made with a browser session (not a token) whose password is too
    old, so the API is no way around sudo mode. Token requests pass: a token is its own proof,
    and the limits on what a token may create live in the services."""
    if request.auth is None and not recently_authenticated(request):
        raise exceptions.PermissionDenied(
            detail=(
                "Confirm your password in the browser first: this session's sign-in is too "
                "old to create tokens. Or call the API with a token."
            ),
            code="reauthentication_required",
        )


def stashed_form_data(request: HttpRequest) -> QueryDict | None:
    """Return (once) the fields of a POST to this page that waited for re-authentication."""
    stash = request.session.get(STASH_SESSION_KEY)
    if not stash or stash.get("path") != request.path:
        return None
    del request.session[STASH_SESSION_KEY]
    data = QueryDict(mutable=True)
    for key, values in stash["data"].items():
        data.setlist(key, values)
    return data


def restore_form_input(form: forms.Form, data: QueryDict) -> None:
    """Put stashed input back into an unbound form as its initial values (lists for fields
    that take several values), so the page shows what was typed, without errors."""
    for name, field in form.fields.items():
        if name in data:
            multiple = isinstance(field, forms.MultipleChoiceField)
            form.initial[name] = data.getlist(name) if multiple else data[name]
