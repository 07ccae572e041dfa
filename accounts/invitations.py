"""
Invitations: an operator creates an account for someone, who gets a link to set a password.

The link is allauth's password-reset link (it works once, and for PASSWORD_RESET_TIMEOUT), so
the invited person goes through the same reset page, limits and checks as everyone else.
"""

from __future__ import annotations

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

INVITATION_MAIL = "account/email/invitation"


def invite_user(*, request: HttpRequest, username: str, email: str) -> AbstractBaseUser:
    """Create an account with no usable password for `email` and mail it a password-set link."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, email=email)
        EmailAddress.objects.create(user=user, email=email.lower(), primary=True, verified=False)
    send_invitation(request=request, user=user)
    return user


def send_invitation(*, request: HttpRequest, user: AbstractBaseUser) -> None:
    """Mail `user` a fresh link to set their password (an earlier one keeps working until used
    or expired; setting a password makes every earlier link stale)."""
    token = account_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)
    adapter = get_adapter(request)
    url = adapter.get_reset_password_from_key_url(f"{user_pk_to_url_str(user)}-{token}")
    context = {
        "user": user,
        "username": user.get_username(),
        "password_set_url": url,
        "inviter": request.user.get_full_name() or request.user.get_username(),
    }
    adapter.send_mail(INVITATION_MAIL, user.email, context)
