"""Schedule specs: parsing and its errors, the text and JSON forms, and next runs across DST changes (Europe/Berlin:
2026-03-29, 2026-10-25, 2027-03-28, 2027-10-31; America/New_York: 2026-03-08, 2026-11-01, 2027-03-14, 2027-11-07),
and month ends over a leap (2028) and a non-leap (2027) February."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.schedule_spec import (
    WEEKDAYS,
    ScheduleSpec,
    ScheduleSpecError,
    next_runs,
    parse_spec,
    spec_from_words,
)

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def runs(kind: str, when: str, zone: str, start: str, count: int, anchor: datetime | None = None) -> list[str]:
    """The next runs as UTC 'MM-DD HH:MM' (with the year when it is not start's)."""
    spec = spec_from_words(kind, when, zone, anchor=anchor)
    moments = next_runs(spec, utc(start), count)
    assert moments == sorted(set(moments)) and all(moment >= utc(start) for moment in moments)
    return [f"{m:%m-%d %H:%M}" if m.year == utc(start).year else f"{m:%Y-%m-%d %H:%M}" for m in moments]


# --- parsing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "when", "text", "described"),
    [
        ("every", "30", "every 30", "every 30 min"),
        ("every", "120", "every 120", "every 2 h"),
        ("daily", "9:00", "daily 09:00", "daily at 09:00 (Europe/Berlin)"),
        (
            "weekly",
            "FRI,mon,wednesday  10:00",
            "weekly mon,wed,fri 10:00",
            "weekly on mon,wed,fri at 10:00 (Europe/Berlin)",
        ),
        (
            "monthly",
            "31 08:00",
            "monthly 31 08:00",
            "monthly on day 31 (or the month's last day) at 08:00 (Europe/Berlin)",
        ),
        ("monthly", "05 8:05", "monthly 5 08:05", "monthly on day 5 at 08:05 (Europe/Berlin)"),
        ("cron", "0  */6 * * *", "cron 0 */6 * * *", "cron 0 */6 * * * (Europe/Berlin)"),
        ("once", "2026-12-24 18:00", "once 2026-12-24 18:00", "once at 2026-12-24 18:00 (Europe/Berlin)"),
    ],
)
def test_each_kind_has_a_canonical_text(kind: str, when: str, text: str, described: str) -> None:
    spec = spec_from_words(kind, when, BERLIN, now=NOW)
    assert spec.text == text and spec.describe() == described and spec.timezone == BERLIN
    assert parse_spec(spec.text, spec.timezone, anchor=spec.anchor) == spec
    assert ScheduleSpec.from_json(spec.to_json()) == spec


def test_every_is_anchored_now_unless_given() -> None:
    assert spec_from_words("every", "30", now=NOW.replace(microsecond=123)).anchor == NOW
    given_anchor = datetime(2026, 1, 1, 9, tzinfo=ZoneInfo(BERLIN))
    spec = spec_from_words("every", "30", anchor=given_anchor)
    assert spec.anchor == given_anchor and spec.anchor.tzinfo == timezone.utc
    assert spec.to_json() == {"when": "every 30", "timezone": "UTC", "anchor": "2026-01-01T08:00:00Z"}


@pytest.mark.parametrize(
    ("kind", "when", "zone", "expected"),
    [
        ("every", "0", "UTC", "--every 0 is out of range: give 1 to 10080 minutes (one week)"),
        ("every", "10081", "UTC", "give 1 to 10080 minutes"),
        ("every", "soon", "UTC", "--every soon is out of range"),
        ("daily", "25:00", "UTC", "'25:00' is not a time of day HH:MM (00:00 to 23:59): --daily HH:MM"),
        ("daily", "9", "UTC", "'9' is not a time of day"),
        ("weekly", "mon,someday 10:00", "UTC", "'someday' is not a weekday (mon,tue,wed,thu,fri,sat,sun)"),
        ("weekly", "10:00", "UTC", "is not a weekday"),
        ("monthly", "32 08:00", "UTC", "monthly day '32' is not a day of the month (1 to 31)"),
        ("monthly", "0 08:00", "UTC", "is not a day of the month"),
        ("monthly", "15", "UTC", "'' is not a time of day"),
        ("cron", "0 * * *", "UTC", "cron '0 * * *' does not have five fields"),
        ("cron", "61 * * * *", "UTC", "cron '61 * * * *': Bad minute"),
        ("once", "24.12.2026 18:00", "UTC", "once '24.12.2026 18:00' is not a local date and time"),
        ("once", "2026-02-30 18:00", "UTC", "is not a local date and time"),
        ("once", "2026-01-01 10:00", BERLIN, "once 2026-01-01 10:00 (Europe/Berlin) is in the past (now it is"),
        ("once", "2026-10-25 02:30", "Mars/Olympus", "time zone 'Mars/Olympus' is not an IANA time zone"),
        ("once", "2027-03-28 02:30", BERLIN, "2027-03-28 02:30 does not exist in Europe/Berlin (the clocks skip it"),
        ("hourly", "5", "UTC", "'hourly' is not a kind of schedule: use one of every, daily, weekly, monthly, cron"),
    ],
)
def test_bad_specs_say_what_is_wrong(kind: str, when: str, zone: str, expected: str) -> None:
    with pytest.raises(ScheduleSpecError) as error:
        spec_from_words(kind, when, zone, now=NOW)
    assert expected in str(error.value)


