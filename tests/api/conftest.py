"""Fixtures for the API tests: alice's token and unhashed static files."""

import pytest


@pytest.fixture
def alice_token(alice, make_token):
    """alice's token called "laptop", scope api, that never expires: (AccessToken, raw).

    Never expiring, so that tokens the tests create with it are not capped by its lifetime
    (tests/api/test_tokens_made_with_tokens.py covers that cap)."""
    return make_token(alice, name="laptop", expires_at=None)


@pytest.fixture
def plain_static(settings):
    """Serve static files unhashed: the suite runs without collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
