"""The OpenAPI document and its docs page, public and answering errors in the one shape."""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


class _JsonErrors:
    """Render an error as JSON whatever the view's own renderers (YAML, HTML), so that every
    answer under /api/ that is an error has the one error body."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(_JsonErrors, SpectacularAPIView):
    """The OpenAPI document, public: credentials are not read at all, so a stale token in a
    client's default headers does not stop anyone from reading the schema."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class DocsView(_JsonErrors, SpectacularSwaggerSplitView):
    """Swagger UI on the schema, public like it."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
