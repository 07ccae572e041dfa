"""Every shape of Authorization header a client might send to /api/v1/me/."""

import base64
import string

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .headers import CHALLENGES, basic, refused_challenges

pytestmark = pytest.mark.django_db

NOT_PROVIDED = "Authentication credentials were not provided."
MALFORMED = "Malformed token: a Keystand token starts with kspat_ and has 55 characters."
CHECKSUM = (
    "Invalid token: its checksum does not match. It has the right form, so most likely it was "
    "mistyped or cut short: copy the whole token again."
)


def _get(client, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    return client.get("/api/v1/me/", **extra)


def _scheme(header: str | None) -> str | None:
    word = (header or "").split()[:1]
    return {"accesstoken": "AccessToken", "bearer": "Bearer"}.get(word[0].lower()) if word else None


def _assert_refused(r, detail, code, header=None):
    """A 401 in the one error shape that offers every scheme, and says on the scheme the
    token came in (AccessToken or Bearer) why it was refused, as RFC 6750 does."""
    assert r.status_code == 401
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": detail, "code": code}
    scheme = _scheme(header) if code != "not_authenticated" else None
    expected = refused_challenges(scheme, detail) if scheme else CHALLENGES
    assert r["WWW-Authenticate"] == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "   ", "Token abc", "Digest username=x", "Negotiate abc", "Bearerx abc", "kspat_x"],
)
def test_it_says_not_provided_for_headers_that_are_not_ours(api_client, header):
    _assert_refused(_get(api_client, header), NOT_PROVIDED, "not_authenticated")


def test_it_does_not_take_a_token_under_another_scheme(api_client, alice_token):
    _token, raw = alice_token
    _assert_refused(_get(api_client, f"Token {raw}"), NOT_PROVIDED, "not_authenticated")


@pytest.mark.parametrize(
    ("header", "detail", "code"),
    [
        ("AccessToken", "Invalid token header. No credentials provided.", "invalid_header"),
        ("Bearer", "Invalid token header. No credentials provided.", "invalid_header"),
        ("bearer   ", "Invalid token header. No credentials provided.", "invalid_header"),
        (
            "Bearer a b",
            "Invalid token header. Token string should not contain spaces.",
            "invalid_header",
        ),
        (
            "AccessToken kspat_ x y",
            "Invalid token header. Token string should not contain spaces.",
            "invalid_header",
        ),
        (
            "Bearer kspat_é",
            "Invalid token header. Token string should not contain invalid characters.",
            "invalid_header",
        ),
        (
            "Bearer \xff\xfe",
            "Invalid token header. Token string should not contain invalid characters.",
            "invalid_header",
        ),
        ("Bearer abc", MALFORMED, "malformed_token"),
        ("Bearer a\x00b", MALFORMED, "malformed_token"),
        ("Bearer " + "a" * 10_000, MALFORMED, "malformed_token"),
        ("AccessToken " + "kspat_" + "A" * 10_000, MALFORMED, "malformed_token"),
        ("Bearer kspat_" + "A" * 48 + "-", MALFORMED, "malformed_token"),
    ],
)
def test_it_refuses_a_bad_token_header(api_client, header, detail, code):
    _assert_refused(_get(api_client, header), detail, code, header)


def test_it_refuses_a_token_with_a_nul_byte(api_client, alice_token):
    _token, raw = alice_token
    header = f"Bearer {raw[:20]}\x00{raw[21:]}"
    _assert_refused(_get(api_client, header), MALFORMED, "malformed_token", header)


@pytest.mark.parametrize("at", [6, 10, 48, 54])
@pytest.mark.parametrize("scheme", ["AccessToken", "Bearer"])
def test_it_says_a_token_with_a_typo_fails_its_checksum(api_client, alice_token, at, scheme):
    # The right prefix and length, one wrong character: not "malformed", which it is not,
    # but a checksum that does not match, most likely a typo (as the admin's finder says).
    _token, raw = alice_token
    typo = raw[:at] + ("B" if raw[at] == "A" else "A") + raw[at + 1 :]
    header = f"{scheme} {typo}"
    _assert_refused(_get(api_client, header), CHECKSUM, "checksum_mismatch", header)


def test_it_says_a_mistyped_basic_password_fails_its_checksum(api_client, alice_token):
    _token, raw = alice_token
    typo = raw[:-1] + ("B" if raw[-1] == "A" else "A")
    r = _get(api_client, basic(typo))
    _assert_refused(r, CHECKSUM, "checksum_mismatch")  # Basic: no RFC 6750 parameters


def test_it_refuses_an_unknown_well_formed_token(api_client):
    from access_tokens.services import generate_token

    header = f"Bearer {generate_token()}"
    _assert_refused(_get(api_client, header), "Invalid token.", "unknown_token", header)


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
    code = "malformed_token" if detail == MALFORMED else "invalid_header"
    _assert_refused(_get(api_client, header), detail, code, header)


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
        scheme = _scheme(header)
        assert r["WWW-Authenticate"] in (
            CHALLENGES,
            *((refused_challenges(scheme, body["detail"]),) if scheme else ()),
        )
