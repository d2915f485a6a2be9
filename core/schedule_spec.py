"""When a schedule runs: the kinds of schedule, each in its own IANA time zone. Pure: parsing from the words a user
types, validation with errors that say how to fix them, a canonical text form and a JSON form (both round-trip
exactly), and the next run times computed here the way Prefect's server computes them.

    every N      every N minutes (1 to 10080) of elapsed time from an anchor (its first run): a DST change
                 neither shortens nor lengthens an interval (for a fixed local time of day, use daily or weekly)
    daily HH:MM  every day at that local time
    weekly DAYS HH:MM   on those weekdays (mon,wed,fri) at that local time
    monthly DAY HH:MM   on that day of the month; 29, 30 and 31 run on the last day of shorter months (never skipped)
    cron EXPR    a five-field cron expression on the local wall clock
    once AT      a single run at a local date and time (YYYY-MM-DD HH:MM)

DST, as Prefect applies it: wall-clock kinds (daily, weekly, cron) run a local time that does not exist (the hour
the clocks skip) as many minutes later as the clocks jumped, and a local time that happens twice once, at its
first occurrence. monthly is an RRule (cron cannot say "the month's last day"): Prefect evaluates RRules with
dateutil, which runs a skipped local time an hour early; next_runs does the same, so what it says is what happens.
A `once` at a local time that does not exist is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

import dateutil.rrule
import dateutil.tz
from cronsim import CronSim, CronSimError

from core.errors import UserFacingError
from core.local_time import LocalTimeError, check_exists, iso_utc, localize, parse_local_moment, zone_name

Kind = Literal["every", "daily", "weekly", "monthly", "cron", "once"]
KINDS: tuple[str, ...] = get_args(Kind)
MAX_EVERY_MINUTES = 7 * 24 * 60  # a week
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = Python's weekday()
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_RRULE_ANCHOR = datetime(2020, 1, 1)  # the DTSTART Prefect writes into an RRule without one
_MAX_CANDIDATES = 5000  # wall times looked at per call (a cron for Feb 30 never matches)


class ScheduleSpecError(UserFacingError, ValueError):
    """A schedule written wrong; the message names the part and shows a form that works."""


@dataclass(frozen=True)
class ScheduleSpec:
    """When a schedule runs. `when` is the canonical text after the kind ("30", "09:00", "mon,wed,fri 10:00",
    "31 08:00", "0 */6 * * *", "2026-12-24 18:00"); `anchor` (every only) is the first run of the interval,
    UTC. Build one with parse_spec or from_json, which validate."""

    kind: Kind
    when: str
    timezone: str = "UTC"
    anchor: datetime | None = None

    @property
    def text(self) -> str:
        """The canonical text form: parse_spec(spec.text, spec.timezone, anchor=spec.anchor) == spec."""
        return f"{self.kind} {self.when}"

    def describe(self) -> str:
        """For people: "every 2 h", "daily at 09:00 (Europe/Berlin)", "monthly on day 31 at 08:00 (UTC)"."""
        zone = f" ({self.timezone})"
        if self.kind == "every":
            minutes = self.minutes
            amount = f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
            return f"every {amount}"
        if self.kind == "daily":
            return f"daily at {self.when}{zone}"
        if self.kind == "weekly":
            days, at = self.when.split(" ")
            return f"weekly on {days} at {at}{zone}"
        if self.kind == "monthly":
            day, at = self.when.split(" ")
            last = " (or the month's last day)" if int(day) > 28 else ""
            return f"monthly on day {day}{last} at {at}{zone}"
        if self.kind == "cron":
            return f"cron {self.when}{zone}"
        return f"once at {self.when}{zone}"

    @property
    def minutes(self) -> int:
        """The interval of an `every` schedule."""
        return int(self.when) if self.kind == "every" else 0

    def to_json(self) -> dict[str, str]:
        data = {"when": self.text, "timezone": self.timezone}
        if self.anchor is not None:
            data["anchor"] = iso_utc(self.anchor)
        return data

    @classmethod
    def from_json(cls, data: Any) -> ScheduleSpec:
        """The spec of to_json(); ScheduleSpecError when it is not one. A `once` in the past is accepted here (an
        exported schedule that already ran), unlike parse_spec."""
        if not isinstance(data, dict) or not isinstance(data.get("when"), str):
            raise ScheduleSpecError(f'{data!r} is not a schedule: expected {{"when": "daily 09:00", "timezone": ...}}')
        anchor = data.get("anchor")
        if anchor is not None:
            try:
                anchor = datetime.fromisoformat(str(anchor))
            except ValueError:
                raise ScheduleSpecError(
                    f"anchor {anchor!r} is not an ISO date-time such as 2026-12-01T09:00:00Z"
                ) from None
        return parse_spec(data["when"], str(data.get("timezone") or "UTC"), anchor=anchor)

    # --- in Prefect's terms (bookkeeping turns these into Prefect schedule objects) ---------------------------

    @property
    def cron(self) -> str | None:
        """The cron expression of the wall-clock kinds (daily, weekly, cron); None for the others."""
        if self.kind == "cron":
            return self.when
        if self.kind == "daily":
            at = _clock(self.when)
            return f"{at.minute} {at.hour} * * *"
        if self.kind == "weekly":
            days, clock = self.when.split(" ")
            at = _clock(clock)
            cron_days = ",".join(str((WEEKDAYS.index(day) + 1) % 7) for day in days.split(","))
            return f"{at.minute} {at.hour} * * {cron_days}"
        return None

    @property
    def rrule(self) -> str | None:
        """The RRule of monthly and once; None for the others. Day 29-31: the last of days 28..DAY that exists
        in the month (BYSETPOS=-1), so a short month runs on its last day."""
        if self.kind == "monthly":
            day, clock = self.when.split(" ")
            at = _clock(clock)
            days = ",".join(str(d) for d in range(28, int(day) + 1)) if int(day) > 28 else day
            position = ";BYSETPOS=-1" if int(day) > 28 else ""
            rule = f"FREQ=MONTHLY;BYMONTHDAY={days}{position};BYHOUR={at.hour};BYMINUTE={at.minute};BYSECOND=0"
            return f"DTSTART:{_RRULE_ANCHOR:%Y%m%dT%H%M%S}\nRRULE:{rule}"  # the DTSTART Prefect would add
        if self.kind == "once":
            return f"DTSTART:{_local_moment(self.when):%Y%m%dT%H%M%S}\nRRULE:FREQ=DAILY;COUNT=1"
        return None


def parse_spec(text: str, timezone_name: str = "UTC", *, anchor: datetime | None = None) -> ScheduleSpec:
    """A spec from its text form ("weekly mon,wed,fri 10:00"); `every` needs its anchor (its first run)."""
    kind, _, when = " ".join(text.split()).partition(" ")
    return spec_from_words(kind, when, timezone_name, anchor=anchor)


def spec_from_words(
    kind: str, when: str, timezone_name: str = "UTC", *, anchor: datetime | None = None, now: datetime | None = None
) -> ScheduleSpec:
    """A spec from the command line's words: kind "weekly", when "mon,wed,fri 10:00". With `now` (creating a
    schedule), an `every` without an anchor starts now and a `once` in the past is an error."""
    zone = _zone(timezone_name)
    when = " ".join(when.split())
    if kind == "every":
        minutes = _every_minutes(when)
        if anchor is None:
            if now is None:
                raise ScheduleSpecError("an `every` schedule needs its anchor (the time of its first run)")
            anchor = now.replace(microsecond=0)
        if anchor.tzinfo is None:
            raise ScheduleSpecError(f"the anchor {anchor.isoformat()} needs a UTC offset, e.g. 2026-12-01T09:00:00Z")
        return ScheduleSpec("every", str(minutes), zone, _plain_utc(anchor))
    if anchor is not None:
        raise ScheduleSpecError(f"only `every` schedules have an anchor, not `{kind}`")
    if kind == "daily":
        return ScheduleSpec("daily", _clock_text(when, "--daily HH:MM, e.g. --daily 09:00"), zone)
    if kind == "weekly":
        days, _, clock = when.partition(" ")
        example = "--weekly DAYS HH:MM, e.g. --weekly mon,wed,fri 10:00"
        return ScheduleSpec("weekly", f"{_weekdays(days, example)} {_clock_text(clock, example)}", zone)
    if kind == "monthly":
        day, _, clock = when.partition(" ")
        example = "--monthly DAY HH:MM, e.g. --monthly 31 08:00 (29-31: the last day of shorter months)"
        if not day.isdigit() or not 1 <= int(day) <= 31:
            raise ScheduleSpecError(f"monthly day {day!r} is not a day of the month (1 to 31): {example}")
        return ScheduleSpec("monthly", f"{int(day)} {_clock_text(clock, example)}", zone)
    if kind == "cron":
        return ScheduleSpec("cron", _cron(when), zone)
    if kind == "once":
        moment = _local_moment(when)
        _check_exists(moment, zone)
        if now is not None and localize(moment, zone) <= now:
            raise ScheduleSpecError(
                f"once {when} ({zone}) is in the past (now it is {now.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} "
                "there): give a future local date and time"
            )
        return ScheduleSpec("once", f"{moment:%Y-%m-%d %H:%M}", zone)
    raise ScheduleSpecError(f"{kind!r} is not a kind of schedule: use one of {', '.join(KINDS)}")


def next_runs(spec: ScheduleSpec, start: datetime, count: int) -> list[datetime]:
    """The first `count` run times at or after `start` (aware), in UTC, as Prefect's server schedules them."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    runs = []
    for run in _runs_from(spec, start):
        runs.append(run.astimezone(timezone.utc))
        if len(runs) >= count:
            break
    return runs


