"""Instants as Keystand writes them: ISO 8601, "Z" for UTC (the text of DRF's DateTimeField).

`datetime.isoformat` costs three to four times a look-up in this cache, and the same instants are
written again and again (a token's creation, expiry and last use, on every call that shows it
or authenticates with it), so the text is kept for instants in UTC, which is what both
databases give.
"""

import datetime as dt
import functools


def _text(zone, value: dt.datetime) -> str:
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# The key is the zone and the instant: aware datetimes are equal when they are the same moment,
# and those two decide the text. Only values in UTC are kept, where no two moments share a
# wall time (elsewhere, the two readings of a clock turned back compare equal).
_kept = functools.lru_cache(maxsize=4096)(_text)


def iso(value: dt.datetime, zone: dt.tzinfo = dt.UTC) -> str:
    """Return `value`, an aware datetime, in `zone` as ISO 8601, "Z" for UTC."""
    if value.tzinfo is dt.UTC:
        return _kept(zone, value)
    return _text(zone, value)
