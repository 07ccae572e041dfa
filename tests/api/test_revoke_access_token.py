"""POST /api/v1/access-tokens/revoke/: whoever holds a leaked token can kill it."""

import pytest

from access_tokens import services
from access_tokens.models import AccessTokenEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/access-tokens/revoke/"
UNKNOWN = "If that was a live token, it has been revoked."
LIVE = "That token was live and has been revoked."
NOT_A_TOKEN = (
    "That is not a Keystand token (one starts with kspat_ and has 55 characters). "
    "Nothing was revoked."
)
TYPO = (
    "That is not a valid Keystand token: its checksum does not match, so it was most likely "
    "mistyped or cut short. Nothing was revoked."
)


def _one(raw: str | None, outcome: str, detail: str, index: int = 0) -> dict:
    """The answer for one token found: masked, never whose."""
    masked = None if raw is None else f"kspat_…{raw[-4:]}"
    return {"index": index, "token": masked, "outcome": outcome, "detail": detail}


def _answer(*results: dict, detail: str | None = None) -> dict:
    return {"detail": detail or results[0]["detail"], "results": list(results)}


def test_it_revokes_a_live_token(api_client, alice, alice_token):
    token, raw = alice_token
    r = api_client.post(URL, {"token": raw}, format="json", HTTP_USER_AGENT="scanner/1")
    assert r.status_code == 202
    assert r.json() == _answer(_one(raw, "revoked", LIVE))
    assert raw not in r.content.decode()
    assert alice.access_tokens.active().count() == 0
    token.refresh_from_db()
    assert token.revoked_reason == "revoked_by_value" and token.revoked_by is None
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 401
    assert r.json() == {"detail": "Token has been revoked.", "code": "token_revoked"}
    event = AccessTokenEvent.objects.get(token_id=token.id, action="revoked_by_value")
    assert event.via == "api"
    assert event.actor is None
    assert event.owner == alice
    assert event.token_last_four == raw[-4:]
    assert event.ip == "127.0.0.1"
    assert event.user_agent == "scanner/1"


def test_it_revokes_a_token_pasted_with_whitespace(api_client, alice, alice_token):
    _token, raw = alice_token
    r = api_client.post(URL, {"token": f"  {raw}\n"}, format="json")
    assert r.status_code == 202
    assert alice.access_tokens.active().count() == 0


def test_it_revokes_a_read_only_token(api_client, alice, make_token):
    _token, raw = make_token(alice, scopes=["read_api"])
    r = api_client.post(URL, {"token": raw}, format="json")
    assert r.status_code == 202
    assert r.json() == _answer(_one(raw, "revoked", LIVE))
    assert alice.access_tokens.active().count() == 0


def test_it_records_a_leaked_expired_token_and_says_it_had_expired(api_client, alice, make_token):
    import datetime as dt

    from django.utils import timezone

    from access_tokens.models import AccessToken

    token, raw = make_token(alice)
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    r = api_client.post(URL, {"token": raw}, format="json")
    assert r.status_code == 202
    expired = (
        "That token had already expired, so it no longer worked; it is revoked now too, with "
        "the tokens made with it."
    )
    assert r.json() == _answer(_one(raw, "expired", expired))
    token.refresh_from_db()
    # Revoking it still matters: it records the leak and stops every token made with it.
    assert token.revoked_reason == "revoked_by_value"
    events = AccessTokenEvent.objects.filter(token_id=token.id, action="revoked_by_value")
    assert events.count() == 1
    # Asked again, it is an already revoked token.
    again = api_client.post(URL, {"token": raw}, format="json").json()["detail"]
    assert again.startswith("That token was already revoked: reported as leaked on ")


@pytest.mark.parametrize("value", ["junk", "kspat_", "x" * 10_000, "é", "Bearer kspat_"])
def test_it_says_junk_is_not_a_token_and_never_echoes_it(api_client, alice, alice_token, value):
    # Saying so tells nothing about the server: the format is public. The text is not sent
    # back: it may be some other secret pasted by mistake.
    r = api_client.post(URL, {"token": value}, format="json")
    assert r.status_code == 202
    assert r.json() == _answer(_one(None, "malformed", NOT_A_TOKEN))
    assert alice.access_tokens.active().count() == 1
    assert not AccessTokenEvent.objects.filter(action="revoked_by_value").exists()