def test_a_once_in_the_past_is_refused_when_made_but_read_back_from_json() -> None:
    spec = spec_from_words("once", "2026-12-24 18:00", BERLIN, now=NOW)
    with pytest.raises(ScheduleSpecError, match="is in the past"):
        spec_from_words("once", spec.when, BERLIN, now=utc("2026-12-24T17:00:00"))
    assert ScheduleSpec.from_json(spec.to_json()) == spec  # an exported schedule that already ran


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"timezone": "UTC"}, "is not a schedule"),
        ({"when": "every 30", "timezone": "UTC"}, "needs its anchor"),
        ({"when": "every 30", "anchor": "yesterday"}, "anchor 'yesterday' is not an ISO date-time"),
        ({"when": "every 30", "anchor": "2026-01-01T09:00:00"}, "needs a UTC offset"),
        ({"when": "daily 09:00", "anchor": "2026-01-01T09:00:00Z"}, "only `every` schedules have an anchor"),
    ],
)
def test_bad_json_says_what_is_wrong(data: dict[str, str], expected: str) -> None:
    with pytest.raises(ScheduleSpecError, match=expected):
        ScheduleSpec.from_json(data)


# --- next runs across DST -------------------------------------------------------------------------------


def test_every_counts_elapsed_minutes_across_dst() -> None:
    anchor = utc("2026-03-29T00:00:00")
    assert runs("every", "30", BERLIN, "2026-03-29T00:10:00", 4, anchor) == [
        "03-29 00:30",
        "03-29 01:00",
        "03-29 01:30",
        "03-29 02:00",
    ]
    # local: 01:30 CET, then 03:00 CEST: the skipped hour costs no run and adds none
    assert runs("every", "1440", BERLIN, "2026-10-24T00:00:00", 3, anchor) == [
        "10-24 00:00",
        "10-25 00:00",
        "10-26 00:00",
    ]
    anchor = utc("2027-11-06T05:00:00")
    assert runs("every", "60", NEW_YORK, "2027-11-07T04:30:00", 4, anchor) == [
        "11-07 05:00",
        "11-07 06:00",
        "11-07 07:00",
        "11-07 08:00",
    ]
    # 01:00 EDT, 01:00 EST, 02:00 EST, 03:00 EST: the repeated hour runs twice, as an hour passes twice


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-03-28T00:00:00", ["03-28 08:00", "03-29 07:00", "03-30 07:00"]),
        ("2026-10-24T00:00:00", ["10-24 07:00", "10-25 08:00", "10-26 08:00"]),
        ("2027-03-27T00:00:00", ["03-27 08:00", "03-28 07:00", "03-29 07:00"]),
        ("2027-10-30T00:00:00", ["10-30 07:00", "10-31 08:00", "11-01 08:00"]),
    ],
)
def test_daily_keeps_the_local_time_across_dst(start: str, expected: list[str]) -> None:
    assert runs("daily", "09:00", BERLIN, start, 3) == expected


def test_daily_at_a_skipped_or_repeated_time_runs_once_a_day() -> None:
    # 02:30 does not exist on 29 March: it runs at 03:30 CEST; on 25 October it runs at the first 02:30 only
    assert runs("daily", "02:30", BERLIN, "2026-03-28T00:00:00", 3) == ["03-28 01:30", "03-29 01:30", "03-30 00:30"]
    assert runs("daily", "02:30", BERLIN, "2026-10-24T00:00:00", 3) == ["10-24 00:30", "10-25 00:30", "10-26 01:30"]


@pytest.mark.parametrize(
    ("when", "start", "expected"),
    [
        ("sun 02:30", "2026-03-01T00:00:00", ["03-01 07:30", "03-08 07:30", "03-15 06:30"]),  # 8 March: 03:30 EDT
        ("sun 01:30", "2026-10-25T00:00:00", ["10-25 05:30", "11-01 05:30", "11-08 06:30"]),  # 1 Nov: the first 01:30
        ("sun 02:30", "2027-03-07T00:00:00", ["03-07 07:30", "03-14 07:30", "03-21 06:30"]),
        ("sat,sun 01:30", "2027-11-06T00:00:00", ["11-06 05:30", "11-07 05:30", "11-13 06:30"]),
        ("mon,wed,fri 10:00", "2026-06-01T00:00:00", ["06-01 14:00", "06-03 14:00", "06-05 14:00"]),
    ],
)
def test_weekly_across_dst(when: str, start: str, expected: list[str]) -> None:
    assert runs("weekly", when, NEW_YORK, start, 3) == expected


