"""
allauth's views, with the one thing Keystand adds: a refusal because of too many failed
attempts answers 429, so scripts and monitoring can tell it from a wrong password.
"""

from allauth.account import views as account_views
from allauth.mfa.base import views as mfa_views
from django.http import HttpResponse


def _too_many_attempts(form) -> bool:
    return any(
        error.code == "too_many_login_attempts"
        for errors in form.errors.as_data().values()
        for error in errors
    )


class _TooManyAttemptsIs429:
    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        if _too_many_attempts(form):
            response.status_code = 429
        return response


class LoginView(_TooManyAttemptsIs429, account_views.LoginView):
    """Sign-in for the site and, through secure_admin_login, for the admin."""


class PasswordChangeView(_TooManyAttemptsIs429, account_views.PasswordChangeView):
    """Change the password; wrong current passwords count as failed sign-ins."""


class MFAAuthenticateView(_TooManyAttemptsIs429, mfa_views.AuthenticateView):
    """The second step of signing in: wrong codes count against the same limits."""


login = LoginView.as_view()
password_change = PasswordChangeView.as_view()
mfa_authenticate = MFAAuthenticateView.as_view()
