"""Neither the digest nor the raw token appears on any admin page."""

import re

import pytest

from .conftest import (
    EVENTS_URL,
    FIND_URL,
    TOKENS_URL,
    USERS_URL,
    change_url,
)

pytestmark = pytest.mark.django_db


def test_the_digest_appears_on_no_admin_page(olivia_client, alice, make_token):
    token, raw = make_token(alice, name="CI deploy")
    digest = token.digest
    assert len(digest) == 64
    event_pk = alice.access_token_events.get().pk
    pages = [
        "/admin/",
        TOKENS_URL,
        f"{TOKENS_URL}?q=alice",
        f"{TOKENS_URL}?status=active",
        change_url(token),
        f"{TOKENS_URL}{token.pk}/history/",
        f"{USERS_URL}{alice.pk}/change/",
        f"{USERS_URL}{alice.pk}/delete/",
        USERS_URL,
        EVENTS_URL,
        f"{EVENTS_URL}{event_pk}/change/",
        FIND_URL,
    ]
    for url in pages:
        r = olivia_client.get(url)
        assert r.status_code == 200, url
        assert digest not in r.text, url
        assert digest[:16] not in r.text, url
        assert raw not in r.text, url
    # The confirmation pages of both revoke actions, and a finding for the pasted token.
    r = olivia_client.post(
        TOKENS_URL, {"action": "revoke_selected", "_selected_action": [str(token.pk)]}
    )
    assert "Revoke these tokens?" in r.text
    assert digest not in r.text
    r = olivia_client.post(
        USERS_URL, {"action": "revoke_all_tokens", "_selected_action": [str(alice.pk)]}
    )
    assert "Revoke all tokens of these users?" in r.text
    assert digest not in r.text
    r = olivia_client.post(FIND_URL, {"token": raw})
    assert "status: active" in r.text
    assert digest not in r.text


def test_no_admin_page_of_ours_relies_on_inline_script_or_style(olivia_client, alice, make_token):
    """The CSP allows only our own files: an inline <script> or style attribute would not run."""
    token, raw = make_token(alice, name="CI deploy")
    responses = [
        olivia_client.get("/admin/"),
        olivia_client.get(TOKENS_URL),
        olivia_client.get(change_url(token)),
        olivia_client.get(FIND_URL),
        olivia_client.post(FIND_URL, {"token": raw}),
        olivia_client.post(
            TOKENS_URL, {"action": "revoke_selected", "_selected_action": [str(token.pk)]}
        ),
        olivia_client.get(EVENTS_URL),
        olivia_client.get(f"{USERS_URL}{alice.pk}/change/"),
    ]
    for r in responses:
        assert r.status_code == 200
        assert "script-src 'self'" in r["Content-Security-Policy"]
        inline_scripts = [
            tag
            for tag in re.findall(r"<script\b[^>]*>", r.text)
            if "src=" not in tag and 'type="application/json"' not in tag
        ]
        assert inline_scripts == [], r.request["PATH_INFO"]
        assert re.search(r"\son[a-z]+=\"", r.text) is None, r.request["PATH_INFO"]
        assert ' style="' not in r.text, r.request["PATH_INFO"]
