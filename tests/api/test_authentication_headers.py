"""Every shape of Authorization header a client might send to /api/v1/me/."""

import base64
import string

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .headers import basic

pytestmark = pytest.mark.django_db

NOT_PROVIDED = "Authentication credentials were not provided."
MALFORMED = "Malformed token: a Keystand token starts with kspat_ and has 55 characters."
TOKEN_REALM = 'AccessToken realm="api"'
BASIC_REALM = 'Basic realm="api"'


def _get(client, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    return client.get("/api/v1/me/", **extra)


def _assert_refused(r, detail, realm=TOKEN_REALM):
    assert r.status_code == 401
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": detail}
    assert r["WWW-Authenticate"] == realm


@pytest.mark.parametrize(
    "header",
    [None, "", "   ", "Token abc", "Digest username=x", "Negotiate abc", "Bearerx abc", "kspat_x"],
)
def test_it_says_not_provided_for_headers_that_are_not_ours(api_client, header):
    _assert_refused(_get(api_client, header), NOT_PROVIDED)


def test_it_does_not_take_a_token_under_another_scheme(api_client, alice_token):
    _token, raw = alice_token
    _assert_refused(_get(api_client, f"Token {raw}"), NOT_PROVIDED)


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("AccessToken", "Invalid token header. No credentials provided."),
        ("Bearer", "Invalid token header. No credentials provided."),
        ("bearer   ", "Invalid token header. No credentials provided."),
        ("Bearer a b", "Invalid token header. Token string should not contain spaces."),
        ("AccessToken kspat_ x y", "Invalid token header. Token string should not contain spaces."),
        (
            "Bearer kspat_é",
            "Invalid token header. Token string should not contain invalid characters.",
        ),
        (
            "Bearer \xff\xfe",
            "Invalid token header. Token string should not contain invalid characters.",
        ),
        ("Bearer abc", MALFORMED),
        ("Bearer a\x00b", MALFORMED),
        ("Bearer " + "a" * 10_000, MALFORMED),
        ("AccessToken " + "kspat_" + "A" * 10_000, MALFORMED),
    ],
)
def test_it_refuses_a_bad_token_header(api_client, header, detail):
    _assert_refused(_get(api_client, header), detail)


def test_it_refuses_a_token_with_a_nul_byte(api_client, alice_token):
    _token, raw = alice_token
    _assert_refused(_get(api_client, f"Bearer {raw[:20]}\x00{raw[21:]}"), MALFORMED)


def test_it_refuses_a_token_with_a_typo_by_its_checksum(api_client, alice_token):
    _token, raw = alice_token
    typo = raw[:10] + ("B" if raw[10] == "A" else "A") + raw[11:]
    _assert_refused(_get(api_client, f"AccessToken {typo}"), MALFORMED)


def test_it_refuses_an_unknown_well_formed_token(api_client):
    from access_tokens.services import generate_token

    _assert_refused(_get(api_client, f"Bearer {generate_token()}"), "Invalid token.")


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Basic", "Invalid basic header. Credentials should be one base64 string."),
        ("Basic a b", "Invalid basic header. Credentials should be one base64 string."),
        ("Basic !!!!", "Invalid basic header. Credentials not correctly base64 encoded."),
        ("Basic YWxpY2U", "Invalid basic header. Credentials not correctly base64 encoded."),
        ("Basic é", "Invalid basic header. Credentials not correctly base64 encoded."),
        (
            "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
            "Invalid basic header. Credentials not correctly base64 encoded.",
        ),
        (
            "Basic " + base64.b64encode(b"alice").decode(),
            "Invalid basic header. Expected username:token.",
        ),
        (
            basic("", username="alice"),
            "Basic authentication takes a personal access token as the password.",
        ),
        (basic("kspat_short"), MALFORMED),
        (
            "Basic " + "A" * 10_001,
            "Invalid basic header. Credentials not correctly base64 encoded.",
        ),
        (
            basic("x" * 10_000),
            "Basic authentication takes a personal access token as the password.",
        ),
    ],
)
def test_it_refuses_a_bad_basic_header(api_client, header, detail):
    _assert_refused(_get(api_client, header), detail, realm=BASIC_REALM)


@pytest.mark.parametrize(
    "scheme", ["accesstoken", "ACCESSTOKEN", "AcCeSsToKeN", "bearer", "BEARER"]
)
def test_it_reads_the_token_scheme_in_any_case(api_client, alice_token, scheme):
    token, raw = alice_token
    r = _get(api_client, f"{scheme} {raw}")
    assert r.status_code == 200
    assert r.json()["token"]["id"] == str(token.id)


@pytest.mark.parametrize("scheme", ["basic", "BASIC", "bAsIc"])
def test_it_reads_the_basic_scheme_in_any_case(api_client, alice_token, scheme):
    token, raw = alice_token
    r = _get(api_client, scheme + basic(raw)[len("Basic") :])
    assert r.status_code == 200
    assert r.json()["token"]["id"] == str(token.id)


def test_it_allows_extra_whitespace_around_the_token(api_client, alice_token):
    token, raw = alice_token
    r = _get(api_client, f"  Bearer \t {raw}  ")
    assert r.status_code == 200
    assert r.json()["token"]["id"] == str(token.id)


# Latin-1 is what a WSGI server hands Django for header bytes (PEP 3333).
_latin1 = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=300)
_schemes = st.sampled_from(["", "AccessToken ", "Bearer ", "Basic ", "bearer ", "BASIC ", "Token "])
_b64ish = st.text(alphabet=string.ascii_letters + string.digits + "+/=:_ \x00\xe9", max_size=120)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_it_never_fails_on_any_header(api_client, alice_token, data):
    _token, raw = alice_token
    # Around the real token too, so the good path is in the mix.
    near_token = st.tuples(
        _schemes, st.sampled_from([raw, raw[:-1], raw + "x", raw.lower()]), _latin1
    ).map("".join)
    header = data.draw(
        st.one_of(
            _latin1,
            st.tuples(_schemes, _latin1).map("".join),
            st.tuples(_schemes, _b64ish).map("".join),
            st.binary(max_size=200).map(lambda b: "Basic " + base64.b64encode(b).decode()),
            near_token,
            st.tuples(st.text(max_size=20), _latin1).map(lambda t: basic(raw + t[1], t[0])),
        ),
        label="header",
    )
    cache.clear()  # each example starts with no failed-authentication count
    r = _get(api_client, header)
    assert r.status_code in (200, 401, 429), r.status_code
    assert r["Content-Type"] == "application/json"
    body = r.json()
    if r.status_code == 200:
        assert body["username"] == "alice"
    else:
        assert isinstance(body["detail"], str) and body["detail"]
    if r.status_code == 401:
        assert r["WWW-Authenticate"] in (TOKEN_REALM, BASIC_REALM)