def test_it_says_a_mistyped_token_fails_its_checksum(api_client, alice, alice_token):
    _token, raw = alice_token
    typo = raw[:20] + ("B" if raw[20] == "A" else "A") + raw[21:]
    r = api_client.post(URL, {"token": typo}, format="json")
    assert r.status_code == 202
    assert r.json() == _answer(_one(typo, "checksum_mismatch", TYPO))
    assert alice.access_tokens.active().count() == 1


def test_it_says_when_and_how_a_token_was_revoked_but_not_whose(
    api_client, alice, alice_token, settings
):
    settings.TIME_ZONE = "UTC"
    token, raw = alice_token
    services.delete_access_token(token=token, actor=alice)
    token.refresh_from_db()
    when = token.revoked_at.strftime("%Y-%m-%d %H:%M UTC")
    for _ in range(2):
        r = api_client.post(URL, {"token": raw}, format="json")
        assert r.status_code == 202
        detail = f"That token was already revoked: deleted by its owner on {when}."
        assert r.json() == _answer(_one(raw, "already_revoked", detail))
        assert "alice" not in r.content.decode()
    assert not AccessTokenEvent.objects.filter(action="revoked_by_value").exists()


def test_it_says_the_same_for_an_unknown_token(api_client, alice_token):
    raw = services.generate_token()
    r = api_client.post(URL, {"token": raw}, format="json")
    assert r.status_code == 202
    assert r.json() == _answer(_one(raw, "unknown", UNKNOWN))


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"token": None}, "token: This field may not be null."),
        ({"token": ""}, "token: This field may not be blank."),
        ({"token": " \n"}, "token: This field may not be blank."),
        ({"token": "a\x00"}, "token: Null characters are not allowed."),
        ({"token": ["x"]}, "token: Not a valid string."),
        ({"token": 12345}, "token: Not a valid string."),
        ({"token": True}, "token: Not a valid string."),
        ({"token": {"a": 1}}, "token: Not a valid string."),
        ({"token": "x" * 10_001}, "token: Ensure this field has no more than 10000 characters."),
        ({"tokens": "x"}, 'tokens: Expected a list of items but got type "str".'),
        ({"tokens": []}, "tokens: This list may not be empty."),
        ({"tokens": [1]}, "tokens.0: Not a valid string."),
        ({"tokens": ["x"] * 101}, "tokens: Ensure this field has no more than 100 elements."),
    ],
)
def test_it_validates_types(api_client, body, detail):
    r = api_client.post(URL, body, format="json")
    assert r.status_code == 400
    assert r.json()["detail"] == detail
    assert r.json()["code"] == "invalid"
    field = detail.split(":")[0]
    assert field in r.json()


@pytest.mark.parametrize("body", [{}, {"token": "x", "tokens": ["y"]}])
def test_it_needs_token_or_tokens(api_client, body):
    r = api_client.post(URL, body, format="json")
    assert r.status_code == 400
    message = (
        "Send token (a string) or tokens (a list of up to 100 strings), not both and not neither."
    )
    assert r.json() == {"detail": message, "code": "invalid", "non_field_errors": [message]}


def test_it_refuses_unknown_fields(api_client, alice, alice_token):
    _token, raw = alice_token
    r = api_client.post(URL, {"token": raw, "reason": "leaked"}, format="json")
    assert r.status_code == 400
    assert r.json() == {
        "detail": "reason: Unknown field: this endpoint takes token, tokens.",
        "code": "unknown_field",
        "reason": ["Unknown field: this endpoint takes token, tokens."],
    }
    assert alice.access_tokens.active().count() == 1


