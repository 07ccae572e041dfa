"""manage.py create_access_token: a token for CI or a service account, printed once."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management.base import CommandError
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent

from .commands import run, run_in_shell
from .conftest import logged_text

pytestmark = pytest.mark.django_db


def test_it_prints_a_working_token_on_stdout_only(alice, api_client, all_logs):
    out, err = run(
        "create_access_token", "alice", "--name", "CI", "--expires-in-days", "7",
        "--scope", "read_only",
    )  # fmt: skip
    raw = out.strip()
    assert out == raw + "\n"
    assert services.is_well_formed(raw)
    token = AccessToken.objects.get()
    assert token.user == alice
    assert token.name == "CI"
    assert token.scope_list == ["read_api"]
    day = timezone.localdate() + dt.timedelta(days=7)
    assert token.expires_at == services.end_of_day(day)
    assert err == (
        f"Created token 'CI' ({token.masked}, read_api) for alice, expires {day:%Y-%m-%d}. "
        "This is the only time the token is shown: store it now.\n"
    )
    assert raw not in err
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert raw not in logged_text(all_logs)


def test_it_is_audited_as_the_command_line(alice):
    run("create_access_token", "alice", "--name", "CI")
    event = AccessTokenEvent.objects.get()
    assert event.action == "created"
    assert event.via == "command_line"
    assert event.actor is None
    assert event.actor_username == "command line"
    assert event.owner == alice


def test_it_defaults_to_thirty_days_with_scope_api(alice):
    run("create_access_token", "alice")
    token = AccessToken.objects.get()
    assert token.scope_list == ["api"]
    assert token.name == ""
    assert token.expires_at == services.end_of_day(timezone.localdate() + dt.timedelta(days=30))


def test_it_takes_several_scopes(alice):
    _out, err = run("create_access_token", "alice", "--scopes", "read_user, self_rotate")
    assert AccessToken.objects.get().scope_list == ["read_user", "self_rotate"]
    assert "read_user, self_rotate" in err


def test_it_can_make_a_token_that_never_expires(alice):
    _out, err = run("create_access_token", "alice", "--no-expiry")
    assert AccessToken.objects.get().expires_at is None
    assert "never expires" in err


def test_a_dry_run_creates_nothing_and_prints_no_token(alice):
    out, err = run("create_access_token", "alice", "--name", "CI", "--dry-run")
    assert out == ""
    assert err.startswith("Dry run: would create token 'CI' (api) for alice, expires ")
    assert err.endswith("Nothing was created.\n")
    assert not AccessToken.objects.exists()
    assert not AccessTokenEvent.objects.exists()


def test_a_dry_run_still_checks_the_limits(alice, settings):
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 10
    with pytest.raises(CommandError) as error:
        run("create_access_token", "alice", "--expires-in-days", "30", "--dry-run")
    assert str(error.value) == "Tokens on this server must expire within 10 days."


DAYS = "--expires-in-days"


@pytest.mark.parametrize(
    "args,message",
    [
        (["nobody"], "No user named 'nobody'."),
        (["alice", "--scope", "admin"], "--scope must be read_write or read_only, not 'admin'."),
        (
            ["alice", "--scopes", "read_api,admin"],
            "Unknown scope admin. Choose from: api, read_api, read_user, self_rotate.",
        ),
        (["alice", "--scopes", ","], "Select at least one scope."),
        (
            ["alice", "--scopes", "api", "--scope", "read_only"],
            "Give --scopes or the deprecated --scope, not both.",
        ),
        (["alice", DAYS, "x"], "--expires-in-days takes a whole number of days, not 'x'."),
        (["alice", DAYS, "0"], "--expires-in-days must be at least 1, not 0."),
        (["alice", DAYS, "99999999"], "--expires-in-days 99999999 is too far in the future."),
        (["alice", "--name", "x" * 101], "Keep the name to 100 characters or fewer (it has 101)."),
        (["alice", "--name", "tab\there"], "A name can't contain control characters."),
    ],
)
def test_it_refuses_bad_arguments(alice, args, message):
    with pytest.raises(CommandError) as error:
        run("create_access_token", *args)
    assert str(error.value) == message
    assert not AccessToken.objects.exists()


def test_it_refuses_an_inactive_user(alice):
    alice.is_active = False
    alice.save()
    with pytest.raises(CommandError) as error:
        run("create_access_token", "alice")
    assert str(error.value) == "User 'alice' is inactive: a token of theirs would not work."


def test_it_refuses_past_the_per_user_limit(alice, make_token, settings):
    settings.ACCESS_TOKEN_MAX_PER_USER = 1
    make_token(alice)
    with pytest.raises(CommandError) as error:
        run("create_access_token", "alice")
    assert "You have reached the limit of 1 active tokens." in str(error.value)
    assert alice.access_tokens.count() == 1


def test_it_emails_the_owner_once(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out, _err = run("create_access_token", "alice", "--name", "CI")
    assert len(mail.outbox) == 1
    assert "Command line" in mail.outbox[0].body
    assert out.strip() not in mail.outbox[0].body


def test_it_exits_non_zero_with_the_message_in_a_shell():
    r = run_in_shell("create_access_token", "alice", "--scope", "everything")
    assert r.returncode == 1
    assert "--scope must be read_write or read_only, not 'everything'." in r.stderr
    assert r.stdout == ""
    r = run_in_shell("create_access_token")
    assert r.returncode == 2
    assert "the following arguments are required: username" in r.stderr


def test_it_has_help():
    r = run_in_shell("create_access_token", "--help")
    assert r.returncode == 0
    for option in ("--name", "--expires-in-days", "--no-expiry", "--scopes", "--dry-run"):
        assert option in r.stdout


@pytest.mark.django_db(transaction=True)
def test_stdout_holds_the_token_alone_with_the_console_email_backend(alice, settings, capsys):
    # Development's email backend prints to stdout; $(manage.py create_access_token …) must
    # still capture nothing but the token. A real commit, so the email goes when it would.
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out, err = run("create_access_token", "alice", "--name", "CI")
    raw = out.strip()
    assert out == raw + "\n"
    assert services.is_well_formed(raw)
    assert "Subject: [Keystand] A personal access token was created" in err
    assert raw not in err
    assert capsys.readouterr().out == ""
