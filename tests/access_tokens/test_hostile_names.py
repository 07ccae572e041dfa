"""A token name is text: markup in it is shown, never run, on every page that shows it."""

import pytest

from access_tokens.models import AccessToken
from tests.access_tokens.conftest import LIST_URL, NEW_URL, delete_url, form_data, text

pytestmark = pytest.mark.django_db

NAME = "<img src=x onerror=alert(1)>\"'&"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;"


def _assert_escaped(response):
    body = text(response)
    assert "<img src=x" not in body
    assert "onerror=alert(1)>" not in body
    assert ESCAPED in body


def test_it_escapes_the_name_everywhere(alice, alice_client):
    alice_client.post(NEW_URL, form_data(name=NAME))
    token = AccessToken.objects.get()
    assert token.name == NAME

    # The one-time display and the list: cell, aria-label, title and the dialog's data attribute.
    response = alice_client.get(LIST_URL)
    _assert_escaped(response)
    body = text(response)
    assert f'data-token-name="{ESCAPED}"' in body
    assert f'aria-label="Delete token {ESCAPED}"' in body
    assert f"Your new token “{ESCAPED}”" in body

    _assert_escaped(alice_client.get(delete_url(token)))

    alice_client.post(delete_url(token))
    response = alice_client.get(LIST_URL)
    _assert_escaped(response)
    assert f"Token {ESCAPED} deleted." in text(response)


def test_it_escapes_the_name_in_a_form_that_failed(alice_client):
    response = alice_client.post(NEW_URL, form_data(name=NAME, expiration="custom"))
    assert response.status_code == 200
    _assert_escaped(response)


def test_it_sends_a_content_security_policy_without_inline_script(alice_client):
    response = alice_client.get(LIST_URL)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in text(response)
