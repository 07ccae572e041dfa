"""Helpers for the browser pages of personal access tokens."""

import datetime as dt
import html

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from access_tokens import flash
from access_tokens.forms import new_form_nonce
from tests.conftest import sign_in

LIST_URL = "/settings/access-tokens/"
NEW_URL = "/settings/access-tokens/new/"


def delete_url(token_or_id) -> str:
    pk = getattr(token_or_id, "pk", token_or_id)
    return f"/settings/access-tokens/{pk}/delete/"


def form_data(**overrides) -> dict:
    """Return what the create form posts by default: 30 days, scope api, a fresh nonce."""
    data = {
        "name": "CI deploy",
        "description": "",
        "expiration": "30",
        "expires_on": "",
        "scopes": ["api"],
        "nonce": new_form_nonce(),
    }
    data.update(overrides)
    return data


def pending_token(client) -> str | None:
    """Return the raw token waiting in the client's session for the one-time display, read
    with the server's key (the session itself holds it only sealed). Leaves it waiting."""
    pending = flash.take(client.session)
    return pending.raw if pending is not None else None


def today() -> dt.date:
    return timezone.localdate()


def end_of_local_day(day: dt.date) -> dt.datetime:
    """The expected expiry, built independently of the code under test."""
    tz = timezone.get_current_timezone()
    return dt.datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=tz)


def text(response) -> str:
    """The response body as a person reads it (humanize joins numbers with a no-break space)."""
    return response.content.decode().replace("\xa0", " ")


def shows(response, message: str) -> bool:
    """Check that the page shows `message` as text (escaped the way templates escape it)."""
    return html.escape(message) in text(response)


def _as_text(value) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def database_places_holding(*needles: str) -> list[str]:
    """Return "table" (or "django_session (decoded)") for every place a needle is stored.

    Reads every table with plain SQL, so nothing a model might hide escapes, and also decodes
    each session, whose data is base64-encoded.
    """
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                cells = " ".join(_as_text(cell) for cell in row)
                if any(needle in cells for needle in needles):
                    found.append(table)
                    break
    for session in Session.objects.all():
        if any(needle in repr(session.get_decoded()) for needle in needles):
            found.append("django_session (decoded)")
    return found


@pytest.fixture
def bob_client(client, bob):
    sign_in(client, bob)
    return client


@pytest.fixture
def charlie_client(client, charlie):
    sign_in(client, charlie)
    return client


def detail_url(token_or_id) -> str:
    pk = getattr(token_or_id, "pk", token_or_id)
    return f"/settings/access-tokens/{pk}/"


def edit_url(token_or_id) -> str:
    return detail_url(token_or_id) + "edit/"


def rotate_url(token_or_id) -> str:
    return detail_url(token_or_id) + "rotate/"
