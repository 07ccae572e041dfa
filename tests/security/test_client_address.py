"""One client address, honoured everywhere: behind a trusted proxy each client is limited and
recorded under its own address; a forwarded header from anyone else changes nothing."""

import pytest
from django.core import mail
from django.test import RequestFactory

from access_tokens import services
from access_tokens.client_ip import client_ip
from access_tokens.forms import new_form_nonce
from access_tokens.models import AccessToken, AccessTokenEvent

PROXY = "10.0.0.1"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY, "fd00::/8"]


@pytest.fixture
def failed_auth_rate(settings):
    rest = settings.REST_FRAMEWORK
    rates = {**rest["DEFAULT_THROTTLE_RATES"], "failed_auth": "2/min"}
    settings.REST_FRAMEWORK = {**rest, "DEFAULT_THROTTLE_RATES": rates}


def _ip(remote: str, forwarded: str | None = None) -> str | None:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_it_takes_the_peer_when_no_proxy_is_trusted():
    assert _ip("198.51.100.7") == "198.51.100.7"
    assert _ip("198.51.100.7", "203.0.113.9") == "198.51.100.7"


def test_it_ignores_a_forwarded_header_from_an_untrusted_peer(behind_proxy):
    # A direct client cannot pick the address its limits are counted under.
    assert _ip("198.51.100.7", "203.0.113.9") == "198.51.100.7"


def test_it_takes_the_address_the_trusted_proxy_saw(behind_proxy):
    assert _ip(PROXY, "203.0.113.9") == "203.0.113.9"
    # Whatever the client wrote itself sits further left and is ignored.
    assert _ip(PROXY, "1.1.1.1, 203.0.113.9") == "203.0.113.9"


def test_it_walks_through_a_chain_of_trusted_proxies(behind_proxy):
    assert _ip(PROXY, "1.1.1.1, 203.0.113.9, fd00::5") == "203.0.113.9"


def test_it_stops_at_the_proxy_when_the_header_is_garbage(behind_proxy):
    assert _ip(PROXY, "") == PROXY
    assert _ip(PROXY, "unknown") == PROXY
    assert _ip(PROXY, "203.0.113.9, garbage") == PROXY


def test_it_reads_addresses_with_ports_and_mapped_ipv4(behind_proxy):
    assert _ip(PROXY, "203.0.113.9:51234") == "203.0.113.9"
    assert _ip(PROXY, "[2001:db8::1]:443") == "2001:db8::1"
    assert _ip("::ffff:198.51.100.7") == "198.51.100.7"


def test_it_has_no_address_for_a_unix_socket_peer(behind_proxy):
    assert _ip("/run/gunicorn.sock") is None
    assert _ip("") is None


# --- Every user of the address -------------------------------------------------------------


def _me(api_client, raw, remote, forwarded):
    return api_client.get(
        "/api/v1/me/",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.django_db
def test_it_throttles_two_clients_behind_one_proxy_separately(
    api_client, behind_proxy, failed_auth_rate
):
    for _ in range(2):
        assert _me(api_client, services.generate_token(), PROXY, "203.0.113.1").status_code == 401
    assert _me(api_client, services.generate_token(), PROXY, "203.0.113.1").status_code == 429
    # Another client of the same proxy still has its own budget.
    assert _me(api_client, services.generate_token(), PROXY, "203.0.113.2").status_code == 401


@pytest.mark.django_db
def test_it_does_not_let_a_direct_client_dodge_its_limit_with_a_header(
    api_client, behind_proxy, failed_auth_rate
):
    for n in range(2):
        r = _me(api_client, services.generate_token(), "198.51.100.7", f"203.0.113.{n}")
        assert r.status_code == 401
    r = _me(api_client, services.generate_token(), "198.51.100.7", "203.0.113.99")
    assert r.status_code == 429


@pytest.mark.django_db
def test_it_records_each_clients_own_address(
    api_client, alice, alice_client, make_token, behind_proxy, django_capture_on_commit_callbacks
):
    token, raw = make_token(alice)
    assert _me(api_client, raw, PROXY, "203.0.113.1").status_code == 200
    token.refresh_from_db()
    assert token.last_used_ip == "203.0.113.1"

    r = api_client.post(
        "/api/v1/access-tokens/",
        {"name": "from the API"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.2",
    )
    assert r.status_code == 201
    created = AccessTokenEvent.objects.get(action="created", token_id=r.json()["id"])
    assert created.ip == "203.0.113.2"

    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            "/settings/access-tokens/new/",
            {
                "name": "from the web",
                "expiration": "30",
                "scopes": "api",
                "nonce": new_form_nonce(),
            },
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="203.0.113.3",
        )
    web = AccessToken.objects.get(name="from the web")
    assert AccessTokenEvent.objects.get(action="created", token_id=web.pk).ip == "203.0.113.3"
    assert "from 203.0.113.3" in mail.outbox[-1].body
