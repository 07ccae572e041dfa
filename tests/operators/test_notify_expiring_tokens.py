"""manage.py notify_expiring_tokens: one email per owner per run, never twice for a token."""

import pytest
from django.core import mail
from django.core.management.base import CommandError

from access_tokens.models import AccessToken, AccessTokenEvent

from .commands import run, run_in_shell
from .conftest import ago, ahead, logged_text, set_times

pytestmark = pytest.mark.django_db


@pytest.fixture
def expiring(alice, bob, make_token):
    """alice: two tokens within 7 days, one in 20; bob: one in 2 days; and the ones to ignore."""
    tokens = {
        "a3": make_token(alice, name="alice in 3 days", expires_at=ahead(days=3)),
        "a6": make_token(alice, name="alice in 6 days", expires_at=ahead(days=6)),
        "a20": make_token(alice, name="alice in 20 days", expires_at=ahead(days=20)),
        "b2": make_token(bob, name="bob in 2 days", expires_at=ahead(days=2)),
        "never": make_token(bob, name="bob forever"),
        "gone": make_token(bob, name="bob expired", expires_at=ahead(days=1)),
    }
    set_times(tokens["gone"][0], expires_at=ago(hours=1))
    return tokens


def test_it_emails_each_owner_about_their_expiring_tokens(expiring, all_logs):
    out, _err = run("notify_expiring_tokens", "--within", "7")
    assert out == "Notified 2 owner(s) about 3 token(s) expiring within 7 day(s).\n"
    assert len(mail.outbox) == 2
    by_owner = {m.to[0]: m for m in mail.outbox}
    alice_mail = by_owner["alice@example.org"]
    assert alice_mail.subject == "[Keystand] 2 of your access tokens expire soon"
    assert "alice in 3 days" in alice_mail.body
    assert "alice in 6 days" in alice_mail.body
    assert "alice in 20 days" not in alice_mail.body
    bob_mail = by_owner["bob@example.org"]
    assert bob_mail.subject == "[Keystand] Your access token expires soon"
    assert "bob in 2 days" in bob_mail.body
    assert f"kspat_…{expiring['b2'][1][-4:]}" in bob_mail.body
    notified = AccessToken.objects.filter(expiry_notified_at__isnull=False)
    assert sorted(t.name for t in notified) == [
        "alice in 3 days",
        "alice in 6 days",
        "bob in 2 days",
    ]
    events = AccessTokenEvent.objects.filter(action="expiry_notified")
    assert events.count() == 3
    assert {(e.via, e.actor_id, e.actor_username) for e in events} == {
        ("command_line", None, "command line")
    }
    for _token, raw in expiring.values():
        assert all(raw not in m.body and raw not in m.subject for m in mail.outbox)
        assert raw not in logged_text(all_logs)


def test_it_never_emails_twice_about_a_token(expiring):
    run("notify_expiring_tokens", "--within", "7")
    mail.outbox.clear()
    out, _err = run("notify_expiring_tokens", "--within", "7")
    assert out == "Notified 0 owner(s) about 0 token(s) expiring within 7 day(s).\n"
    assert mail.outbox == []
    # A wider window later finds only what is new to it.
    out, _err = run("notify_expiring_tokens", "--within", "30")
    assert out == "Notified 1 owner(s) about 1 token(s) expiring within 30 day(s).\n"
    assert len(mail.outbox) == 1
    assert "alice in 20 days" in mail.outbox[0].body


def test_it_defaults_to_seven_days(expiring):
    out, _err = run("notify_expiring_tokens")
    assert "about 3 token(s) expiring within 7 day(s)" in out


def test_a_dry_run_sends_and_changes_nothing(expiring):
    out, _err = run("notify_expiring_tokens", "--within", "7", "--dry-run")
    assert out == "Would notify 2 owner(s) about 3 token(s) expiring within 7 day(s).\n"
    assert mail.outbox == []
    assert not AccessToken.objects.filter(expiry_notified_at__isnull=False).exists()
    assert not AccessTokenEvent.objects.filter(action="expiry_notified").exists()


def test_it_skips_owners_without_email_and_inactive_owners(alice, bob, make_token):
    make_token(alice, name="no mail", expires_at=ahead(days=3))
    alice.email = ""
    alice.save()
    make_token(bob, name="inactive", expires_at=ahead(days=3))
    bob.is_active = False
    bob.save()
    out, _err = run("notify_expiring_tokens", "--within", "7")
    assert out == (
        "Notified 0 owner(s) about 0 token(s) expiring within 7 day(s); "
        "skipped 1 token(s) whose owner has no email.\n"
    )
    assert mail.outbox == []


def test_a_changed_expiry_is_announced_again(olivia, alice, make_token):
    from access_tokens import services

    token, _raw = make_token(alice, name="moved", expires_at=ahead(days=3))
    run("notify_expiring_tokens", "--within", "7")
    services.update_access_token(token=token, actor=olivia, name="moved", expires_at=ahead(days=5))
    mail.outbox.clear()
    out, _err = run("notify_expiring_tokens", "--within", "7")
    assert "about 1 token(s)" in out
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "value,message",
    [
        ("abc", "--within takes a whole number of days, not 'abc'."),
        ("0", "--within must be at least 1 day, not 0."),
        ("-3", "--within must be at least 1 day, not -3."),
    ],
)
def test_it_refuses_bad_arguments(value, message):
    with pytest.raises(CommandError) as error:
        run("notify_expiring_tokens", f"--within={value}")
    assert str(error.value) == message


def test_it_exits_non_zero_with_the_message_in_a_shell():
    r = run_in_shell("notify_expiring_tokens", "--within", "soon")
    assert r.returncode == 1
    assert "--within takes a whole number of days, not 'soon'." in r.stderr
    assert r.stdout == ""


def test_it_has_help():
    r = run_in_shell("notify_expiring_tokens", "--help")
    assert r.returncode == 0
    assert "--within DAYS" in r.stdout
    assert "--dry-run" in r.stdout
    assert "cron" in r.stdout