def _runs_from(spec: ScheduleSpec, start: datetime) -> Iterator[datetime]:
    zone = ZoneInfo(spec.timezone)
    if spec.kind == "every":
        yield from _interval_runs(spec, start)
    elif spec.cron is not None:
        yield from _wall_clock_runs(spec.cron, start, zone)
    else:
        yield from _rrule_runs(spec, start)


def _interval_runs(spec: ScheduleSpec, start: datetime) -> Iterator[datetime]:
    """A grid of elapsed time through the anchor, both ways."""
    assert spec.anchor is not None
    interval = timedelta(minutes=spec.minutes)
    step = -((spec.anchor - start) // interval)  # the first grid point at or after start
    while True:
        yield spec.anchor + step * interval
        step += 1


def _wall_clock_runs(cron: str, start: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """Cron on naive wall times, each made a moment with fold=0 (a skipped time moves forward by the jump, a
    repeated one is its first occurrence); a moment met twice is run once."""
    local_start = start.astimezone(zone).replace(tzinfo=None)
    wall_times = CronSim(cron, local_start - timedelta(hours=3))  # a skipped time can land after start
    seen: set[datetime] = set()
    for _ in range(_MAX_CANDIDATES):
        try:
            run = localize(next(wall_times), zone)
        except StopIteration:
            return
        if run >= start and run not in seen:
            seen.add(run)
            yield run


def _rrule_runs(spec: ScheduleSpec, start: datetime) -> Iterator[datetime]:
    """As Prefect's RRuleSchedule evaluates it: dateutil with the zone attached to DTSTART."""
    assert spec.rrule is not None
    zone = dateutil.tz.gettz(spec.timezone)
    rule = dateutil.rrule.rrulestr(spec.rrule, dtstart=_RRULE_ANCHOR)
    assert isinstance(rule, dateutil.rrule.rrule)
    rule = rule.replace(dtstart=rule._dtstart.replace(tzinfo=zone))
    seen: set[datetime] = set()
    for run in rule.xafter(start.astimezone(zone), count=_MAX_CANDIDATES, inc=True):
        moment = run.astimezone(timezone.utc)
        if moment not in seen:
            seen.add(moment)
            yield moment


# --- parts --------------------------------------------------------------------------------------------------


def _zone(name: str) -> str:
    try:
        return zone_name(name)
    except LocalTimeError as error:
        raise ScheduleSpecError(str(error)) from None


def _every_minutes(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_EVERY_MINUTES:
        raise ScheduleSpecError(f"--every {text} is out of range: give 1 to {MAX_EVERY_MINUTES} minutes (one week)")
    return int(text)


def _clock(text: str) -> time:
    match = _CLOCK.fullmatch(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleSpecError(f"{text!r} is not a time of day HH:MM (00:00 to 23:59)")
    return time(int(match[1]), int(match[2]))


def _clock_text(text: str, example: str) -> str:
    try:
        return f"{_clock(text):%H:%M}"
    except ScheduleSpecError as error:
        raise ScheduleSpecError(f"{error}: {example}") from None


def _weekdays(text: str, example: str) -> str:
    days = set()
    for word in filter(None, text.lower().split(",")):
        if word in WEEKDAYS:
            days.add(WEEKDAYS.index(word))
        elif word in _FULL_WEEKDAYS:
            days.add(_FULL_WEEKDAYS.index(word))
        else:
            raise ScheduleSpecError(f"{word!r} is not a weekday ({','.join(WEEKDAYS)}): {example}")
    if not days:
        raise ScheduleSpecError(f"no weekdays given: {example}")
    return ",".join(WEEKDAYS[day] for day in sorted(days))


def _cron(expression: str) -> str:
    example = 'five fields: minute hour day-of-month month day-of-week, e.g. --cron "0 */6 * * *"'
    if len(expression.split()) != 5:
        raise ScheduleSpecError(f"cron {expression!r} does not have {example}")
    try:
        CronSim(expression, datetime(2026, 1, 1))
    except CronSimError as error:
        raise ScheduleSpecError(f"cron {expression!r}: {error} ({example})") from None
    return expression


def _local_moment(text: str) -> datetime:
    try:
        return parse_local_moment(text)
    except LocalTimeError:
        raise ScheduleSpecError(
            f'once {text!r} is not a local date and time: --once "YYYY-MM-DD HH:MM", e.g. 2026-12-24 18:00'
        ) from None


def _check_exists(wall_time: datetime, zone: str) -> None:
    try:
        check_exists(wall_time, zone)
    except LocalTimeError as error:
        raise ScheduleSpecError(str(error)) from None


def _plain_utc(moment: datetime) -> datetime:
    """The moment as a plain datetime in UTC: an anchor read from Prefect is a pendulum DateTime, whose
    arithmetic with timedelta differs."""
    utc = moment.astimezone(timezone.utc)
    return datetime(*utc.timetuple()[:6], utc.microsecond, tzinfo=timezone.utc)
