"""Local wall-clock times in IANA zones, the one place that turns what a user types ("2026-12-24 18:00" in
Europe/Berlin) into a moment. Pure. A local time that happens twice (a DST fall-back) is its first occurrence; one
the clocks skip either moves forward by the jump (localize) or is refused (check_exists), as the caller needs."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import UserFacingError

LOCAL_MOMENT_FORM = '"YYYY-MM-DD HH:MM", e.g. 2026-12-24 18:00'
_LOCAL_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})")


class LocalTimeError(UserFacingError, ValueError):
    """A zone or a local time that cannot be read; the message says which forms work."""


def zone_name(name: str) -> str:
    """The IANA zone name, stripped; LocalTimeError when there is no such zone."""
    name = name.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise LocalTimeError(
            f"time zone {name!r} is not an IANA time zone: use a name such as Europe/Berlin, America/New_York or UTC"
        ) from None
    return name


def parse_local_moment(text: str) -> datetime:
    """The naive wall time of "YYYY-MM-DD HH:MM" (or with a T); LocalTimeError otherwise."""
    match = _LOCAL_MOMENT.fullmatch(text.strip())
    if match and int(match[2]) <= 23 and int(match[3]) <= 59:
        try:
            return datetime.fromisoformat(f"{match[1]}T{int(match[2]):02d}:{match[3]}")
        except ValueError:
            pass
    raise LocalTimeError(f"{text!r} is not a local date and time: {LOCAL_MOMENT_FORM}")


def localize(wall_time: datetime, zone: str | ZoneInfo) -> datetime:
    """A local wall time as a moment: fold=0, so a skipped time moves forward and a repeated one is the first."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return wall_time.replace(tzinfo=tz, fold=0).astimezone(timezone.utc).astimezone(tz)


def check_exists(wall_time: datetime, zone: str) -> None:
    """LocalTimeError when the clocks of the zone skip this wall time (a DST spring-forward)."""
    tz = ZoneInfo(zone)
    moment = wall_time.replace(tzinfo=tz)
    if moment.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != wall_time:
        raise LocalTimeError(
            f"{wall_time:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks skip it for daylight saving time): "
            "give another time"
        )


def local_moment(text: str, zone: str) -> datetime:
    """The aware moment of a local date and time typed by a user, in `zone`; a time the clocks skip is refused
    (saying "18:00" and running at 19:00 would surprise), a repeated one is its first occurrence."""
    wall_time = parse_local_moment(text)
    check_exists(wall_time, zone)
    return localize(wall_time, zone)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z: 2026-12-24T17:00:00Z."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
