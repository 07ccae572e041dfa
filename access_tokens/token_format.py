"""
The token format: `kspat_` + 43 base62 characters of 32 random bytes + 6 base62 characters of
the CRC32 of everything before them (55 characters in all).

Kept apart from services.py, which re-exports it, because it needs no models: the logging
filter imports it while Django is still starting.
"""

import hashlib
import re
import secrets
import zlib

PREFIX = "kspat_"
TOKEN_LENGTH = 55
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SECRET_CHARS = 43  # 62**43 > 2**256: room for 32 random bytes
_CHECKSUM_CHARS = 6  # 62**6 > 2**32: room for a CRC32
_TOKEN_RE = re.compile(r"kspat_[0-9A-Za-z]{49}")
# Anywhere in free text (logs, pasted snippets): the token plus its boundaries.
TOKEN_IN_TEXT_RE = re.compile(r"kspat_[0-9A-Za-z]{49}(?![0-9A-Za-z])")


def _base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rest = divmod(number, 62)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars)).rjust(width, "0")


# Every two-character base62 string, by value (0 to 62**2 - 1): a checksum is three of them.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_PAIR = len(_PAIRS)


def _checksum_chars(crc: int) -> str:
    """_base62(crc, 6) for a CRC32 (below 62**6), in three look-ups instead of six divisions:
    every API call checks a checksum."""
    high, low = divmod(crc, _PAIR)
    return _PAIRS[high // _PAIR] + _PAIRS[high % _PAIR] + _PAIRS[low]


def checksum(body: str) -> str:
    """Return the six base62 characters that encode the CRC32 of `body`."""
    return _checksum_chars(zlib.crc32(body.encode()))


def generate_token() -> str:
    """Return a new raw token: prefix, 256 random bits in base62, checksum."""
    body = PREFIX + _base62(int.from_bytes(secrets.token_bytes(32), "big"), _SECRET_CHARS)
    return body + checksum(body)


def has_token_shape(raw: object) -> bool:
    """Check the prefix, length and alphabet only: a string that passes this but not
    is_well_formed has a wrong checksum, most likely a typo."""
    return isinstance(raw, str) and _TOKEN_RE.fullmatch(raw) is not None


def is_well_formed(raw: object) -> bool:
    """Check the prefix, length, alphabet and checksum, without touching the database, so
    typos and junk are refused for the price of a CRC."""
    if not isinstance(raw, str) or not _TOKEN_RE.fullmatch(raw):
        return False
    return checksum(raw[:-_CHECKSUM_CHARS]) == raw[-_CHECKSUM_CHARS:]


def find_tokens(text: str) -> list[str]:
    """Return the tokens in what someone pasted: every token-shaped run in a longer snippet
    (a log line, an Authorization header, a config file), in order and without repeats, or
    the trimmed text itself when it holds none, so that a typo still reaches the checks that
    say what is wrong with it. The admin's finder and the revoke endpoint both read pastes
    this way."""
    text = (text or "").strip()
    found = list(dict.fromkeys(TOKEN_IN_TEXT_RE.findall(text)))
    return found or ([text] if text else [])


def extract_token(text: str) -> str:
    """Return the first token in what was pasted (see find_tokens), or ""."""
    return next(iter(find_tokens(text)), "")


def mask(raw: str) -> str:
    """Return a token as it may be shown back: its prefix and last four characters."""
    return f"{PREFIX}…{raw[-4:]}"


def token_digest(raw: str) -> str:
    """Return the SHA-256 hex digest stored for a token.

    A token carries 256 random bits, so one fast hash is the right tool (NIST SP 800-63B
    §5.1.2.2). Password hashers such as Argon2 would add 100+ ms to every API call and buy
    nothing against a secret that cannot be guessed.
    """
    return hashlib.sha256(raw.encode()).hexdigest()
