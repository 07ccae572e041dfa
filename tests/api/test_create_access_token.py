"""POST /api/v1/access-tokens/: create a token; the raw value is in this one answer only."""

import datetime as dt

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent

from .fields import TOKEN_FIELDS

pytestmark = pytest.mark.django_db

URL = "/api/v1/access-tokens/"
FIELDS = {*TOKEN_FIELDS, "token"}


@pytest.fixture
def post(api_client, alice_token):
    _token, raw = alice_token

    def post(data, **extra):
        return api_client.post(
            URL, data, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}", **extra
        )

    return post


def _assert_field_error(r, field, message):
    assert r.status_code == 400, r.content
    body = r.json()
    assert body[field] == [message]
    prefix = "" if field == "non_field_errors" else f"{field}: "
    assert body["detail"] == prefix + message


def test_it_creates_a_token_and_shows_it_once(api_client, alice, post):
    when = timezone.now() + dt.timedelta(days=10)
    r = post(
        {"name": "deploy", "expires_at": when.isoformat(), "scope": "read_only"},
        HTTP_USER_AGENT="curl/8",
    )
    assert r.status_code == 201
    assert r["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == FIELDS
    raw = body["token"]
    assert services.is_well_formed(raw)
    assert body["last_four"] == raw[-4:]
    assert body["name"] == "deploy"
    assert body["scope"] == "read_only"
    assert body["scopes"] == ["read_api"]
    assert body["created_via"] == "api"
    assert dt.datetime.fromisoformat(body["expires_at"]) == when
    assert body["expired"] is False
    assert body["last_used_at"] is None
    token = alice.access_tokens.get(pk=body["id"])
    assert token.digest == services.token_digest(raw)
    # It works on the very next request, as itself.
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"AccessToken {raw}")
    assert r.status_code == 200
    assert r.json()["token"]["id"] == body["id"]
    # ...and only this answer ever carried it.
    r = api_client.get(f"{URL}{body['id']}/", HTTP_AUTHORIZATION=f"AccessToken {raw}")
    assert "token" not in r.json()
    event = AccessTokenEvent.objects.get(token_id=token.id, action="created")
    assert event.via == "api"
    assert event.actor == alice
    assert event.user_agent == "curl/8"
    assert raw not in str(event.__dict__)


def test_it_uses_defaults_for_an_empty_body(alice, post):
    before = timezone.localdate()
    r = post({})
    after = timezone.localdate()  # the same day, unless the test straddled midnight
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == ""
    assert body["scopes"] == ["api"]
    assert body["scope"] == "read_write"
    expected = {services.end_of_day(day + dt.timedelta(days=30)) for day in (before, after)}
    assert dt.datetime.fromisoformat(body["expires_at"]) in expected


def test_it_creates_a_token_that_never_expires(post):
    r = post({"expires_at": None})
    assert r.status_code == 201
    assert r.json()["expires_at"] is None


def test_it_takes_a_bare_date_as_the_end_of_that_day(post):
    day = timezone.localdate() + dt.timedelta(days=7)
    r = post({"expires_at": day.isoformat()})
    assert r.status_code == 201
    assert dt.datetime.fromisoformat(r.json()["expires_at"]) == services.end_of_day(day)


def test_it_trims_the_name(post):
    r = post({"name": "  ci  "})
    assert r.status_code == 201
    assert r.json()["name"] == "ci"


@pytest.mark.parametrize(
    "expires_at",
    [
        # Computed in the test: a value taken at collection would differ between the
        # parallel workers, which must all collect the same tests.
        pytest.param(None, id="a-minute-ago"),
        "2001-01-01T00:00:00Z",
        "2001-01-01",
    ],
)
def test_it_refuses_an_expiry_in_the_past(post, expires_at):
    if expires_at is None:
        expires_at = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    _assert_field_error(
        post({"expires_at": expires_at}), "expires_at", "The expiry must be in the future."
    )


WRONG_FORMAT = (
    "Not a valid expiry. A date YYYY-MM-DD (the token works through the end of that day in the "
    "server's time zone) or an RFC 3339 date-time with an offset, YYYY-MM-DDTHH:MM:SS[.ffffff]Z "
    "or …+HH:MM (it works until that instant)."
)


@pytest.mark.parametrize(
    "expires_at", ["tomorrow", "", "2030-13-01", "2030-02-30", 5, True, [], {}]
)
def test_it_refuses_a_malformed_expiry(alice, post, expires_at):
    r = post({"expires_at": expires_at})
    assert r.status_code == 400
    assert set(r.json()) == {"detail", "code", "expires_at"}
    assert r.json()["detail"].startswith("expires_at: ")
    assert alice.access_tokens.count() == 1


def test_it_explains_the_expiry_format(post):
    _assert_field_error(post({"expires_at": "next week"}), "expires_at", WRONG_FORMAT)


