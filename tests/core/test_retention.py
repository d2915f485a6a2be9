"""What cleanup may delete, decided without I/O: old message files of a file destination, expired cache records."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from core.delivery import message_files_older_than
from core.retention import CleanupReport, RetentionError, expired_cache_record, validated_retention_days

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def test_only_message_files_before_the_cutoff_are_old() -> None:
    names = [
        "2026-10-01T08-00-00Z-weekly-summary-0123abcd.md",
        "2026-10-01T08-00-00Z-weekly-summary-0123abcd.chart.png",
        "2026-11-30T08-00-00Z-weekly-summary-89abcdef.md",
        "notes.txt",
        "2026-10-01-not-ours.md",
    ]
    assert message_files_older_than(names, NOW - timedelta(days=30)) == names[:2][::-1]
    assert message_files_older_than(names, NOW - timedelta(days=365)) == []


@pytest.mark.parametrize(
    ("record", "expired"),
    [
        ({"metadata": {"expiration": (NOW - timedelta(seconds=1)).isoformat()}}, True),
        ({"metadata": {"expiration": "2026-12-01T11:00:00Z"}}, True),
        ({"metadata": {"expiration": (NOW + timedelta(days=1)).isoformat()}}, False),
        ({"metadata": {"expiration": None}}, False),
        ({"metadata": {"expiration": "2026-12-01T11:00:00"}}, False),  # no offset: not ours to judge
        ({"result": "x"}, False),
        ([1, 2], False),
    ],
)
def test_cache_records_expire_only_with_an_expiration_in_the_past(record: object, expired: bool) -> None:
    assert expired_cache_record(json.dumps(record).encode(), NOW) is expired


def test_a_file_that_is_not_json_is_never_expired() -> None:
    assert not expired_cache_record(b"\x80\x04pickle", NOW)


def test_retention_is_checked_and_the_report_counts_by_kind() -> None:
    with pytest.raises(RetentionError, match="from 1 to 3650"):
        validated_retention_days(0)
    report = CleanupReport(dry_run=True, retention_days=30)
    report.add("summary files", ["a", "b"])
    report.add("flow runs", [])
    assert report.summary() == "cleanup (older than 30 days) would delete: 2 summary files, 0 flow runs"
    assert "## summary files (2)" in report.to_markdown()
