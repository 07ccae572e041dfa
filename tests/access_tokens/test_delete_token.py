"""Deleting a token: the confirmation page (no JavaScript) and its POST (also the dialog's)."""

import uuid

import pytest
from django.test import Client

from access_tokens.models import AccessToken
from tests.access_tokens.conftest import LIST_URL, delete_url, shows, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_and_raw(alice, make_token):
    return make_token(alice, name="Old laptop")


def test_it_shows_a_confirmation_page_and_deletes_nothing(alice_client, token_and_raw):
    token, raw = token_and_raw
    response = alice_client.get(delete_url(token))
    assert response.status_code == 200
    body = text(response)
    assert "<h1>Delete token “Old laptop”?</h1>" in body
    assert "Any application using it will no longer be able to authenticate." in body
    assert f"kspat_…{raw[-4:]}" in body
    assert 'method="post"' in body and 'name="csrfmiddlewaretoken"' in body
    assert f'<a class="button" href="{LIST_URL}">Cancel</a>' in body
    assert '<button type="submit" class="button danger">Delete</button>' in body
    assert "no-store" in response["Cache-Control"]
    assert AccessToken.objects.filter(pk=token.pk).exists()
    assert alice_client.head(delete_url(token)).status_code == 200
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_it_deletes_on_post_and_says_so(alice_client, token_and_raw, api_client):
    token, raw = token_and_raw
    response = alice_client.post(delete_url(token))
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_reason == "deleted"
    assert token.revoked_by == token.user

    response = alice_client.get(LIST_URL)
    assert shows(response, "Token Old laptop deleted.")
    # It moves to the inactive tokens, where its owner can still see what became of it.
    assert shows(response, "No active tokens")
    assert [t.pk for t in response.context["inactive"]] == [token.pk]
    assert response.context["rows"] == []
    # The message is shown once.
    assert not shows(alice_client.get(LIST_URL), "Token Old laptop deleted.")
    # And the token is refused on the very next request.
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_it_names_an_unnamed_token_in_the_message(alice, alice_client, make_token):
    token, _ = make_token(alice, name="")
    assert shows(alice_client.get(delete_url(token)), "Delete token “Unnamed token”?")
    alice_client.post(delete_url(token))
    assert shows(alice_client.get(LIST_URL), "Token Unnamed token deleted.")


def test_it_deletes_only_the_chosen_token(alice, alice_client, make_token, token_and_raw):
    keep, _ = make_token(alice, name="Keep me")
    alice_client.post(delete_url(token_and_raw[0]))
    assert list(alice.access_tokens.active()) == [keep]


@pytest.mark.parametrize("outsider", ["bob", "charlie"])
def test_it_answers_404_to_anyone_else(request, client, token_and_raw, outsider):
    token, _ = token_and_raw
    client.force_login(request.getfixturevalue(outsider))
    for response in (client.get(delete_url(token)), client.post(delete_url(token))):
        assert response.status_code == 404
        assert "Page not found" in text(response)
        assert "Old laptop" not in text(response)
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_it_answers_404_to_an_unknown_id(alice_client, token_and_raw):
    unknown = delete_url(uuid.uuid4())
    assert alice_client.get(unknown).status_code == 404
    assert alice_client.post(unknown).status_code == 404
    assert alice_client.get("/settings/access-tokens/not-a-uuid/delete/").status_code == 404
    assert AccessToken.objects.count() == 1


def test_it_answers_404_for_a_token_already_deleted(alice_client, token_and_raw):
    token, _ = token_and_raw
    alice_client.post(delete_url(token))
    assert alice_client.post(delete_url(token)).status_code == 404


def test_it_asks_anonymous_visitors_to_sign_in(client, token_and_raw):
    token, _ = token_and_raw
    for response in (client.get(delete_url(token)), client.post(delete_url(token))):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert AccessToken.objects.filter(pk=token.pk).exists()


def test_it_requires_the_csrf_token(alice, token_and_raw):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    token, _ = token_and_raw
    assert client.post(delete_url(token)).status_code == 403
    assert AccessToken.objects.filter(pk=token.pk).exists()
