"""Rate-limited answers carry the IETF draft's RateLimit-Limit, -Remaining and -Reset (and
-Policy) headers, from the same atomic counters that decide; a 429 adds Retry-After."""

import pytest

from access_tokens import services

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
REVOKE = "/api/v1/access-tokens/revoke/"


def _limits(r) -> tuple[int, int, int]:
    """Return (limit, remaining, reset) as ints; they must all be there."""
    return (
        int(r["RateLimit-Limit"]),
        int(r["RateLimit-Remaining"]),
        int(r["RateLimit-Reset"]),
    )


def test_it_counts_down_to_a_429_that_says_when_to_retry(api_client, alice_token, throttle_rates):
    throttle_rates(user="3/min")
    _token, raw = alice_token
    seen = []
    for _ in range(4):
        r = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}")
        seen.append((r.status_code, *_limits(r)[:2]))
        assert r["RateLimit-Policy"] == "3;w=60"
        assert 1 <= _limits(r)[2] <= 120
    assert seen == [(200, 3, 2), (200, 3, 1), (200, 3, 0), (429, 3, 0)]
    assert r["Retry-After"] == r["RateLimit-Reset"]
    assert r.json()["code"] == "throttled"


def test_the_limit_is_per_user_across_tokens(api_client, alice, make_token, throttle_rates):
    throttle_rates(user="5/min")
    _t, first = make_token(alice)
    _t, second = make_token(alice)
    a = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {first}")
    b = api_client.get(ME, HTTP_AUTHORIZATION=f"AccessToken {second}")
    assert (_limits(a)[1], _limits(b)[1]) == (4, 3)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/api/v1/access-tokens/", 201),
        ("post", "/api/v1/access-tokens/", 400),
        ("get", "/api/v1/access-tokens/00000000-0000-4000-8000-000000000000/", 404),
        ("put", ME, 405),
    ],
)
def test_every_counted_answer_carries_them(
    api_client, alice_token, throttle_rates, method, path, status
):
    throttle_rates(user="50/min")
    _token, raw = alice_token
    body = {"name": "x"} if status == 201 else {"scopes": []}
    r = getattr(api_client, method)(path, body, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == status
    assert _limits(r)[:2] == (50, 49)


def test_the_revoke_endpoint_counts_per_address(api_client, throttle_rates):
    throttle_rates(revoke="2/min")
    answers = [api_client.post(REVOKE, {"token": "junk"}, format="json") for _ in range(3)]
    assert [(r.status_code, _limits(r)[1]) for r in answers] == [(202, 1), (202, 0), (429, 0)]
    assert answers[-1]["Retry-After"] == answers[-1]["RateLimit-Reset"]
    other = api_client.post(REVOKE, {"token": "junk"}, format="json", REMOTE_ADDR="10.1.1.1")
    assert _limits(other)[1] == 1


def test_a_refused_credential_tells_how_many_failures_are_left(api_client, throttle_rates):
    throttle_rates(failed_auth="2/min", user="100/min", anon="100/min")
    answers = [
        api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {services.generate_token()}")
        for _ in range(3)
    ]
    assert [(r.status_code, *_limits(r)[:2]) for r in answers] == [
        (401, 2, 1),
        (401, 2, 0),
        (429, 2, 0),
    ]
    assert answers[-1]["Retry-After"] == answers[-1]["RateLimit-Reset"]


def test_anonymous_requests_tell_the_tighter_of_two_limits(api_client, throttle_rates):
    # An anonymous request is counted by the user rate (per address) and the anonymous rate.
    throttle_rates(user="10/min", anon="4/min")
    r = api_client.get("/api/schema/?format=json")
    assert r.status_code == 200
    assert _limits(r)[:2] == (4, 3)
    throttle_rates(user="2/min", anon="100/min")
    r = api_client.get("/api/schema/?format=json")
    assert _limits(r)[:2] == (2, 0)


def test_uncounted_answers_carry_none(api_client, alice_token, throttle_rates):
    _token, raw = alice_token
    # No credentials: refused before any rate is counted (and not a failed credential).
    r = api_client.get(ME)
    assert r.status_code == 401
    assert "RateLimit-Limit" not in r
    # A scope refusal comes before the rate is counted, as DRF orders its checks.
    throttle_rates(user="1/min")
    _t, reader = services.create_access_token(user=_token.user, scopes=["read_api"])
    r = api_client.post(
        "/api/v1/access-tokens/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {reader}"
    )
    assert r.status_code == 403
    assert "RateLimit-Limit" not in r
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
