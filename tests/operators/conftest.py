"""Helpers for the operators' side: the admin, the commands and the emails."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from access_tokens.models import AccessToken

TOKENS_URL = "/admin/access_tokens/accesstoken/"
EVENTS_URL = "/admin/access_tokens/accesstokenevent/"
USERS_URL = "/admin/auth/user/"
FIND_URL = "/admin/access_tokens/accesstoken/find-leaked/"
REVOKE_LEAKED_URL = "/admin/access_tokens/accesstoken/find-leaked/revoke/"


def change_url(token) -> str:
    return f"{TOKENS_URL}{token.pk}/change/"


def set_times(token, **fields) -> AccessToken:
    """Move a token's timestamps into the past or future: the test's time machine."""
    AccessToken.objects.filter(pk=token.pk).update(**fields)
    token.refresh_from_db()
    return token


def ago(**kwargs) -> dt.datetime:
    return timezone.now() - dt.timedelta(**kwargs)


def ahead(**kwargs) -> dt.datetime:
    return timezone.now() + dt.timedelta(**kwargs)


@pytest.fixture
def olivia_client(client, olivia):
    client.force_login(olivia)
    return client


@pytest.fixture
def staff_without_perms(django_user_model):
    """Staff may enter the admin (with two-factor, as staff must), but without permissions
    sees no tokens."""
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import OLIVIA_TOTP_SECRET, _user

    stan = _user(django_user_model, "stan", is_staff=True)
    TOTP.activate(stan, OLIVIA_TOTP_SECRET)
    return stan


@pytest.fixture
def all_logs(caplog):
    """Capture every log record at every level, including Django's own loggers, which do not
    propagate to the root logger that caplog listens on."""
    django_logger = logging.getLogger("django")
    old_level = django_logger.level
    caplog.set_level(logging.DEBUG)
    django_logger.setLevel(logging.DEBUG)
    django_logger.addHandler(caplog.handler)
    yield caplog
    django_logger.removeHandler(caplog.handler)
    django_logger.setLevel(old_level)


def logged_text(caplog) -> str:
    """Everything that was logged, messages and tracebacks alike."""
    handler = caplog.handler
    return "\n".join(handler.format(record) for record in caplog.records)
