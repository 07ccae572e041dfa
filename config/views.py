import sys

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from access_tokens.errors import error_body

from .middleware import database_unavailable, outage_of


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Greet a signed-in user with the quick start; tell a visitor what Keystand is."""
    if not request.user.is_authenticated:
        return render(request, "landing.html")
    ctx = {"api_base": request.build_absolute_uri("/api/v1/")}
    return render(request, "home.html", ctx)


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Send browsers that ask for /favicon.ico by habit (or pages without an icon link, like
    API responses viewed in a tab) to the icon every page links, instead of a 404."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Report that the process answers; touch nothing else, so a slow database
    never gets a healthy container restarted."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Report whether this process can reach its database, for load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_response(
    request: HttpRequest, status: int, detail: str, *, code: str, template: str
) -> HttpResponse:
    """Answer `{"detail", "code"}` under /api/ and the page `template` elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body(detail, code), status=status)
    return render(request, template, {"detail": detail}, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if cause := outage_of(exception):  # e.g. the session could not be saved
        return database_unavailable(request, cause)
    return error_response(request, 400, "Bad request.", code="bad_request", template="400.html")


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return error_response(
        request,
        403,
        "You do not have permission to do that.",
        code="permission_denied",
        template="403.html",
    )


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return error_response(request, 404, "Not found.", code="not_found", template="404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    # A database outage that struck outside a view (in a middleware, say) lands here;
    # answer 503 without rendering anything that would query the database again.
    if cause := outage_of(sys.exc_info()[1]):
        return database_unavailable(request, cause)
    return error_response(
        request, 500, "Something went wrong on our side.", code="server_error", template="500.html"
    )
