"""Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are refused with a 4xx, and nothing is written."""

import json

import pytest
from rest_framework.test import APIClient

from access_tokens.forms import new_form_nonce
from access_tokens.models import AccessToken, AccessTokenEvent

pytestmark = pytest.mark.django_db

LIMIT = 1024 * 1024


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


def _nothing_written():
    return not AccessToken.objects.exists() and not AccessTokenEvent.objects.exists()


def test_it_refuses_a_form_body_over_the_limit(alice_client):
    body = f"name={'n' * LIMIT}&expiration=30&scopes=api&nonce={new_form_nonce()}"
    r = alice_client.post(
        "/settings/access-tokens/new/", body, content_type="application/x-www-form-urlencoded"
    )
    assert r.status_code == 400
    assert "Bad request" in r.content.decode()
    assert "Traceback" not in r.content.decode()
    assert _nothing_written()


def test_it_refuses_a_sign_in_body_over_the_limit(client, alice):
    body = f"username=alice&password={'p' * LIMIT}"
    r = client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
    assert "_auth_user_id" not in client.session


def test_it_refuses_an_api_body_over_the_limit(alice, make_token):
    _, raw = make_token(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    body = json.dumps({"name": "n" * LIMIT})
    r = client.post("/api/v1/access-tokens/", body, content_type="application/json")
    assert r.status_code == 413
    assert r.json() == {
        "detail": f"Request body is too large (the limit is {LIMIT} bytes).",
        "code": "request_too_large",
    }
    assert AccessToken.objects.count() == 1


def test_it_refuses_a_revoke_body_over_the_limit(api_client, alice, make_token):
    token, raw = make_token(alice)
    body = json.dumps({"token": raw, "padding": "x" * LIMIT})
    r = api_client.post("/api/v1/access-tokens/revoke/", body, content_type="application/json")
    assert r.status_code == 413
    assert "too large" in r.json()["detail"]
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_it_accepts_a_megabyte_name_under_the_limit_as_a_field_error(alice, make_token):
    _, raw = make_token(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    r = client.post("/api/v1/access-tokens/", {"name": "n" * 1_000_000}, format="json")
    assert r.status_code == 400
    assert r.json()["name"] == ["Ensure this field has no more than 100 characters."]
    assert AccessToken.objects.count() == 1