def test_cron_follows_the_wall_clock_across_dst() -> None:
    # wall times 01:00 01:30 02:00 02:30 03:00 03:30: the skipped 02:xx become 03:xx, which run once
    assert runs("cron", "*/30 1-3 * * *", BERLIN, "2027-03-27T23:30:00", 5) == [
        "03-28 00:00",
        "03-28 00:30",
        "03-28 01:00",
        "03-28 01:30",
        "03-28 23:00",
    ]
    # the repeated 02:00 and 02:30 run at their first occurrence only
    assert runs("cron", "*/30 1-3 * * *", BERLIN, "2027-10-30T22:30:00", 6) == [
        "10-30 23:00",
        "10-30 23:30",
        "10-31 00:00",
        "10-31 00:30",
        "10-31 02:00",
        "10-31 02:30",
    ]
    assert runs("cron", "30 2 * * *", NEW_YORK, "2026-03-07T00:00:00", 3) == [
        "03-07 07:30",
        "03-08 07:30",
        "03-09 06:30",
    ]


@pytest.mark.parametrize(
    ("day", "start", "expected"),
    [
        ("31", "2027-01-01T00:00:00", ["01-31 07:00", "02-28 07:00", "03-31 06:00", "04-30 06:00"]),
        ("31", "2028-01-15T00:00:00", ["01-31 07:00", "02-29 07:00", "03-31 06:00", "04-30 06:00"]),
        ("30", "2027-01-01T00:00:00", ["01-30 07:00", "02-28 07:00", "03-30 06:00", "04-30 06:00"]),
        ("30", "2028-01-31T00:00:00", ["02-29 07:00", "03-30 06:00", "04-30 06:00", "05-30 06:00"]),
        ("29", "2027-01-01T00:00:00", ["01-29 07:00", "02-28 07:00", "03-29 06:00", "04-29 06:00"]),
        ("29", "2028-01-01T00:00:00", ["01-29 07:00", "02-29 07:00", "03-29 06:00", "04-29 06:00"]),
        ("28", "2027-01-01T00:00:00", ["01-28 07:00", "02-28 07:00", "03-28 06:00", "04-28 06:00"]),
    ],
)
def test_monthly_29_30_31_run_on_the_last_day_of_shorter_months(day: str, start: str, expected: list[str]) -> None:
    assert runs("monthly", f"{day} 08:00", BERLIN, start, 4) == expected


def test_monthly_in_new_york_across_the_year() -> None:
    assert runs("monthly", "31 08:00", NEW_YORK, "2026-10-01T00:00:00", 3) == [
        "10-31 12:00",
        "11-30 13:00",
        "12-31 13:00",
    ]


def test_once_runs_once() -> None:
    spec = spec_from_words("once", "2026-12-24 18:00", BERLIN, now=NOW)
    assert next_runs(spec, NOW, 5) == [utc("2026-12-24T17:00:00")]
    assert next_runs(spec, utc("2026-12-24T17:00:01"), 5) == []
    repeated = spec_from_words("once", "2026-11-01 01:30", NEW_YORK, now=NOW)  # the first of the two
    assert next_runs(repeated, NOW, 5) == [utc("2026-11-01T05:30:00")]


# --- properties ------------------------------------------------------------------------------------------


zones = st.sampled_from(["UTC", BERLIN, NEW_YORK, "Australia/Lord_Howe", "Asia/Kolkata"])
clocks = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
moments = st.datetimes(datetime(2026, 1, 1), datetime(2029, 12, 31), timezones=st.just(timezone.utc))
specs = st.one_of(
    st.builds(
        lambda minutes, anchor, zone: spec_from_words("every", str(minutes), zone, anchor=anchor),
        st.integers(1, 10080),
        moments,
        zones,
    ),
    st.builds(lambda at, zone: spec_from_words("daily", at, zone), clocks, zones),
    st.builds(
        lambda days, at, zone: spec_from_words("weekly", f"{','.join(days)} {at}", zone),
        st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True),
        clocks,
        zones,
    ),
    st.builds(lambda day, at, zone: spec_from_words("monthly", f"{day} {at}", zone), st.integers(1, 31), clocks, zones),
    st.builds(
        lambda minute, hours, zone: spec_from_words("cron", f"{minute} */{hours} * * *", zone),
        st.integers(0, 59),
        st.integers(1, 12),
        zones,
    ),
)


@given(specs)
def test_text_and_json_round_trip_exactly(spec: ScheduleSpec) -> None:
    assert ScheduleSpec.from_json(spec.to_json()) == spec
    assert ScheduleSpec.from_json(spec.to_json()).to_json() == spec.to_json()
    assert parse_spec(spec.text, spec.timezone, anchor=spec.anchor) == spec


@given(specs, moments)
def test_next_runs_increase_from_start(spec: ScheduleSpec, start: datetime) -> None:
    found = next_runs(spec, start, 5)
    assert len(found) == 5 and found == sorted(set(found)) and found[0] >= start
    assert found[1:] == next_runs(spec, found[0] + timedelta(seconds=1), 4)