def test_it_refuses_malformed_json(api_client):
    r = api_client.post(URL, "{token", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer junk", "Basic !!!", "AccessToken kspat_x y", "Token x"]
)
def test_it_ignores_a_broken_authorization_header(api_client, alice, alice_token, header):
    _token, raw = alice_token
    r = api_client.post(URL, {"token": raw}, format="json", HTTP_AUTHORIZATION=header)
    assert r.status_code == 202
    assert r.json() == _answer(_one(raw, "revoked", LIVE))
    assert alice.access_tokens.active().count() == 0


def test_it_needs_no_csrf_token_even_with_a_session(alice, alice_token):
    from rest_framework.test import APIClient

    _token, raw = alice_token
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    r = client.post(URL, {"token": raw}, format="json")
    assert r.status_code == 202
    assert alice.access_tokens.active().count() == 0


def test_it_takes_post_only(api_client):
    r = api_client.get(URL)
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "GET" not allowed.', "code": "method_not_allowed"}


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer {raw}",
        "curl -H 'Authorization: AccessToken {raw}' https://keystand.example/api/v1/me/",
        "2026-11-29 10:02:11 INFO token={raw}&next=1",
        'KEYSTAND_TOKEN="{raw}"\n',
        "{raw}",
    ],
)
def test_it_finds_the_token_in_pasted_text(api_client, alice, alice_token, text):
    # A whole header line used to answer 202 and leave the token live.
    _token, raw = alice_token
    r = api_client.post(URL, {"token": text.format(raw=raw)}, format="json")
    assert r.status_code == 202
    assert r.json() == _answer(_one(raw, "revoked", LIVE))
    assert alice.access_tokens.active().count() == 0


def test_it_revokes_a_batch_and_answers_each_without_saying_whose(
    api_client, alice, bob, make_token, settings
):
    settings.TIME_ZONE = "UTC"
    _a, alices = make_token(alice)
    _b, bobs = make_token(bob)
    gone, gone_raw = make_token(alice)
    services.delete_access_token(token=gone, actor=alice)
    gone.refresh_from_db()
    unknown = services.generate_token()
    typo = alices[:-1] + ("B" if alices[-1] == "A" else "A")
    tokens = [
        f"Authorization: Bearer {alices}",
        f"a log line with two: {bobs} and {gone_raw}",
        unknown,
        typo,
        "not a token at all",
        alices,  # again: answered once
    ]
    r = api_client.post(URL, {"tokens": tokens}, format="json")
    assert r.status_code == 202
    when = gone.revoked_at.strftime("%Y-%m-%d %H:%M UTC")
    assert r.json() == _answer(
        _one(alices, "revoked", LIVE, 0),
        _one(bobs, "revoked", LIVE, 1),
        _one(
            gone_raw,
            "already_revoked",
            f"That token was already revoked: deleted by its owner on {when}.",
            1,
        ),
        _one(unknown, "unknown", UNKNOWN, 2),
        _one(typo, "checksum_mismatch", TYPO, 3),
        _one(None, "malformed", NOT_A_TOKEN, 4),
        detail="Checked 6 tokens: 2 revoked, 1 already revoked, 1 unknown, "
        "1 checksum mismatch, 1 malformed.",
    )
    body = r.content.decode()
    assert "alice" not in body and "bob" not in body
    assert alices not in body and bobs not in body
    assert alice.access_tokens.active().count() == 0
    assert bob.access_tokens.active().count() == 0


def test_it_takes_at_most_100_tokens_however_they_are_sent(api_client, alice, make_token):
    _t, raw = make_token(alice)
    many = " ".join(services.generate_token() for _ in range(100))
    r = api_client.post(URL, {"token": f"{raw} {many}"}, format="json")
    assert r.status_code == 400
    message = "At most 100 tokens at once: this request holds 101."
    assert r.json() == {"detail": message, "code": "invalid", "non_field_errors": [message]}
    assert alice.access_tokens.active().count() == 1
    r = api_client.post(URL, {"tokens": [many]}, format="json")
    assert r.status_code == 202
    assert len(r.json()["results"]) == 100
