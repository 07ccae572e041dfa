"""The API's JSON parser, hardened against hostile bodies."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, but a body nested too deeply is a 400 like any other bad JSON.

    Python's json module answers `[[[[…]]]]` a few thousand levels deep with RecursionError,
    which DRF does not catch: left alone it is a 500 with a traceback.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
