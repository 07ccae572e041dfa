import sys

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .middleware import database_unavailable, outage_of


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    ctx = {"api_base": request.build_absolute_uri("/api/v1/")}
    return render(request, "home.html", ctx)


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


def _error(request: HttpRequest, status: int, detail: str, template: str) -> HttpResponse:
    """Answer JSON under /api/ and a page elsewhere, so API clients always get a `detail`."""
    if _is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    return render(request, template, {"detail": detail}, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if cause := outage_of(exception):  # e.g. the session could not be saved
        return database_unavailable(request, cause)
    return _error(request, 400, "Bad request.", "400.html")


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 403, "You do not have permission to do that.", "403.html")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 404, "Not found.", "404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    # A database outage that struck outside a view (in a middleware, say) lands here;
    # answer 503 without rendering anything that would query the database again.
    if cause := outage_of(sys.exc_info()[1]):
        return database_unavailable(request, cause)
    return _error(request, 500, "Something went wrong on our side.", "500.html")