def test_it_refuses_an_expiry_out_of_range(post):
    r = post({"expires_at": "9999-12-31T23:59:59-05:00"})
    _assert_field_error(r, "expires_at", "That date is too far in the future.")
    r = post({"expires_at": "9999-12-31"})
    _assert_field_error(r, "expires_at", "That date is too far in the future.")


@pytest.mark.parametrize(
    "expires_at",
    [
        "20300131",  # ISO 8601's basic form: it used to mean the start of that day
        "2030-01-31T12:00:00",  # no offset: in which zone?
        "2030-01-31 12:00:00Z",  # a space instead of T
        "2030-01-31T12:00Z",  # no seconds
        "2030-01-31T12:00:00+0100",  # an offset without its colon
        "2030-01-31T12:00:00+01",
        " 2030-01-31",
        "2030-01-31\n",
        "2030-1-31",
        "2030-W05-4",
        "2030-031",
        "31/01/2030",
        "2030-01-31T12:00:00+25:00",
    ],
)
def test_it_refuses_every_form_it_does_not_document(alice, post, expires_at):
    r = post({"expires_at": expires_at})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    assert r.json()["detail"].startswith("expires_at: Not a valid")
    assert alice.access_tokens.count() == 1


@pytest.mark.parametrize(
    ("expires_at", "instant"),
    [
        ("2030-01-31T12:00:00Z", dt.datetime(2030, 1, 31, 12, tzinfo=dt.UTC)),
        ("2030-01-31t12:00:00z", dt.datetime(2030, 1, 31, 12, tzinfo=dt.UTC)),
        ("2030-01-31T13:30:00+01:30", dt.datetime(2030, 1, 31, 12, tzinfo=dt.UTC)),
        ("2030-01-31T07:00:00-05:00", dt.datetime(2030, 1, 31, 12, tzinfo=dt.UTC)),
        (
            "2030-01-31T12:00:00.123456789Z",
            dt.datetime(2030, 1, 31, 12, 0, 0, 123456, tzinfo=dt.UTC),
        ),
    ],
)
def test_it_takes_an_rfc_3339_date_time_as_that_instant(post, expires_at, instant):
    r = post({"expires_at": expires_at})
    assert r.status_code == 201, r.json()
    assert dt.datetime.fromisoformat(r.json()["expires_at"]) == instant


def test_it_refuses_unknown_fields_and_names_them(alice, post):
    # {"read_only": true} used to be dropped silently, creating a token with full access.
    r = post({"scopes": ["read_api"], "read_only": True, "owner": "bob"})
    assert r.status_code == 400
    takes = "Unknown field: this endpoint takes name, description, expires_at, scopes, scope."
    assert r.json() == {
        "detail": f"owner: {takes}",
        "code": "unknown_field",
        "owner": [takes],
        "read_only": [takes],
    }
    assert alice.access_tokens.count() == 1


def test_it_reports_unknown_fields_with_the_other_errors(alice, post):
    r = post({"name": 5, "colour": "red"})
    assert r.status_code == 400
    assert r.json()["code"] == "unknown_field"
    assert r.json()["name"] == ["Not a valid string."]
    assert r.json()["colour"][0].startswith("Unknown field")


@pytest.mark.parametrize("field", ["detail", "code"])
def test_an_unknown_field_named_like_the_error_keys_does_not_overwrite_them(post, field):
    r = post({field: "x"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "unknown_field"
    takes = "Unknown field: this endpoint takes name, description, expires_at, scopes, scope."
    assert body["non_field_errors"] == [f"{field}: {takes}"]
    assert body["detail"] == f"{field}: {takes}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 12345}, "name"),
        ({"name": True}, "name"),
        ({"description": 1.5}, "description"),
        ({"scopes": [1]}, "scopes.0"),
        ({"scopes": "api"}, "scopes"),
    ],
)
def test_it_takes_strings_only_where_it_says_string(alice, post, body, field):
    r = post(body)
    assert r.status_code == 400
    assert field in r.json(), r.json()
    assert alice.access_tokens.count() == 1


def test_it_refuses_a_name_that_is_too_long(alice, post):
    r = post({"name": "x" * 101})
    _assert_field_error(r, "name", "Ensure this field has no more than 100 characters.")
    assert post({"name": "x" * 100}).status_code == 201


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (["a"], "Not a valid string."),
        ({"a": 1}, "Not a valid string."),
        (None, "This field may not be null."),
        ("a\x00b", "Null characters are not allowed."),
        ("a\x07b", "A name can't contain control characters."),
    ],
)
def test_it_refuses_a_bad_name(post, name, message):
    _assert_field_error(post({"name": name}), "name", message)


def test_it_refuses_a_name_that_contains_a_token(alice, alice_token, post):
    _token, raw = alice_token
    r = post({"name": f"backup of {raw}"})
    message = "That looks like an access token. Never put a token in its name."
    _assert_field_error(r, "name", message)
    assert raw not in r.content.decode()
    assert alice.access_tokens.count() == 1


