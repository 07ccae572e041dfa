"""The token pages sit in whatever layout the host names; emails name the host's site."""

import copy
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail

from access_tokens import services
from tests.access_tokens.conftest import LIST_URL, NEW_URL, delete_url, form_data

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent / "templates"


@pytest.fixture
def host_layout(settings):
    templates = copy.deepcopy(django_settings.TEMPLATES)
    templates[0]["DIRS"] = [HERE, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    settings.ACCESS_TOKEN_BASE_TEMPLATE = "host_layout.html"


def test_it_extends_keystands_base_by_default(alice_client):
    page = alice_client.get(LIST_URL).content.decode()
    assert "<title>Personal Access Tokens · Keystand</title>" in page


@pytest.mark.parametrize("url", [LIST_URL, NEW_URL])
def test_it_extends_the_template_the_host_names(alice_client, host_layout, url):
    page = alice_client.get(url).content.decode()
    assert "Host site header" in page
    assert "· Keystand" not in page
    assert "Personal Access Tokens" in page or "New personal access token" in page


def test_the_delete_page_too(alice_client, alice, host_layout):
    token, _ = services.create_access_token(user=alice, name="old")
    page = alice_client.get(delete_url(token)).content.decode()
    assert "Host site header" in page
    assert '<div class="container slim">' in page


def test_emails_name_the_site(alice_client, settings, django_capture_on_commit_callbacks):
    settings.ACCESS_TOKEN_SITE_NAME = "Acme Cloud"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(NEW_URL, form_data(name="CI"))
    [message] = mail.outbox
    assert message.subject.startswith("[Acme Cloud] ")
    assert "your Acme Cloud account" in message.body
    assert "Keystand" not in message.subject + message.body
