"""Races that a busy service meets: two creates at the limit, a double-clicked form, and a
delete racing with use. Real threads, each with its own database connection, on SQLite and on
PostgreSQL (transaction=True: every thread sees the others' commits)."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5


def _together(*jobs):
    """Run the jobs in threads released at the same instant; return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)
    errors = []

    def run(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as e:  # surfaced below, with its traceback
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def _api(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    return client


def test_it_never_passes_the_limit_with_simultaneous_creates(alice, make_token, settings):
    settings.ACCESS_TOKEN_MAX_PER_USER = ROUNDS + 2
    _, raw = make_token(alice, name="the caller")
    for _ in range(ROUNDS):
        # One slot left short of the last: two creates race for the last slot.
        make_token(alice)
        if AccessToken.objects.filter(user=alice).count() >= settings.ACCESS_TOKEN_MAX_PER_USER:
            break
    assert AccessToken.objects.filter(user=alice).count() == settings.ACCESS_TOKEN_MAX_PER_USER - 1

    def create():
        r = _api(raw).post("/api/v1/access-tokens/", {"name": "racer"}, format="json")
        return r.status_code, r.json()

    results = _together(create, create)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 400]
    refused = next(body for status, body in results if status == 400)
    assert "limit of 7 active tokens" in refused["detail"]
    assert AccessToken.objects.filter(user=alice).count() == settings.ACCESS_TOKEN_MAX_PER_USER
    assert AccessToken.objects.filter(user=alice, name="racer").count() == 1


def test_it_never_passes_the_limit_when_many_create_at_once(alice, make_token, settings):
    settings.ACCESS_TOKEN_MAX_PER_USER = 3
    _, raw = make_token(alice, name="the caller")

    def create():
        return _api(raw).post("/api/v1/access-tokens/", {}, format="json").status_code

    statuses = _together(*[create] * 6)

    assert sorted(statuses) == [201, 201, 400, 400, 400, 400]
    assert AccessToken.objects.filter(user=alice).count() == 3
    created = AccessTokenEvent.objects.filter(owner=alice, action="created").count()
    assert created == 3


def test_it_makes_one_token_from_a_form_submitted_twice_at_once(alice):
    first = Client()
    sign_in(first, alice)
    second = Client()
    second.cookies = first.cookies  # the same browser, clicking twice

    page = first.get("/settings/access-tokens/new/")
    nonce = page.context["form"].initial["nonce"]
    form = {"name": "double click", "expiration": "30", "scopes": "api", "nonce": nonce}

    statuses = _together(
        lambda: first.post("/settings/access-tokens/new/", form).status_code,
        lambda: second.post("/settings/access-tokens/new/", form).status_code,
    )

    assert statuses == [302, 302]
    assert AccessToken.objects.filter(user=alice, name="double click").count() == 1
    assert AccessTokenEvent.objects.filter(owner=alice, action="created").count() == 1
    # The one-time display shows that one token.
    body = first.get("/settings/access-tokens/").content.decode()
    assert body.count('id="new-token-value"') == 1


def test_it_never_authenticates_after_the_delete_commits(alice, make_token):
    for _ in range(ROUNDS):
        token, raw = make_token(alice, name="racing")
        uses = []  # (sent at, status)
        deleted_at = []

        def use(raw=raw, uses=uses, deleted_at=deleted_at):
            client = _api(raw)
            # Keep using the token until three requests have been sent after the delete.
            while sum(1 for sent, _ in uses if deleted_at and sent > deleted_at[0]) < 3:
                sent = time.monotonic()
                uses.append((sent, client.get("/api/v1/me/").status_code))

        def delete(token=token, deleted_at=deleted_at, uses=uses):
            while not uses:  # let at least one use through first
                time.sleep(0.001)
            services.delete_access_token(token=token, actor=alice)
            deleted_at.append(time.monotonic())  # the delete's transaction has committed

        _together(use, delete)

        assert uses[0][1] == 200
        after = [status for sent, status in uses if sent > deleted_at[0]]
        assert after == [401, 401, 401]
        assert {status for _, status in uses} <= {200, 401}
        # The very next request refuses it, with the reason.
        r = _api(raw).get("/api/v1/me/")
        assert r.status_code == 401
        assert r.json() == {"detail": "Token has been revoked.", "code": "token_revoked"}
