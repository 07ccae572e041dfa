"""/admin/…/find-leaked/: paste a string, learn whether it is a token, whose, and revoke it."""

import pytest
from django.core import mail
from django.test import Client

from access_tokens.models import AccessToken, AccessTokenEvent
from access_tokens.token_format import checksum

from .conftest import FIND_URL, REVOKE_LEAKED_URL, TOKENS_URL, ago, logged_text, set_times

pytestmark = pytest.mark.django_db


def test_it_shows_the_form_to_staff(olivia_client):
    r = olivia_client.get(FIND_URL)
    assert r.status_code == 200
    assert "<h1>Find a leaked token</h1>" in r.text
    assert '<textarea name="token"' in r.text
    assert 'method="post"' in r.text
    # (The admin's sidebar lists the task queue's "Task Results"; this is the verdict.)
    assert "<h2>Result</h2>" not in r.text
    assert "no-store" in r["Cache-Control"]


def test_it_is_linked_from_the_admin_index_and_the_token_list(olivia_client):
    for url in ("/admin/", "/admin/access_tokens/accesstoken/"):
        r = olivia_client.get(url)
        assert f'href="{FIND_URL}"' in r.text, url


def test_it_refuses_non_staff(alice_client, alice, make_token):
    _t, raw = make_token(alice)
    for r in (alice_client.get(FIND_URL), alice_client.post(FIND_URL, {"token": raw})):
        assert r.status_code == 302
        assert r["Location"].startswith("/admin/login/")
    r = alice_client.post(REVOKE_LEAKED_URL, {"token": raw})
    assert r.status_code == 302
    assert AccessToken.objects.count() == 1


def test_it_refuses_staff_without_permission(client, staff_without_perms, alice, make_token):
    _t, raw = make_token(alice)
    client.force_login(staff_without_perms)
    assert client.get(FIND_URL).status_code == 403
    assert client.post(REVOKE_LEAKED_URL, {"token": raw}).status_code == 403
    assert AccessToken.objects.count() == 1


def test_it_finds_a_live_token_and_its_owner(olivia_client, alice, make_token, all_logs):
    token, raw = make_token(alice, name="CI deploy")
    r = olivia_client.post(FIND_URL, {"token": raw})
    assert r.status_code == 200
    assert "A Keystand token of alice, status: active." in r.text
    assert "It works right now" in r.text
    assert "alice</a> &lt;alice@example.org&gt;" in r.text
    assert "CI deploy" in r.text
    assert f"kspat_…{raw[-4:]}" in r.text
    assert ">Revoke this token…</button>" in r.text
    assert "no-store" in r["Cache-Control"]
    # The revoke button names the token by its id, for the list's confirmation page: the
    # pasted value does not go back to the browser at all.
    assert raw not in r.text
    assert '<input type="hidden" name="action" value="revoke_selected">' in r.text
    assert f'<input type="hidden" name="_selected_action" value="{token.pk}">' in r.text
    assert raw not in logged_text(all_logs)
    assert not AccessTokenEvent.objects.exclude(action="created").exists()


def test_it_finds_a_token_inside_a_pasted_snippet(olivia_client, alice, make_token):
    _t, raw = make_token(alice, name="CI deploy")
    r = olivia_client.post(FIND_URL, {"token": f'  export KEYSTAND_TOKEN="{raw}"\n'})
    assert "A Keystand token of alice, status: active." in r.text


def test_it_finds_another_users_token(olivia_client, bob, make_token):
    _t, raw = make_token(bob, name="bob laptop")
    r = olivia_client.post(FIND_URL, {"token": raw})
    assert "A Keystand token of bob, status: active." in r.text
    assert "bob laptop" in r.text


def test_it_says_when_a_token_has_expired(olivia_client, alice, make_token):
    token, raw = make_token(alice, name="old")
    set_times(token, expires_at=ago(days=2))
    r = olivia_client.post(FIND_URL, {"token": raw})
    assert "A Keystand token of alice, status: expired." in r.text
    assert "It no longer authenticates" in r.text
    assert ">Revoke this token…</button>" in r.text


def test_it_says_when_the_owner_is_inactive(olivia_client, alice, make_token):
    _t, raw = make_token(alice, name="old")
    alice.is_active = False
    alice.save()
    r = olivia_client.post(FIND_URL, {"token": raw})
    assert "The owner’s account is inactive" in r.text


def test_it_says_unknown_for_a_well_formed_token_not_issued_here(olivia_client, alice, make_token):
    from access_tokens.token_format import generate_token

    make_token(alice)
    r = olivia_client.post(FIND_URL, {"token": generate_token()})
    assert "A well-formed Keystand token, but unknown here (status: unknown)." in r.text
    assert "Revoke this token" not in r.text
    assert 'name="token" value=' not in r.text


