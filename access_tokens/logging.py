import logging

from .token_format import TOKEN_IN_TEXT_RE

REDACTED = "kspat_[REDACTED]"


class RedactAccessTokens(logging.Filter):
    """Replace anything shaped like a Keystand token in a log record, as a last line of
    defence: our own code never logs one, but a client may paste one into a URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "kspat_" in message:
            record.msg = TOKEN_IN_TEXT_RE.sub(REDACTED, message)
            record.args = ()
        return True
