from datetime import datetime, timezone

import pytest

from core.sheet import ARCHIVE_COLUMNS, POST_COLUMNS, archive_row, post_to_row, row_to_post
from tests.core.factories import post


def test_columns_are_in_the_documented_order() -> None:
    assert POST_COLUMNS[:9] == (
        "Message ID",
        "Channel ID",
        "Date",
        "Time",
        "Author",
        "Author Link",
        "Content",
        "Post Link",
        "X Handle",
    )
    assert POST_COLUMNS[9:] == (
        "AI Processed",
        "AI Project",
        "AI Summary",
        "AI Keywords",
        "Daily Post Draft",
        "Publication Receipt",
    )
    assert ARCHIVE_COLUMNS == (*POST_COLUMNS, "Date Processed")


def test_row_round_trip_in_utc() -> None:
    original = post(7, project="Nova", summary="A DEX.", ai_keywords="dex, base", publication_receipt="outbox:x.json")
    row = post_to_row(original)
    assert row[2:4] == ["2026-11-20", "12:00:00"]
    assert row[9] == "TRUE"
    assert row_to_post(dict(zip(POST_COLUMNS, row))) == original


def test_archive_row_adds_processing_time_in_utc() -> None:
    processed = datetime(2026, 11, 21, 21, 30, tzinfo=timezone.utc)
    assert archive_row(post(1), processed)[-1] == "2026-11-21 21:30:00"


def test_malformed_row_names_the_post() -> None:
    row = dict(zip(POST_COLUMNS, post_to_row(post(9))))
    row["Message ID"] = "not-a-number"
    with pytest.raises(ValueError, match="https://x.com/h9/status/9"):
        row_to_post(row)
