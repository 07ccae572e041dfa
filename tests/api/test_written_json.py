"""The token list's first page is written as JSON text by hand (access_tokens/written_json.py,
api.token_text); its bytes must be exactly what DRF's JSONRenderer writes for the data, for every
kind of token and every string a name may hold, and DRF must render whenever it would write
anything else (an indent asked for, other separators, ASCII escaping, another renderer)."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from access_tokens import api
from access_tokens.models import AccessToken
from access_tokens.written_json import string, writes_as_is

from .test_token_representation import tokens_of_every_kind

pytestmark = pytest.mark.django_db

NAMES = [
    'quote " and backslash \\ and slash /',
    "control \x01\x1f tab\tnewline\n return\r",  # PostgreSQL stores no NUL
    "line separator \u2028 and paragraph \u2029",
    "Zoë ☃ 東京 \U0001f511",
    "",
    "x" * 100,
]


def drf(data, media_type=None) -> bytes:
    return JSONRenderer().render(data, media_type)


@pytest.mark.parametrize("value", [*NAMES, "NUL \x00 and DEL \x7f"])
def test_a_string_is_escaped_as_drf_escapes_it(value):
    assert string(value).encode() == drf(value)


@pytest.mark.parametrize("zone", ["UTC", "America/Santiago"])
def test_every_kind_of_token_is_written_as_drf_renders_its_json(alice, make_token, settings, zone):
    settings.TIME_ZONE = zone
    now = timezone.now()
    tokens = tokens_of_every_kind(alice, make_token)
    for number, name in enumerate(NAMES):
        token = tokens[number % len(tokens)]
        AccessToken.objects.filter(pk=token.pk).update(
            name=name[:100], description=name, revoked_reason=token.revoked_reason
        )
    naive = tokens[0]
    naive.last_used_at = dt.datetime(2026, 1, 2, 3, 4, 5)  # written by DRF's own field
    for token in [*AccessToken.objects.filter(user=alice), naive]:
        when = api._instant_json()
        text = api.token_text(token, now, when)
        assert text.encode() == drf(api.token_json(token, now, when)), token.name


def test_an_activated_zone_is_written_as_drf_writes_it(alice, make_token):
    token, _ = make_token(alice, name="zoned")
    token.last_used_at = timezone.now()
    now = timezone.now()
    with timezone.override("Asia/Kathmandu"):
        when = api._instant_json()
        text = api.token_text(token, now, when)
        assert "+05:45" in text
        assert text.encode() == drf(api.token_json(token, now, when))


def page(api_client, raw, **headers):
    return api_client.get("/api/v1/access-tokens/", HTTP_AUTHORIZATION=f"Bearer {raw}", **headers)


def test_the_list_sends_the_written_text_which_is_drfs_rendering(alice, make_token, api_client):
    raw = None
    for name in NAMES:
        # Stored as they are: the service refuses some of them in a name, not the database.
        token, raw = make_token(alice, name="to be renamed")
        AccessToken.objects.filter(pk=token.pk).update(name=name[:100], description=name)
    response = page(api_client, raw)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.data, str)  # the text, sent as it is
    assert response.content == response.data.encode()
    # Read back, DRF writes the very same bytes: key order, separators, escaping.
    assert response.content == drf(json.loads(response.content))
    assert [t["name"] for t in response.json()["results"]] == [n[:100] for n in NAMES][::-1]


def test_an_indent_asked_for_is_rendered_by_drf(alice_token, api_client):
    _, raw = alice_token
    response = page(api_client, raw, HTTP_ACCEPT="application/json; indent=2")
    assert response.status_code == 200
    assert response.content.startswith(b'{\n  "count": 1,')
    assert response.content == drf(response.data, "application/json; indent=2")


@pytest.mark.parametrize(
    ("attribute", "value", "expected"),
    [
        ("compact", False, b'{"count": 1, "next": null'),  # COMPACT_JSON off
        ("ensure_ascii", True, b"Zo\\u00eb"),  # UNICODE_JSON off
    ],
)
def test_other_json_settings_are_rendered_by_drf(
    alice, make_token, api_client, monkeypatch, attribute, value, expected
):
    # DRF reads COMPACT_JSON and UNICODE_JSON once, into the renderer's class attributes.
    monkeypatch.setattr(JSONRenderer, attribute, value)
    _, raw = make_token(alice, name="Zoë")
    response = page(api_client, raw)
    assert response.status_code == 200
    assert expected in response.content
    assert isinstance(response.data, dict)  # DRF's data, rendered by DRF
    assert response.content == drf(response.data)


def test_only_drfs_own_json_rendering_is_written_by_hand():
    class Pretty(JSONRenderer):
        def render(self, data, accepted_media_type=None, renderer_context=None):
            return super().render(data, accepted_media_type, {"indent": 4})

    assert writes_as_is(JSONRenderer(), "application/json", {})
    assert not writes_as_is(JSONRenderer(), "application/json; indent=4", {})
    assert not writes_as_is(JSONRenderer(), None, {"indent": 2})
    assert not writes_as_is(Pretty(), "application/json", {})
    assert not writes_as_is(object(), "application/json", {})


def test_a_session_gets_the_written_page_too(alice, make_token, client):
    make_token(alice, name="from the browser")
    client.force_login(alice)
    response = client.get("/api/v1/access-tokens/")
    assert response.status_code == 200
    assert isinstance(response.data, str)
    assert response.content == drf(json.loads(response.content))
    assert response.json()["results"][0]["name"] == "from the browser"


def test_me_is_written_as_drf_renders_it(alice, make_token, api_client, client):
    alice.username = 'zoë "quoted" \\ \u2028'
    alice.email = "zoë@example.org"
    alice.save()
    _, raw = make_token(alice, name="me")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    response = api_client.get("/api/v1/me/", **auth)
    assert response.status_code == 200
    assert isinstance(response.data, str)  # the text, sent as it is
    assert response.content == drf(json.loads(response.content))
    written = json.loads(response.content)
    assert (written["id"], written["username"], written["email"]) == (
        alice.pk,
        alice.username,
        "zoë@example.org",
    )
    assert written["authenticated_by"] == "access_token"
    assert written["token"]["name"] == "me"
    # An indent asked for: DRF renders the same data.
    indented = api_client.get("/api/v1/me/", HTTP_ACCEPT="application/json; indent=2", **auth)
    assert isinstance(indented.data, dict)
    assert indented.content == drf(indented.data, "application/json; indent=2")
    assert json.loads(indented.content) == written
    # A session has no token to write: DRF renders its data.
    client.force_login(alice)
    by_session = client.get("/api/v1/me/")
    assert isinstance(by_session.data, dict)
    assert by_session.json()["token"] is None
