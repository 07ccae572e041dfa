"""Tokens issued before named scopes keep exactly the access they had."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("access_tokens", "0002_event_actor_token")]
AFTER = [("access_tokens", "0003_lifecycle_and_scopes")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_read_write_becomes_api_and_read_only_becomes_read_api(django_user_model):
    old = _migrate(BEFORE)
    try:
        User = old.get_model("auth", "User")
        Token = old.get_model("access_tokens", "AccessToken")
        alice = User.objects.create(username="alice")
        Token.objects.create(user=alice, name="rw", digest="a" * 64, last_four="aaaa")
        Token.objects.create(
            user=alice, name="ro", digest="b" * 64, last_four="bbbb", scope="read_only"
        )
        new = _migrate(AFTER)
        Token = new.get_model("access_tokens", "AccessToken")
        scopes = dict(Token.objects.values_list("name", "scopes"))
        assert scopes == {"rw": "api", "ro": "read_api"}
        assert set(Token.objects.values_list("revoked_at", flat=True)) == {None}
        # And back again, for an operator who must roll back.
        old = _migrate(BEFORE)
        Token = old.get_model("access_tokens", "AccessToken")
        assert dict(Token.objects.values_list("name", "scope")) == {
            "rw": "read_write",
            "ro": "read_only",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
