# ruff: noqa: SIM300  (ruff takes token_settings.NAME for a constant; it is the value under test)
"""The app's settings object: defaults, a host's values, and values kept between reads but
never past a change Django announces (override_settings, pytest-django's `settings`)."""

import pytest
from django.test import override_settings

from access_tokens.conf import DEFAULTS, token_settings


def test_it_answers_the_default_until_the_host_sets_a_value():
    default = DEFAULTS["MAX_PER_USER"]
    assert token_settings.MAX_PER_USER == default
    with override_settings(ACCESS_TOKEN_MAX_PER_USER=7):
        assert token_settings.MAX_PER_USER == 7
    assert token_settings.MAX_PER_USER == default


def test_it_keeps_a_value_read_once(settings):
    default = DEFAULTS["LAST_USED_INTERVAL"]
    assert token_settings.LAST_USED_INTERVAL == default
    assert token_settings.__dict__["LAST_USED_INTERVAL"] == default
    # A change Django announces drops the kept value, prefixed or not.
    settings.ACCESS_TOKEN_LAST_USED_INTERVAL = 5
    assert "LAST_USED_INTERVAL" not in token_settings.__dict__
    assert token_settings.LAST_USED_INTERVAL == 5
    assert token_settings.TRUSTED_PROXIES == []
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    assert token_settings.TRUSTED_PROXIES == ["10.0.0.1"]


def test_it_refuses_a_name_it_does_not_know():
    with pytest.raises(AttributeError, match="NO_SUCH"):
        token_settings.NO_SUCH  # noqa: B018
    assert "NO_SUCH" not in token_settings.__dict__
