from django.conf import settings
from django.http import HttpRequest


def _initials(user) -> str:
    parts = [p for p in (user.first_name, user.last_name) if p] or [user.get_username()]
    return "".join(p[0] for p in parts[:2]).upper()


def site(request: HttpRequest) -> dict:
    """Expose what every page's chrome needs: the sign-up switch and the menu's initials."""
    ctx = {"SIGNUP_ENABLED": settings.SIGNUP_ENABLED, "TIME_ZONE_NAME": settings.TIME_ZONE}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        ctx["user_initials"] = _initials(user)
    return ctx
