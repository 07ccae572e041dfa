import logging
import re
import traceback

from .token_format import PREFIX

REDACTED = "kspat_[REDACTED]"
# Wider than a well-formed token on purpose: a token cut short or mistyped in a URL still
# carries most of its secret, so anything that starts like one is hidden.
_SECRETISH_RE = re.compile(PREFIX + r"[0-9A-Za-z]{16,}")


def _redact(text: str) -> str:
    return _SECRETISH_RE.sub(REDACTED, text)


class RedactAccessTokens(logging.Filter):
    """Replace anything shaped like a Keystand token in a log record, as a last line of
    defence: our own code never logs one, but a client may paste one into a URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if PREFIX in message and _SECRETISH_RE.search(message):
            record.msg = _redact(message)
            record.args = ()
        if record.exc_info and not record.exc_text:
            # Format the traceback now, redacted; formatters reuse exc_text when it is set.
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text and PREFIX in record.exc_text:
            record.exc_text = _redact(record.exc_text)
        if record.stack_info and PREFIX in record.stack_info:
            record.stack_info = _redact(record.stack_info)
        return True


# Loggers that Django's LOGGING never reaches: gunicorn gives them handlers of its own, and its
# access log prints every request line with its query string.
SERVER_LOGGERS = ("gunicorn.access", "gunicorn.error")


def protect_server_loggers() -> None:
    """Put the filter on the loggers themselves, so it runs whatever handlers they get."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactAccessTokens) for f in logger.filters):
            logger.addFilter(RedactAccessTokens())
