"""
Keystand's choices inside django-allauth: who may sign up, which address a request comes from,
how failed sign-ins are counted, and which mail may go to an address.

allauth owns the flows (sign-in, sign-up, verification, reset, two-factor); this module only
answers the questions allauth asks its adapter.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.account.utils import filter_users_by_email, filter_users_by_username
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest
from django.urls import reverse

from access_tokens import mail
from access_tokens.client_ip import client_ip

# Mail that may go to an address nobody has proven yet: the proof itself, and the links that
# set a password (a reset, an operator's invitation), which prove it too when used.
MAIL_TO_UNVERIFIED = {
    "account/email/email_confirmation",
    "account/email/email_confirmation_signup",
    "account/email/password_reset_key",
    "account/email/invitation",
}


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": (
            "Too many failed sign-in attempts for this account or from your network. "
            "For your security, sign-in is paused: try again later."
        ),
    }

    def get_client_ip(self, request: HttpRequest) -> str:
        """Return Keystand's one client address (TRUSTED_PROXIES), so sign-in limits,
        throttles and audit rows all count the same client. Requests without one (a Unix
        socket) share one counter rather than escaping the limits."""
        return client_ip(request) or "unknown"

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.SIGNUP_ENABLED

    def get_password_change_redirect_url(self, request: HttpRequest) -> str:
        return reverse("home")

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Count failed sign-ins per account, not per spelling of it.

        allauth keys the counter on what was typed; "alice", "ALICE" and alice's email address
        would then be three budgets for guessing one password. Typed names that match no
        account share a counter per spelling (casefolded), so unknown names cost the same.
        """
        user = self._account_for(credentials)
        if user is not None:
            return f"account:{user.pk}"
        typed = credentials.get("email") or credentials.get("username") or ""
        return f"unknown:{typed.casefold()}"

    @staticmethod
    def _account_for(credentials: dict) -> AbstractBaseUser | None:
        username, email = credentials.get("username"), credentials.get("email")
        if username:
            user = filter_users_by_username(username).order_by("pk").first()
            if user is not None:
                return user
        if email:
            users = filter_users_by_email(email, prefer_verified=True)
            if users:
                return users[0]
        return None

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Queue allauth's mail for the task worker (access_tokens/mail.py), except to an
        address that may not be mailed yet.

        allauth's own send_mail, but the message goes to the queue instead of the mail server:
        rendered here, with the request's links, and sent outside the request.
        """
        if template_prefix not in MAIL_TO_UNVERIFIED and not _address_is_verified(email):
            return
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        mail.send(self.render_mail(template_prefix, email, ctx))


def _address_is_verified(email: str) -> bool:
    return EmailAddress.objects.filter(email__iexact=email, verified=True).exists()
