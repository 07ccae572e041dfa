"""Compute a TOTP code the way an authenticator app does (RFC 6238: HMAC-SHA1, 30 s, 6 digits),
independently of the server's code."""

import base64
import hashlib
import hmac
import struct
import time

PERIOD = 30
# The server accepts only the current period's code: one computed in the last moments of a
# period may be stale when it arrives, so wait for the next period then, as a person would.
MARGIN_SECONDS = 5


def totp_code(secret: str, at: float | None = None) -> str:
    if at is None:
        left = PERIOD - time.time() % PERIOD
        if left < MARGIN_SECONDS:
            time.sleep(left + 0.1)
        at = time.time()
    counter = int(at // PERIOD)
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"
