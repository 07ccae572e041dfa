"""Existing users get an allauth EmailAddress row, unverified (the migration says why)."""

import importlib
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.db import connection

migration = importlib.import_module("accounts.migrations.0001_email_addresses_for_existing_users")

pytestmark = pytest.mark.django_db


def test_it_creates_an_unverified_primary_address_per_user(django_user_model):
    alice = django_user_model.objects.create_user("alice", "Alice@Example.org", "x")
    nomail = django_user_model.objects.create_user("nomail", "", "x")
    bob = django_user_model.objects.create_user("bob", "bob@example.org", "x")
    EmailAddress.objects.create(user=bob, email="bob@example.org", verified=True, primary=True)

    # It runs no schema change; it reads only which database is being migrated.
    migration.create_email_addresses(apps, SimpleNamespace(connection=connection))

    row = EmailAddress.objects.get(user=alice)
    assert (row.email, row.verified, row.primary) == ("alice@example.org", False, True)
    assert not EmailAddress.objects.filter(user=nomail).exists()
    # A row that already exists is left as it is.
    assert list(EmailAddress.objects.filter(user=bob).values_list("verified", flat=True)) == [True]
