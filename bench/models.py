from django.conf import settings
from django.db import models


class ArgonToken(models.Model):
    """A token verified with the password hasher: the design Keystand refuses (DESIGN.md §2).

    The public `key_id` finds the row in one indexed query, as a careful naive design would;
    the secret is then checked with Argon2 on every request, and that is the cost measured.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key_id = models.CharField(max_length=16, unique=True)
    encoded = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.key_id
