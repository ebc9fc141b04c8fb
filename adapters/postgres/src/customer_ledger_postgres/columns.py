"""Python values to and from column values, where a plain adapter is not enough."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def offset_of(value: datetime | None) -> int | None:
    """The UTC offset (seconds) a time was given in; stored beside its timestamptz."""
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{value!r} has no time zone")
    return int(offset.total_seconds())


def with_offset(value: datetime, offset: int | None) -> datetime:
    """A timestamptz read back at the offset it was written with.

    The instant is exact; a named zone comes back as its fixed offset, just as it
    does from the profile's JSON document.
    """
    return value.astimezone(timezone(timedelta(seconds=offset or 0)))


def maybe_with_offset(value: datetime | None, offset: int | None) -> datetime | None:
    return None if value is None else with_offset(value, offset)


def like_pattern(needle: str) -> str:
    """A LIKE pattern (ESCAPE '\\') matching ``needle`` literally anywhere."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
