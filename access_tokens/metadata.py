"""What OPTIONS says an endpoint takes: the fields of the serializer that really reads the
body, for POST, PUT and PATCH alike.

DRF's SimpleMetadata describes POST and PUT only, with the view's serializer_class; a view
that reads its body with another serializer (create, rotate, rename) was described with the
read-only token fields, so nothing looked writable.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request
from rest_framework.utils.field_mapping import ClassLookupDict

from .fields import ExpiresAtField


class WritableFieldsMetadata(SimpleMetadata):
    label_lookup = ClassLookupDict(
        {ExpiresAtField: "date or datetime", **SimpleMetadata.label_lookup.mapping}
    )

    def determine_actions(self, request, view):
        """Describe each method that takes a body, as the caller may use it: a method its
        credentials may not use, or an object it cannot see, is left out (as DRF does)."""
        actions = {}
        for method in ("POST", "PUT", "PATCH"):
            if method not in view.allowed_methods:
                continue
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
                if method in ("PUT", "PATCH") and hasattr(view, "get_object"):
                    view.get_object()
            except (exceptions.APIException, PermissionDenied, Http404):
                pass
            else:
                actions[method] = self.get_serializer_info(view.get_serializer())
            finally:
                view.request = request
        return actions
