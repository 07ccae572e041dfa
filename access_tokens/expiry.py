"""
When a token stops working: the one place that turns a chosen day into an instant.

A token chosen to expire on day D works through the whole of D in the server's TIME_ZONE and is
refused from the first instant of D + 1. "The last instant of D" is computed as the start of
the next day minus the smallest step, never as D at 23:59:59.999999: where clocks go back at
midnight that wall time happens twice, and picking the first would end the token an hour early.
The form, the API, the admin, the command and rotation all use these functions.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .conf import token_settings

_STEP = dt.timedelta(microseconds=1)


def _now() -> dt.datetime:
    return timezone.now()


def start_of_day(day: dt.date) -> dt.datetime:
    """Return the first instant of `day` in TIME_ZONE, in UTC.

    Where midnight is skipped (clocks jump forward at 00:00) the first instant is the moment
    of the jump; where it happens twice, the first time.
    """
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min)).astimezone(dt.UTC)


def end_of_day(day: dt.date) -> dt.datetime:
    """Return the last instant of `day` in TIME_ZONE, in UTC. Raise OverflowError for a day
    too far ahead to store."""
    return start_of_day(day + dt.timedelta(days=1)) - _STEP


def end_of_day_in(days: int, *, now: dt.datetime | None = None) -> dt.datetime:
    """Return the end of the day `days` days after today (the form's "30 days")."""
    return end_of_day(timezone.localdate(now or _now()) + dt.timedelta(days=days))


def default_expiry(*, now: dt.datetime | None = None) -> dt.datetime:
    """Return the expiry of a token whose creator chose none."""
    return end_of_day_in(token_settings.DEFAULT_LIFETIME_DAYS, now=now)


def latest_allowed_expiry(now: dt.datetime | None = None) -> dt.datetime | None:
    """Return the latest expiry ACCESS_TOKEN_MAX_LIFETIME_DAYS allows, or None for no cap."""
    days = token_settings.MAX_LIFETIME_DAYS
    if days is None:
        return None
    return end_of_day_in(days, now=now)


def same_lifetime_from_today(
    created_at: dt.datetime, expires_at: dt.datetime | None, *, now: dt.datetime | None = None
) -> dt.datetime | None:
    """Return the expiry a rotated token gets by default: as many days from today as the old
    one had from its creation (None stays None)."""
    if expires_at is None:
        return None
    days = (timezone.localdate(expires_at) - timezone.localdate(created_at)).days
    return end_of_day_in(max(days, 1), now=now)


# The list warns of a token's end in the same last 7 days the reminder email covers, but only
# once less than a quarter of its lifetime is left: a token made for 7 days (or 3) is not
# flagged the moment it is born, while a 30-day or 1-year token is, a week before its end.
WARN_DAYS = 7
WARN_FRACTION = 0.25


def warn_of_expiry(created_at: dt.datetime, expires_at: dt.datetime | None, *, now=None) -> bool:
    """Return whether a token's coming expiry deserves a warning now."""
    if expires_at is None:
        return False
    now = now or _now()
    if expires_at < now:
        return False
    days_left = (timezone.localdate(expires_at) - timezone.localdate(now)).days
    lifetime = expires_at - created_at
    return days_left <= WARN_DAYS and (expires_at - now) < lifetime * WARN_FRACTION
