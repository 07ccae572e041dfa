"""`manage.py check` names every ACCESS_TOKEN_* setting the app cannot use."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from access_tokens.checks import check_settings


def _ids(**settings) -> list[str]:
    with override_settings(**settings):
        return [message.id for message in check_settings()]


def test_it_passes_the_defaults_and_the_projects_own_settings():
    assert check_settings() == []


@pytest.mark.parametrize(
    "values",
    [
        {"ACCESS_TOKEN_MAX_PER_USER": -1},
        {"ACCESS_TOKEN_MAX_PER_USER": "100"},
        {"ACCESS_TOKEN_LAST_USED_INTERVAL": 1.5},
        {"ACCESS_TOKEN_DEFAULT_LIFETIME_DAYS": 0},
        {"ACCESS_TOKEN_NEW_TOKEN_DISPLAY_SECONDS": True},
        {"ACCESS_TOKEN_MAX_LIFETIME_DAYS": 0},
        {"ACCESS_TOKEN_CREATION_EMAIL": "yes"},
        {"ACCESS_TOKEN_LOOKUP_AHEAD": 1},
    ],
)
def test_it_refuses_a_number_out_of_range(values):
    assert _ids(**values) == ["access_tokens.E001"]


def test_it_refuses_a_default_lifetime_longer_than_the_cap():
    ids = _ids(ACCESS_TOKEN_MAX_LIFETIME_DAYS=7, ACCESS_TOKEN_DEFAULT_LIFETIME_DAYS=30)
    assert ids == ["access_tokens.E002"]


def test_it_refuses_a_hook_that_cannot_be_imported_or_called():
    assert _ids(ACCESS_TOKEN_CAN_EMAIL_USER="no.such.module.fn") == ["access_tokens.E003"]
    assert _ids(ACCESS_TOKEN_RECENT_AUTH_CHECK="access_tokens.conf.DEFAULTS") == [
        "access_tokens.E003"
    ]
    assert _ids(ACCESS_TOKEN_RECENT_AUTH_CHECK="access_tokens.reauth.allauth_recent_auth") == []


def test_it_refuses_an_empty_base_template_or_site_name():
    assert _ids(ACCESS_TOKEN_BASE_TEMPLATE="") == ["access_tokens.E004"]
    assert _ids(ACCESS_TOKEN_SITE_NAME=None) == ["access_tokens.E004"]


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (["deploy"], "access_tokens.E005"),
        ({"Deploy Things": "x"}, "access_tokens.E005"),
        ({"deploy": {"description": "x", "implys": []}}, "access_tokens.E005"),
        ({"deploy": {"description": "x", "implies": "api"}}, "access_tokens.E005"),
        ({"api": "Mine now."}, "access_tokens.E006"),
        ({"deploy": {"description": "x", "implies": ["read_repo"]}}, "access_tokens.E007"),
    ],
)
def test_it_refuses_a_bad_scope_registry(scopes, expected):
    assert _ids(ACCESS_TOKEN_SCOPES=scopes) == [expected]


def test_it_takes_scopes_that_imply_built_in_and_each_other():
    scopes = {
        "deploy": {"description": "Trigger deployments.", "implies": ["read_api", "status"]},
        "status": "Read deployment status.",
    }
    assert _ids(ACCESS_TOKEN_SCOPES=scopes) == []


def test_it_warns_of_a_misspelt_setting():
    assert _ids(ACCESS_TOKEN_MAX_PER_USERS=5) == ["access_tokens.W001"]


def test_manage_py_check_stops_on_a_bad_value():
    with (
        override_settings(ACCESS_TOKEN_MAX_PER_USER=-5),
        pytest.raises(SystemCheckError, match="ACCESS_TOKEN_MAX_PER_USER"),
    ):
        call_command("check")


def test_it_warns_when_the_user_admin_lacks_the_tokens():
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.contrib.auth.admin import UserAdmin

    from access_tokens.checks import check_user_admin

    assert check_user_admin() == []
    User = get_user_model()
    keystands = type(admin.site.get_model_admin(User))
    admin.site.unregister(User)
    try:
        admin.site.register(User, UserAdmin)
        assert [m.id for m in check_user_admin()] == ["access_tokens.W002"]
    finally:
        admin.site.unregister(User)
        admin.site.register(User, keystands)


def test_it_extends_a_user_admin_registered_before_it():
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.contrib.auth.admin import UserAdmin

    from access_tokens.user_admin import AccessTokenInline, extend_registered_user_admin

    site = admin.AdminSite(name="elsewhere")
    site.register(get_user_model(), UserAdmin)
    extend_registered_user_admin(site)
    extended = site.get_model_admin(get_user_model())
    assert isinstance(extended, UserAdmin)
    assert AccessTokenInline in extended.get_inlines(None, None)
    extend_registered_user_admin(site)  # twice is once
    assert site.get_model_admin(get_user_model()) is extended