def test_it_says_when_and_by_whom_a_token_was_revoked(olivia_client, alice, make_token):
    import datetime as dt

    from django.utils import timezone

    from access_tokens import services

    token, raw = make_token(alice)
    services.delete_access_token(token=token, actor=alice)
    r = olivia_client.post(FIND_URL, {"token": raw})
    assert "A Keystand token of alice, status: revoked." in r.text
    assert "by alice (deleted by its owner) and no longer authenticates." in r.text
    assert 'id="revoke-leaked-form"' not in r.text  # nothing left to revoke
    # Once its inactive record is purged, it is unknown.
    services.purge_inactive_tokens(now=timezone.now() + dt.timedelta(days=31))
    r = olivia_client.post(FIND_URL, {"token": raw})
    assert "(status: unknown)" in r.text


@pytest.mark.parametrize(
    "value", ["hello", "ghp_" + "a" * 36, "kspat_tooshort", "kspat_" + "é" * 49, "x" * 5000]
)
def test_it_says_malformed_for_what_is_not_a_token(olivia_client, value):
    r = olivia_client.post(FIND_URL, {"token": value})
    assert r.status_code == 200
    assert "Not a Keystand token." in r.text
    assert value not in r.text


def test_it_spots_a_typo_by_the_checksum(olivia_client, alice, make_token):
    _t, raw = make_token(alice)
    flipped = "B" if raw[20] != "B" else "C"
    typo = raw[:20] + flipped + raw[21:]
    assert checksum(typo[:-6]) != typo[-6:]
    r = olivia_client.post(FIND_URL, {"token": typo})
    assert "its checksum does not match" in r.text
    assert "Revoke this token" not in r.text


def test_it_says_nothing_was_pasted(olivia_client):
    r = olivia_client.post(FIND_URL, {"token": "   "})
    assert "Nothing was pasted." in r.text


def test_it_revokes_the_token_and_emails_the_owner(
    olivia_client, olivia, bob, make_token, api_client, all_logs, django_capture_on_commit_callbacks
):
    token, raw = make_token(bob, name="bob laptop")
    with django_capture_on_commit_callbacks(execute=True):
        r = olivia_client.post(REVOKE_LEAKED_URL, {"token": raw})
    assert r.status_code == 302
    assert r["Location"] == FIND_URL
    assert raw not in r["Location"]
    r = olivia_client.get(r["Location"])
    assert f"Revoked bob’s token “bob laptop” (kspat_…{raw[-4:]})." in r.text
    assert raw not in r.text
    assert not AccessToken.objects.active().exists()
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    event = AccessTokenEvent.objects.get(action="revoked_by_operator")
    assert (event.owner, event.actor, event.via) == (bob, olivia, "admin")
    assert event.token_id == token.pk
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["bob@example.org"]
    assert raw not in mail.outbox[0].body
    assert raw not in logged_text(all_logs)


def test_it_says_so_when_the_token_is_already_gone(olivia_client, alice, make_token):
    token, raw = make_token(alice)
    AccessToken.objects.filter(pk=token.pk).delete()
    r = olivia_client.post(REVOKE_LEAKED_URL, {"token": raw}, follow=True)
    assert "No such token: it was already revoked or never existed." in r.text
    assert not AccessTokenEvent.objects.filter(action="revoked_by_operator").exists()


def test_revoking_needs_post(olivia_client, alice, make_token):
    make_token(alice)
    assert olivia_client.get(REVOKE_LEAKED_URL).status_code == 405
    assert AccessToken.objects.count() == 1


def test_it_needs_a_csrf_token(olivia, alice, make_token):
    _t, raw = make_token(alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)
    assert client.post(REVOKE_LEAKED_URL, {"token": raw}).status_code == 403
    assert AccessToken.objects.count() == 1


def test_a_crash_report_hides_the_pasted_value(olivia, alice, make_token):
    """sensitive_post_parameters: Django's error report shows stars instead of the value."""
    from django.views.debug import SafeExceptionReporterFilter

    _t, raw = make_token(alice)
    client = Client()
    client.force_login(olivia)
    r = client.post(FIND_URL, {"token": raw})
    request = r.wsgi_request
    assert list(request.sensitive_post_parameters) == ["token"]
    cleaned = SafeExceptionReporterFilter().get_post_parameters(request)
    assert cleaned["token"] == "********************"


def test_its_revoke_button_asks_on_the_lists_confirmation_page(
    olivia_client, alice, make_token, django_capture_on_commit_callbacks
):
    token, raw = make_token(alice, name="CI deploy")
    olivia_client.post(FIND_URL, {"token": raw})
    # What the button sends: the bulk action for this one token, not yet confirmed.
    form = {"action": "revoke_selected", "_selected_action": [str(token.pk)]}
    r = olivia_client.post(TOKENS_URL, form)
    assert r.status_code == 200
    assert "<h1>Revoke these tokens?</h1>" in r.text
    assert raw not in r.text
    token.refresh_from_db()
    assert token.revoked_at is None
    with django_capture_on_commit_callbacks(execute=True):
        r = olivia_client.post(TOKENS_URL, {**form, "post": "yes"}, follow=True)
    assert (
        f"Revoked 1 token. alice’s token “CI deploy” (kspat_…{raw[-4:]}) no longer works." in r.text
    )
    assert AccessTokenEvent.objects.filter(action="revoked_by_operator").count() == 1
    assert len(mail.outbox) == 1
