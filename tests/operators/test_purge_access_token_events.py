"""manage.py purge_access_token_events: drop audit rows older than N days."""

import pytest
from django.core.management.base import CommandError

from access_tokens.models import AccessTokenEvent

from .commands import run, run_in_shell
from .conftest import ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(alice, make_token):
    """Four audit rows: 2 days, 100 days, 400 and 800 days old."""
    for _ in range(4):
        make_token(alice)
    rows = list(AccessTokenEvent.objects.order_by("pk"))
    for row, days in zip(rows, (2, 100, 400, 800), strict=True):
        AccessTokenEvent.objects.filter(pk=row.pk).update(created_at=ago(days=days))
    return rows


def test_it_deletes_events_older_than_n_days(events):
    out, _err = run("purge_access_token_events", "--older-than", "365")
    assert out.startswith("Deleted 2 access token event(s) older than 365 day(s) (before ")
    left = AccessTokenEvent.objects.order_by("pk")
    assert [e.pk for e in left] == [events[0].pk, events[1].pk]


def test_it_can_be_run_again_safely(events):
    run("purge_access_token_events", "--older-than", "365")
    out, _err = run("purge_access_token_events", "--older-than", "365")
    assert out.startswith("Deleted 0 access token event(s)")
    assert AccessTokenEvent.objects.count() == 2


def test_a_dry_run_deletes_nothing(events):
    out, _err = run("purge_access_token_events", "--older-than", "30", "--dry-run")
    assert out.startswith("Would delete 3 access token event(s) older than 30 day(s)")
    assert AccessTokenEvent.objects.count() == 4


@pytest.mark.parametrize(
    "args,message",
    [
        (["--older-than=a year"], "--older-than takes a whole number of days, not 'a year'."),
        (["--older-than=0"], "--older-than must be at least 1 day, not 0."),
        ([], "Error: the following arguments are required: --older-than"),
    ],
)
def test_it_refuses_bad_arguments(events, args, message):
    with pytest.raises(CommandError) as error:
        run("purge_access_token_events", *args)
    assert str(error.value) == message
    assert AccessTokenEvent.objects.count() == 4


def test_it_exits_non_zero_with_the_message_in_a_shell():
    r = run_in_shell("purge_access_token_events", "--older-than", "-1")
    assert r.returncode == 1
    assert "--older-than must be at least 1 day, not -1." in r.stderr
    r = run_in_shell("purge_access_token_events")
    assert r.returncode == 2
    assert "the following arguments are required: --older-than" in r.stderr


def test_it_has_help():
    r = run_in_shell("purge_access_token_events", "--help")
    assert r.returncode == 0
    assert "--older-than DAYS" in r.stdout
    assert "--dry-run" in r.stdout
