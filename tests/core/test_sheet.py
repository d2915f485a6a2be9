from datetime import datetime, timezone

import pytest

from core.sheet import (
    ARCHIVE_COLUMNS,
    POST_COLUMNS,
    UnreadableCell,
    archive_row,
    post_to_row,
    posts_from_rows,
    row_to_post,
    status_ids_in_key_cells,
)
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


def cells(**changes: str) -> dict[str, str]:
    return {**dict(zip(POST_COLUMNS, post_to_row(post(9)))), **changes}


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("Post Link", "see sheet", "is not an X status link such as https://x.com/<handle>/status/<id>"),
        ("Post Link", "", "is not an X status link"),
        (
            "Post Link",
            "https://twitter.com/h9/status/9?s=20",
            "is not in the form guildflow writes: make it https://x.com/h9/status/9",
        ),
        ("Message ID", "not-a-number", "is not a Discord id"),
        ("Message ID", "-3", "is not a Discord id"),
        ("Message ID", "1.2e+18", "is not a Discord id"),
        ("Channel ID", "", "is not a Discord id"),
        ("Date", "yesterday", "is not a date such as 2026-11-20"),
        ("Date", "20/11/2026", "is not a date"),
        ("Time", "noon", "is not a time such as 20:05:00"),
    ],
)
def test_an_unreadable_cell_is_named_with_its_value(column: str, value: str, problem: str) -> None:
    with pytest.raises(UnreadableCell) as raised:
        row_to_post(cells(**{column: value}))
    assert (raised.value.column, raised.value.value) == (column, value)
    assert raised.value.problem.startswith(problem)


def test_free_text_and_result_cells_never_make_a_row_unreadable() -> None:
    edited = cells(Author="", Content="", **{"X Handle": "?!", "AI Processed": "yes", "AI Project": "|"})
    assert row_to_post(edited).status_id == 9


def test_posts_from_rows_keeps_the_readable_and_names_the_rest() -> None:
    rows = [(2, cells()), (3, cells(**{"Post Link": "see sheet"})), (5, cells(Time="25:00:00"))]
    read = posts_from_rows("Posts", rows)
    assert [p.status_id for p in read.posts] == [9]
    assert [(row.worksheet, row.row, row.column, row.value) for row in read.skipped] == [
        ("Posts", 3, "Post Link", "see sheet"),
        ("Posts", 5, "Time", "25:00:00"),
    ]
    assert read.skipped[0].describe() == (
        "Posts row 3: Post Link 'see sheet' is not an X status link such as https://x.com/<handle>/status/<id>; "
        "fix or clear that row"
    )


def test_a_long_value_is_shortened_in_the_description() -> None:
    [skipped] = posts_from_rows("Posts", [(2, cells(Date="x" * 500))]).skipped
    assert skipped.value == "x" * 500 and len(skipped.describe()) < 200


def test_status_ids_count_any_status_link_and_name_the_cells_that_are_none() -> None:
    known = status_ids_in_key_cells(
        {
            "Posts": [(2, "https://x.com/a/status/1"), (3, "see sheet"), (4, "  ")],
            "Archive": [(2, "https://twitter.com/b/status/2?s=20"), (7, "n/a")],
        }
    )
    assert known.ids == {1, 2}
    assert [(row.worksheet, row.row, row.value) for row in known.skipped] == [
        ("Posts", 3, "see sheet"),
        ("Archive", 7, "n/a"),
    ]
