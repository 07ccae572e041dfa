"""Answer 503, not 500, while the database or the cache is unreachable; redirect API URLs
without their trailing slash with a 308; read a chunked request body or refuse it."""

import io
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware import common as django_common
from django.template.loader import render_to_string
from django.utils.http import escape_leading_slashes

from access_tokens.cache_outage import CACHE_ERRORS, OutageLog
from access_tokens.errors import error_body

logger = logging.getLogger("keystand.database")
cache_outage_log = OutageLog(logging.getLogger("keystand.cache"))

# A lost or refused connection. IntegrityError, ProgrammingError and the like are bugs,
# not outages, and still end in a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def outage_of(exc: BaseException | None) -> str | None:
    """Return "database" or "cache" when `exc` is, or was raised while handling, a lost
    connection to that service; None for any other error.

    Django re-raises some failures as other errors: a session that cannot be saved becomes
    SessionInterrupted (a 400), with the OperationalError as its context.
    """
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_UNAVAILABLE):
            return "database"
        if isinstance(exc, CACHE_ERRORS):
            return "cache"
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def database_unavailable(request: HttpRequest, cause: str = "database") -> HttpResponse:
    """Return a short 503 that is built without touching the database or the cache.

    Nothing here may read the session or the user: that would query the database again.
    `cause` ("database" or "cache") picks the page's explanation.
    """
    if request.path.startswith("/api/"):
        body = error_body(
            "Service temporarily unavailable. Try again shortly.", "service_unavailable"
        )
        response: HttpResponse = JsonResponse(body, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"cause": cause}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turn a view's lost database or cache connection into a 503.

    The cache holds the sign-in limits, so while Redis is down sign-in fails closed with this
    page (and a JSON 503 under /api/, though token requests never get here: their throttles
    let them through, access_tokens/throttling.py).

    Errors raised outside the view reach handler500 or, for a session that could not be
    saved, handler400; both answer the same way (config.views). Django closes the
    broken connection at the end of the request, and CONN_HEALTH_CHECKS checks the next one,
    so the service recovers by itself once the database is back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        cause = outage_of(exception)
        if cause is None:
            return None
        if cause == "cache":
            cache_outage_log.warning(
                "Cache unavailable; answering 503 on %s %s: %s",
                request.method,
                request.path,
                exception,
            )
        else:
            logger.warning(
                "Database unavailable on %s %s: %s", request.method, request.path, exception
            )
        return database_unavailable(request, cause)


class CommonMiddleware(django_common.CommonMiddleware):
    """Django's CommonMiddleware, but a URL under /api/ missing its trailing slash is
    answered with a 308 to the slashed URL, for every method.

    Django's own answer is an HTML 301, after which clients repeat a POST or DELETE as a GET
    (RFC 9110 §15.4.2) and it raises in DEBUG for a POST. 308 keeps the method and the body
    (RFC 9110 §15.4.9), and one canonical URL per resource keeps the schema, Link headers and
    caches simple, which routing both forms would not.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            request.path.startswith("/api/")
            and response.status_code == 404
            and self.should_redirect_with_slash(request)
        ):
            location = escape_leading_slashes(request.get_full_path(force_append_slash=True))
            redirect = JsonResponse(
                error_body(f"API URLs end with a slash: use {location}", "trailing_slash_required"),
                status=308,
            )
            redirect["Location"] = location
            return redirect
        return super().process_response(request, response)


class ChunkedBodyMiddleware:
    """Read a body sent without Content-Length (`Transfer-Encoding: chunked`) to its end, or
    refuse the request; never let a view see such a body as empty.

    Django's WSGI request reads exactly CONTENT_LENGTH bytes, and none when it is absent, so a
    chunked body would vanish: a token created with its defaults instead of the scopes and
    expiry asked for, a revoke with "token: This field is required." A server that decodes
    the chunks and ends the stream says so with `wsgi.input_terminated` (gunicorn does); then
    the body is read here, at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (413 beyond), and handed
    on with its length. A server that does not (runserver) gets 411 Length Required.
    ASGI servers frame every body themselves; their requests have no `wsgi.input`.
    """

    CHUNK = 64 * 1024

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if (
            meta.get("HTTP_TRANSFER_ENCODING", "").strip()
            and not meta.get("CONTENT_LENGTH")
            and "wsgi.input" in meta
        ):
            if not meta.get("wsgi.input_terminated"):
                return _body_error(
                    request,
                    411,
                    "Send the request body with a Content-Length: this server cannot read a "
                    "chunked body.",
                    "length_required",
                    "411.html",
                )
            body = self._read(meta["wsgi.input"])
            if body is None:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return _body_error(
                    request,
                    413,
                    f"Request body is too large (the limit is {limit} bytes).",
                    "request_too_large",
                    "413.html",
                )
            # From here on the request is what a Content-Length request would be. `_stream` is
            # what HttpRequest.read() and .body read (django/http/request.py); the real-server
            # tests (tests/project/test_chunked_bodies.py) catch a Django that changes it.
            meta["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)
        return self.get_response(request)

    def _read(self, stream) -> bytes | None:
        """Return the whole body, or None when it is longer than the limit."""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        parts: list[bytes] = []
        size = 0
        while chunk := stream.read(self.CHUNK):
            size += len(chunk)
            if limit is not None and size > limit:
                return None
            parts.append(chunk)
        return b"".join(parts)


def _body_error(
    request: HttpRequest, status: int, detail: str, code: str, template: str
) -> HttpResponse:
    """Answer the API's error body under /api/ and a page elsewhere; nothing here reads the
    session or the database (this runs before the middleware that would)."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error_body(detail, code), status=status)
    else:
        response = HttpResponse(render_to_string(template, {"detail": detail}), status=status)
    # Set here: this answer never passes CommonMiddleware, which would. (No "Connection:
    # close" for the unread body: WSGI forbids hop-by-hop headers.)
    response["Content-Length"] = str(len(response.content))
    return response
