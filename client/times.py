"""Times as people read and write them: ISO 8601 in UTC, one helper for the whole tree.

The chain keeps Unix seconds; JSON output keeps them too (as the API does). What a person
reads is `iso(seconds)`, e.g. "2027-06-30T23:59:59Z". What a person types is parsed by
`parse_time`: a date and time (UTC unless it names an offset), or a bare date, which means
the whole day — its first second for a start (`--from`), its last second for an end
(`--until`), since a licence's window includes its last second.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .errors import ConfigError

#: Beyond this (year 9999) a value is not a time a person can read: it is shown as a number.
_LAST_READABLE = 253402300799

_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso(seconds: int | None) -> str:
    """Unix seconds as ISO 8601 UTC; "-" for none (a table's empty cell).

    >>> iso(1782864000), iso(None)
    ('2026-07-01T00:00:00Z', '-')
    """
    if seconds is None:
        return "-"
    if not 0 <= seconds <= _LAST_READABLE:
        return str(seconds)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str, *, end_of_day: bool = False) -> int:
    """An ISO 8601 date or date-time as Unix seconds; ConfigError naming the value otherwise.

    A bare date is the day's first second, or with `end_of_day` its last second (inclusive).

    >>> iso(parse_time("2027-06-30")), iso(parse_time("2027-06-30", end_of_day=True))
    ('2027-06-30T00:00:00Z', '2027-06-30T23:59:59Z')
    >>> iso(parse_time("2027-06-30T12:00:00+02:00"))
    '2027-06-30T10:00:00Z'
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{value!r} is not a date like 2027-12-31 or a time like 2027-12-31T12:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if end_of_day and _BARE_DATE.match(text):
        parsed += timedelta(days=1, seconds=-1)
    return int(parsed.timestamp())
