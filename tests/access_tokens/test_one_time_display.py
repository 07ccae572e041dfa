"""The new token is shown once, on the page the create form redirects to, and never again."""

import datetime as dt
import re
import time

import pytest
from django.contrib.messages import get_messages
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from access_tokens import flash, services
from access_tokens.models import AccessToken
from tests.access_tokens.conftest import (
    LIST_URL,
    NEW_URL,
    delete_url,
    form_data,
    pending_token,
    shows,
    text,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

WARNING = (
    "Make sure to copy your personal access token now. This is the only time it will be shown."
)


def _cookie_values(client, response) -> list[str]:
    values = [str(morsel.value) for morsel in response.cookies.values()]
    values += [morsel.OutputString() for morsel in response.cookies.values()]
    values += [str(morsel.value) for morsel in client.cookies.values()]
    return values


def test_it_shows_the_new_token_once(alice_client):
    response = alice_client.post(NEW_URL, form_data(name="CI deploy"))
    assert response.status_code == 302
    assert response["Location"] == LIST_URL

    response = alice_client.get(LIST_URL)
    body = text(response)
    raw = response.context["new_token"].raw
    token = AccessToken.objects.get()
    assert services.token_digest(raw) == token.digest
    assert body.count(raw) == 1
    box = re.search(r'<section class="new-token".*?</section>', body, re.S).group(0)
    assert "Your new token “CI deploy”" in box
    assert WARNING in box
    assert re.search(
        rf'<input id="new-token-value" class="mono token-field" type="text" value="{raw}" readonly',
        box,
    )
    assert re.search(
        r'<button type="button" class="button copy-button" data-copy="#new-token-value"[^>]*>'
        r'<span data-copy-label="ready">Copy</span>',
        box,
    )
    # The box comes before the table, and the new row is highlighted.
    assert body.index("new-token") < body.index('<table class="tokens" id="active-tokens">')
    assert '<tr class="highlight">' in body

    response = alice_client.get(LIST_URL)
    assert response.status_code == 200
    assert raw not in text(response)
    assert WARNING not in text(response)
    assert response.context["new_token"] is None
    assert f"kspat_…{raw[-4:]}" in text(response)


def test_it_forbids_caching_of_every_page_that_may_hold_a_token(alice, alice_client, make_token):
    token, _ = make_token(alice)
    responses = [
        alice_client.get(NEW_URL),
        alice_client.post(NEW_URL, form_data()),
        alice_client.get(LIST_URL),
        alice_client.get(delete_url(token)),
        alice_client.post(delete_url(token)),
    ]
    for response in responses:
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]
        assert "private" in response["Cache-Control"]


def test_it_puts_the_token_in_no_cookie_and_no_url(alice_client):
    post = alice_client.post(NEW_URL, form_data())
    raw = pending_token(alice_client)
    assert raw not in post["Location"]
    get = alice_client.get(LIST_URL)
    for response in (post, get):
        for value in _cookie_values(alice_client, response):
            assert raw not in value
            assert raw[6:49] not in value
        for header, value in response.items():
            assert raw not in value, header


def test_it_does_not_use_the_messages_framework_for_the_token(alice_client):
    post = alice_client.post(NEW_URL, form_data())
    raw = pending_token(alice_client)
    assert all(raw not in str(m) for m in get_messages(post.wsgi_request))
    assert all(
        raw not in repr(v) for k, v in alice_client.session.items() if k != "access_tokens:new"
    )
    response = alice_client.get(LIST_URL)
    assert list(response.context["messages"]) == []


def test_it_keeps_the_display_through_a_head_request(alice_client):
    alice_client.post(NEW_URL, form_data())
    assert alice_client.head(LIST_URL).status_code == 200
    response = alice_client.get(LIST_URL)
    assert response.context["new_token"] is not None


def test_it_shows_nothing_if_the_token_was_deleted_before_the_page_loaded(alice_client):
    alice_client.post(NEW_URL, form_data())
    raw = pending_token(alice_client)
    alice_client.post(delete_url(AccessToken.objects.get()))
    response = alice_client.get(LIST_URL)
    assert raw not in text(response)
    assert "access_tokens:new" not in alice_client.session


def test_it_shows_my_token_to_me_only(alice_client, bob):
    # Two browsers with sessions of their own, signed in at the same time.
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.session.session_key != alice_client.session.session_key

    alice_client.post(NEW_URL, form_data())
    raw = pending_token(alice_client)

    bob_page = bob_client.get(LIST_URL)
    assert bob_page.status_code == 200
    assert bob_page.context["new_token"] is None
    assert raw not in text(bob_page)
    assert pending_token(bob_client) is None
    # Bob's visit neither showed nor used up alice's one-time display.
    assert raw in text(alice_client.get(LIST_URL))


def test_it_forgets_the_token_when_the_user_logs_out(alice_client, alice):
    alice_client.post(NEW_URL, form_data())
    alice_client.post("/accounts/logout/")
    sign_in(alice_client, alice)
    response = alice_client.get(LIST_URL)
    assert response.context["new_token"] is None


def test_it_puts_the_token_in_no_email(
    alice_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(NEW_URL, form_data(name="Mailed?"))
    raw = pending_token(alice_client)
    for message in mailoutbox:
        parts = [message.subject, message.body]
        parts += [content for content, _ in getattr(message, "alternatives", [])]
        assert all(raw not in str(part) and raw[6:49] not in str(part) for part in parts)


# --- The waiting token is sealed --------------------------------------------------------------


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_it_keeps_the_waiting_token_unreadable_without_the_key(alice_client, settings):
    alice_client.post(NEW_URL, form_data())
    raw = pending_token(alice_client)
    row = _session_row(alice_client)
    # What a dump holds: the row's text, and what Django's own decoding makes of it.
    assert raw not in row.session_data
    decoded = row.get_decoded()
    assert raw not in repr(decoded) and raw[6:49] not in repr(decoded)
    assert set(decoded["access_tokens:new"]) == {"id", "name", "salt", "sealed"}
    # The seal opens only with the server's key, which is not in the database.
    settings.SECRET_KEY = "another-key-" + "x" * 50
    pending = flash.take(dict(decoded))
    assert pending.raw is None and pending.expired


def test_it_forgets_a_token_left_waiting_too_long(alice_client, settings):
    settings.ACCESS_TOKEN_NEW_TOKEN_DISPLAY_SECONDS = 1
    alice_client.post(NEW_URL, form_data(name="Slow tab"))
    raw = pending_token(alice_client)
    assert raw is not None
    time.sleep(2.2)  # Fernet stamps whole seconds
    assert pending_token(alice_client) is None
    page = alice_client.get(LIST_URL)
    assert page.context["new_token"] is None
    assert raw not in text(page)
    assert shows(
        page,
        "Your new token “Slow tab” can no longer be shown: it waited more than 1 second to be "
        "displayed. If you did not copy it, delete it and create another.",
    )
    assert "access_tokens:new" not in alice_client.session


def test_it_takes_the_waiting_token_at_a_given_time(alice):
    session = SessionStore()
    token, raw = services.create_access_token(user=alice, name="x")
    now = timezone.now()
    flash.stash(session, token, raw, now=now)
    later = now + dt.timedelta(minutes=10)
    assert flash.take(dict(session), now=later).raw == raw
    too_late = later + dt.timedelta(seconds=1)
    pending = flash.take(session, now=too_late)
    assert pending.expired and pending.name == "x" and pending.token_id == str(token.pk)
