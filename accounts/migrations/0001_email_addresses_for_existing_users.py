"""
Give every existing user an allauth EmailAddress row for the address on their account.

The rows are marked unverified: before allauth, Keystand never checked that a sign-up owned the
address it typed (issue 12: a stranger signed up with someone else's address and had Keystand
mail them). Calling those addresses verified would keep that hole open. So existing users get
no token mail until they verify (the token page says so and offers the link); a password
reset still reaches them, and succeeding at one verifies the address.
"""

from django.conf import settings
from django.db import migrations


def create_email_addresses(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    EmailAddress = apps.get_model("account", "EmailAddress")
    db = schema_editor.connection.alias  # the database being migrated, not the default one
    has_row = set(EmailAddress.objects.using(db).values_list("user_id", flat=True))
    rows = [
        EmailAddress(user_id=user.pk, email=user.email.lower(), verified=False, primary=True)
        for user in User.objects.using(db).exclude(email="").only("pk", "email").iterator()
        if user.pk not in has_row
    ]
    EmailAddress.objects.using(db).bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("account", "0009_emailaddress_unique_primary_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_email_addresses, migrations.RunPython.noop)]