@pytest.mark.parametrize("scope", ["admin", "", "READ_ONLY", 5, None, ["read_only"]])
def test_it_refuses_a_bad_scope(alice, post, scope):
    r = post({"scope": scope})
    assert r.status_code == 400
    assert set(r.json()) == {"detail", "code", "scope"}
    assert r.json()["detail"].startswith("scope: ")
    assert alice.access_tokens.count() == 1


def test_it_names_the_bad_scope(post):
    _assert_field_error(post({"scope": "admin"}), "scope", '"admin" is not a valid choice.')


def test_it_creates_a_token_with_named_scopes(post):
    r = post({"scopes": ["read_user", "self_rotate", "read_user"]})
    assert r.status_code == 201
    assert r.json()["scopes"] == ["read_user", "self_rotate"]
    assert r.json()["scope"] is None


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        (["admin"], "Unknown scope admin. Choose from: api, read_api, read_user, self_rotate."),
        ([], "This list may not be empty."),
        ("api", 'Expected a list of items but got type "str".'),
        (None, "This field may not be null."),
    ],
)
def test_it_refuses_bad_scopes(alice, post, scopes, message):
    _assert_field_error(post({"scopes": scopes}), "scopes", message)
    assert alice.access_tokens.count() == 1


def test_it_takes_the_old_scope_or_the_new_scopes_but_not_both_disagreeing(alice, post):
    r = post({"scope": "read_only", "scopes": ["read_api"]})
    assert r.status_code == 201
    r = post({"scope": "read_only", "scopes": ["api"]})
    _assert_field_error(r, "scope", "Send scopes or the deprecated scope, not both.")


def test_it_reports_every_bad_field_at_once(post):
    r = post({"name": "x" * 101, "scope": "admin", "expires_at": "soon"})
    assert r.status_code == 400
    assert {"name", "scope", "expires_at", "detail", "code"} == set(r.json())


def test_it_stops_at_the_per_user_limit(alice, post, settings):
    settings.ACCESS_TOKEN_MAX_PER_USER = 2
    assert post({"name": "second"}).status_code == 201
    r = post({"name": "third"})
    _assert_field_error(
        r,
        "non_field_errors",
        "You have reached the limit of 2 active tokens. Delete one you no longer need.",
    )
    assert alice.access_tokens.count() == 2


def test_the_limit_counts_only_the_callers_tokens(bob, make_token, post, settings):
    settings.ACCESS_TOKEN_MAX_PER_USER = 2
    make_token(bob)
    make_token(bob)
    assert post({}).status_code == 201


def test_it_enforces_the_lifetime_cap(alice, post, settings):
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 7
    message = "Tokens on this server must expire within 7 days."
    _assert_field_error(post({}), "expires_at", message)  # the 30-day default is too long
    _assert_field_error(post({"expires_at": None}), "expires_at", message)
    later = timezone.localdate() + dt.timedelta(days=8)
    _assert_field_error(post({"expires_at": later.isoformat()}), "expires_at", message)
    ok = timezone.localdate() + dt.timedelta(days=7)
    assert post({"expires_at": ok.isoformat()}).status_code == 201
    assert alice.access_tokens.count() == 2


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("[]", "Invalid data. Expected a dictionary, but got list."),
        ('["name"]', "Invalid data. Expected a dictionary, but got list."),
        ('"name"', "Invalid data. Expected a dictionary, but got str."),
        ("5", "Invalid data. Expected a dictionary, but got int."),
        ("null", "No data provided"),
    ],
)
def test_it_refuses_a_body_that_is_not_an_object(api_client, alice, alice_token, body, detail):
    _token, raw = alice_token
    r = api_client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    _assert_field_error(r, "non_field_errors", detail)
    assert alice.access_tokens.count() == 1


def test_it_refuses_malformed_json(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.post(
        URL, '{"name": ', content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert r.status_code == 400
    assert r.json()["detail"].startswith("JSON parse error - ")


def test_it_refuses_form_data(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.post(URL, {"name": "x"}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 415
    assert r.json()["detail"].startswith('Unsupported media type "multipart/form-data')


def test_it_needs_authentication(api_client, alice):
    r = api_client.post(URL, {"name": "x"}, format="json")
    assert r.status_code == 401
    assert r.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert AccessToken.objects.count() == 0


def test_201_carries_the_new_tokens_location(api_client, alice_token, post):
    _token, raw = alice_token
    r = post({"name": "located"})
    assert r.status_code == 201
    location = r["Location"]
    assert location == f"http://testserver/api/v1/access-tokens/{r.json()['id']}/"
    shown = api_client.get(location, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert shown.status_code == 200
    assert shown.json()["name"] == "located"
