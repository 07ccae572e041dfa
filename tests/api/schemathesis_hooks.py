"""Schemathesis hooks for tests/api/test_schemathesis.py, loaded by the schemathesis process
through SCHEMATHESIS_HOOKS, with the live server's settings (its DATABASE_URL) in the
environment.

- A live token on every request. The fuzzer is free to delete or rotate the token it calls
  with (both are operations it must try), and a token cannot be kept from doing so to itself;
  so before each request the token is checked in the server's database and, if the last
  request ended it, replaced by a new one made through the same service the API uses. Every
  answer is then to a live token, and a 401 is a real finding.
- Bodies made to keep rules the schema cannot state: an expiry in the past (the schema says
  "In the future" in words; JSON Schema has no "now") is moved a year ahead, and a
  deprecated `scope` beside `scopes` that says otherwise is dropped. The server's refusal of
  both is tested by the suite's own tests (tests/api/test_create_access_token.py,
  test_rotate.py).
"""

import datetime as dt
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import schemathesis  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.exceptions import ValidationError  # noqa: E402

from access_tokens import services  # noqa: E402
from access_tokens.fields import ExpiresAtField  # noqa: E402
from access_tokens.models import AccessToken  # noqa: E402
from access_tokens.scopes import LEGACY_SCOPES  # noqa: E402

USERNAME = "schemathesis"


@schemathesis.auth(refresh_interval=None)
class LiveToken:
    """Authorization: Bearer <a live api token of USERNAME's>."""

    def __init__(self) -> None:
        self.user, _ = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"email": "schemathesis@example.org"}
        )
        self.token: AccessToken | None = None
        self.raw = ""
        self.issued = 0

    def get(self, case, ctx) -> str:
        if self.token is None or not AccessToken.objects.get(pk=self.token.pk).is_active():
            self.issued += 1
            self.token, self.raw = services.create_access_token(
                user=self.user, name=f"schemathesis {self.issued}", expires_at=None
            )
        return self.raw

    def set(self, case, data: str, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _expiry(value) -> dt.datetime | None:
    try:
        return ExpiresAtField().to_internal_value(value)
    except ValidationError:
        return None  # not an expiry at all: the server must refuse it, leave it be


@schemathesis.hook
def before_call(ctx, case, **kwargs) -> None:
    """Move an expiry in the past a year ahead of now (in the same form), and drop a
    deprecated `scope` that disagrees with `scopes`. In every phase: the coverage phase
    sends boundary values ("2000-01-01") without asking the filter hooks."""
    body = case.body
    if not isinstance(body, dict):
        return
    expires_at = _expiry(body.get("expires_at"))
    if expires_at is not None and expires_at <= timezone.now() + dt.timedelta(minutes=1):
        ahead = timezone.now() + dt.timedelta(days=365)
        dated = len(body["expires_at"]) == len("YYYY-MM-DD")
        body["expires_at"] = ahead.date().isoformat() if dated else ahead.isoformat()
    scope, scopes = body.get("scope"), body.get("scopes")
    if (
        isinstance(scope, str)
        and scope in LEGACY_SCOPES
        and isinstance(scopes, list)
        and all(isinstance(name, str) for name in scopes)
        and set(scopes) != set(LEGACY_SCOPES[scope])
    ):
        del body["scope"]
