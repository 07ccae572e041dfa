from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    # Keystand's subclasses first, so they answer at allauth's own names and paths.
    path("login/", views.login, name="account_login"),
    path("password/change/", views.password_change, name="account_change_password"),
    path("2fa/authenticate/", views.mfa_authenticate, name="mfa_authenticate"),
    # The old change-password address, kept for bookmarks.
    path("password/", RedirectView.as_view(pattern_name="account_change_password")),
    path("", include("allauth.urls")),
]
