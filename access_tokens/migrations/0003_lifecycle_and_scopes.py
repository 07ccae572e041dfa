"""Named scopes instead of read & write / read-only; inactive tokens kept with when, by whom and
why they were revoked; the token a token was made with or rotated from."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Tokens keep exactly the access they had: read & write could do everything (api), read-only
# could use safe methods (read_api).
_FORWARD = {"read_write": "api", "read_only": "read_api"}
_BACKWARD = {"api": "read_write", "read_api": "read_only"}


def scopes_from_scope(apps, schema_editor):
    AccessToken = apps.get_model("access_tokens", "AccessToken")
    tokens = AccessToken.objects.using(schema_editor.connection.alias)  # the database migrated
    for old, new in _FORWARD.items():
        tokens.filter(scope=old).update(scopes=new)


def scope_from_scopes(apps, schema_editor):
    AccessToken = apps.get_model("access_tokens", "AccessToken")
    tokens = AccessToken.objects.using(schema_editor.connection.alias)
    tokens.exclude(scopes__regex=r"(^| )api( |$)").update(scope="read_only")
    tokens.filter(scopes__regex=r"(^| )api( |$)").update(scope="read_write")


class Migration(migrations.Migration):
    dependencies = [
        ("access_tokens", "0002_event_actor_token"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="accesstoken",
            name="scopes",
            field=models.CharField(default="api", max_length=255),
        ),
        migrations.RunPython(scopes_from_scope, scope_from_scopes),
        migrations.RemoveField(model_name="accesstoken", name="scope"),
        migrations.AddField(
            model_name='accesstoken',
            name='created_by_token',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='created_tokens', to='access_tokens.accesstoken'),
        ),
        migrations.AddField(
            model_name='accesstoken',
            name='created_via',
            field=models.CharField(choices=[('web', 'Web'), ('api', 'API'), ('admin', 'Admin'), ('command_line', 'Command line')], default='web', max_length=16),
        ),
        migrations.AddField(
            model_name='accesstoken',
            name='description',
            field=models.TextField(blank=True, max_length=1000),
        ),
        migrations.AddField(
            model_name='accesstoken',
            name='revoked_at',
            field=models.DateTimeField(blank=True, db_index=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='accesstoken',
            name='revoked_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='accesstoken',
            name='revoked_reason',
            field=models.CharField(blank=True, choices=[('deleted', 'Deleted by its owner'), ('revoked_by_operator', 'Revoked by an operator'), ('revoked_by_value', 'Reported as leaked'), ('rotated', 'Replaced by rotation'), ('parent_revoked', 'Revoked with the token that created it')], editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name='accesstoken',
            name='rotated_from',
            field=models.OneToOneField(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='rotated_to', to='access_tokens.accesstoken'),
        ),
        migrations.AlterField(
            model_name='accesstokenevent',
            name='action',
            field=models.CharField(choices=[('created', 'Created'), ('deleted', 'Deleted by owner'), ('revoked_by_operator', 'Revoked by an operator'), ('revoked_by_value', 'Revoked by value'), ('revoked_with_parent', 'Revoked with the token that created it'), ('rotated', 'Rotated'), ('updated', 'Changed'), ('expiry_notified', 'Owner told of expiry')], max_length=32),
        ),
    ]
