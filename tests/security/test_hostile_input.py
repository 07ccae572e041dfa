"""Garbage on purpose: Hypothesis over the create form and the API's payloads.

Whatever arrives, the answer is a form or field error (or a success), never a 500, and a
request either writes a whole token with its audit row or writes nothing at all.
"""

import datetime as dt
import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from access_tokens.forms import new_form_nonce
from access_tokens.models import AccessToken, AccessTokenEvent

pytestmark = pytest.mark.django_db

NEW_URL = "/settings/access-tokens/new/"
API_URL = "/api/v1/access-tokens/"
MEGABYTE_NAME = "n" * 1_000_000
HYPOTHESIS = hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a person could paste: any printable or control character, RTL and zero-width marks,
# but no lone surrogates (no browser or JSON encoder can send those as UTF-8).
_marks = st.sampled_from(
    ["\u202e", "\u202d", "\u200f", "\u200b", "\ufeff", "\x00", "\r\n", "\t", "\x1b[31m"]
)
hostile_text = st.lists(
    st.one_of(st.text(st.characters(exclude_categories=["Cs"]), max_size=40), _marks),
    max_size=6,
).map("".join)
any_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3)
    ),
    max_leaves=8,
)
date_like = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(str),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)).map(
        lambda d: d.isoformat() + "Z"
    ),
    st.sampled_from(
        [
            "9999-12-31",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00-14:00",
            "2030-02-30",
            "2030-13-01",
            "tomorrow",
            "",
            " ",
            "2030-01-01T25:00:00Z",
            "+275760-09-13",
            "1e308",
        ]
    ),  # fmt: skip
    hostile_text,
)


def _counts():
    return AccessToken.objects.count(), AccessTokenEvent.objects.count()


def _assert_all_or_nothing(before, status, created_status):
    tokens, events = _counts()
    if status == created_status:
        assert (tokens, events) == (before[0] + 1, before[1] + 1)
    else:
        assert (tokens, events) == before


@pytest.fixture
def roomy(settings):
    settings.ACCESS_TOKEN_MAX_PER_USER = 100_000


@HYPOTHESIS
@given(
    name=hostile_text,
    expiration=st.one_of(st.sampled_from(["7", "30", "custom", "never"]), hostile_text),
    expires_on=date_like,
    scopes=st.one_of(
        st.lists(st.sampled_from(["api", "read_api", "read_user", "self_rotate"]), max_size=4),
        st.lists(hostile_text, max_size=3),
    ),
    nonce=st.one_of(st.just(None), hostile_text),
)
@example(name=MEGABYTE_NAME, expiration="30", expires_on="", scopes=["api"], nonce=None)
@example(name="ok", expiration="custom", expires_on="9999-12-31", scopes=["read_api"], nonce=None)
@example(name="\u202eevil", expiration="-1", expires_on="", scopes=["api"], nonce=None)
@example(name="\x00", expiration="30", expires_on="", scopes=["api"], nonce=None)
def test_it_answers_the_create_form_with_field_errors(
    alice_client, roomy, name, expiration, expires_on, scopes, nonce
):
    form = {
        "name": name,
        "expiration": expiration,
        "expires_on": expires_on,
        "scopes": scopes,
        "nonce": new_form_nonce() if nonce is None else nonce,
    }
    before = _counts()
    r = alice_client.post(NEW_URL, form)

    assert r.status_code in (200, 302)
    _assert_all_or_nothing(before, r.status_code, 302)
    if r.status_code == 200:
        body = r.content.decode()
        assert 'role="alert"' in body or "errorlist" in body or "field-error" in body
        assert r.context["form"].errors


@HYPOTHESIS
@given(
    payload=st.one_of(
        any_json,
        st.fixed_dictionaries(
            {},
            optional={
                "name": any_json,
                "expires_at": st.one_of(date_like, any_json),
                "scope": any_json,
                "scopes": any_json,
                "description": any_json,
            },
        ),  # fmt: skip
    )
)
@example(payload={"name": MEGABYTE_NAME})
@example(payload={"name": "x", "expires_at": "9999-12-31"})
@example(payload={"name": "x", "expires_at": "9999-12-31T23:59:59-14:00"})
@example(payload={"name": ["a"], "expires_at": 1e308, "scope": {"x": 1}})
@example(payload={"scopes": [["api"]], "description": "\x00"})
@example(payload={"scopes": ["api", None], "scope": "read_only"})
@example(payload={"name": "\u0000"})
def test_it_answers_api_payloads_with_field_errors(alice, make_token, roomy, payload):
    cache.clear()  # the per-user throttle counts every example
    _, raw = make_token(alice, name="caller")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    before = _counts()
    r = client.post(API_URL, json.dumps(payload), content_type="application/json")

    assert r.status_code in (201, 400)
    _assert_all_or_nothing(before, r.status_code, 201)
    body = r.json()
    if r.status_code == 400:
        assert isinstance(body["detail"], str)
    else:
        assert body["token"].startswith("kspat_")


@HYPOTHESIS
@given(body=st.binary(max_size=200))
@example(body=b'{"name": "unterminated')
@example(body=b'{"name": "\xff\xfe"}')
@example(body=b"\xef\xbb\xbf{}")
@example(body=b'{"name": "a", "name": "b"}')
@example(body=b'{"name": "x", "expires_at": Infinity}')
@example(body=b"[" * 5000 + b"]" * 5000)
def test_it_answers_malformed_json_with_400(alice, make_token, body):
    cache.clear()
    _, raw = make_token(alice, name="caller")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    before = _counts()
    r = client.post(API_URL, body, content_type="application/json")

    assert r.status_code in (201, 400)
    _assert_all_or_nothing(before, r.status_code, 201)
    assert ("token" if r.status_code == 201 else "detail") in r.json()


@HYPOTHESIS
@given(payload=any_json)
@example(payload={"token": "kspat_" + "A" * 49})
@example(payload={"token": "x" * 5000})
def test_it_answers_the_revoke_endpoint_without_500(alice, make_token, payload):
    cache.clear()
    token, _ = make_token(alice, name="survivor")
    r = APIClient().post("/api/v1/access-tokens/revoke/", payload, format="json")

    assert r.status_code in (202, 400)
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_it_refuses_invalid_utf8_in_the_form(alice_client):
    before = _counts()
    r = alice_client.post(
        NEW_URL,
        b"name=%FF%FE%00&expiration=30&scopes=api&nonce=" + new_form_nonce().encode(),
        content_type="application/x-www-form-urlencoded",
    )
    # Bad bytes decode to U+FFFD; the NUL is refused as a field error.
    assert r.status_code == 200
    assert _counts() == before
    assert "Null characters are not allowed." in r.content.decode()


def test_it_records_a_user_agent_with_a_nul_without_failing(alice, make_token):
    # gunicorn refuses NUL in headers, but other servers pass it on; PostgreSQL refuses it.
    _, raw = make_token(alice, name="caller")
    client = APIClient(HTTP_USER_AGENT="evil\x00agent")
    client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    r = client.post(API_URL, {"name": "from a hostile agent"}, format="json")

    assert r.status_code == 201
    event = AccessTokenEvent.objects.get(token_id=r.json()["id"])
    assert event.user_agent == "evil\ufffdagent"
