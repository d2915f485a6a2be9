import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.archive import plan_archive
from core.sheet import ARCHIVE_COLUMNS, POST_COLUMNS, SkippedRow
from integrations.errors import SheetError
from integrations.sheets import SqliteWorkbook
from tests.core.factories import post

NOW = datetime(2026, 11, 21, 20, 0, tzinfo=timezone.utc)


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]


def test_tables_have_the_sheet_columns_in_order(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([post(1)], {1: 10})
    assert columns(book.path, "Posts") == list(POST_COLUMNS)
    assert columns(book.path, "Archive") == list(ARCHIVE_COLUMNS)


def test_append_reads_back_with_cursors_and_keys(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([post(1), post(2)], {1: 10, 2: 20})
    assert [p.status_id for p in book.read_posts().posts] == [1, 2]
    assert book.read_cursors() == {1: 10, 2: 20}
    assert book.known_status_ids().ids == {1, 2}


def test_a_failed_append_writes_neither_rows_nor_cursors(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([post(1)], {1: 10})
    with pytest.raises(SheetError):
        book.append_posts([post(2), post(1)], {1: 99})  # post 1 again violates the sheet's unique key
    assert [p.status_id for p in book.read_posts().posts] == [1]
    assert book.read_cursors() == {1: 10}


def test_update_results_changes_only_result_columns(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    original = post(1)
    book.append_posts([original], {})
    analysed = post(1, project="Nova", summary="A DEX.", content="changed?")
    book.update_results([analysed])
    [stored] = book.read_posts().posts
    assert stored.ai_project == "Nova" and stored.ai_processed
    assert stored.content == original.content


def test_archive_copy_is_idempotent_then_delete(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    rows = [post(1, summary="s"), post(2, summary="s")]
    book.append_posts(rows, {})
    book.append_archive(rows, NOW)
    book.append_archive(rows, NOW)  # a re-run after a crash between copy and delete
    book.delete_posts([r.post_link for r in rows])
    assert book.read_posts().posts == []
    assert book.archived_links() == {r.post_link for r in rows}
    assert book.known_status_ids().ids == {1, 2}  # archived posts still count for dedupe


def test_reading_a_missing_workbook_creates_nothing(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "never.sqlite")
    assert book.read_posts().posts == [] and book.read_cursors() == {}
    assert "created on the first run" in book.check()
    assert not book.path.exists()


def test_check_reports_rows_without_writing(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([post(1)], {})
    before = book.path.stat().st_mtime_ns
    assert book.check() == "Posts: 1 rows, Archive: 0 rows"
    assert book.path.stat().st_mtime_ns == before


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    blocker = locked / "file"
    blocker.write_text("")
    book = SqliteWorkbook(blocker / "w.sqlite")  # a "folder" that is a file
    with pytest.raises(SheetError, match="GUILDFLOW_WORKBOOK"):
        book.append_posts([post(1)], {})


def test_a_file_that_is_not_a_workbook_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    path.write_text("this is not sqlite" * 100)
    with pytest.raises(SheetError, match="w.sqlite.*GUILDFLOW_WORKBOOK"):
        SqliteWorkbook(path).read_posts()


def edit(path: Path, sql: str, *parameters: object) -> None:
    """A change made by hand, outside guildflow (a database browser, the sqlite3 shell)."""
    with sqlite3.connect(path) as db:
        db.execute(sql, parameters)


def test_a_row_edited_by_hand_is_skipped_and_named_and_the_rest_is_read(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([post(1), post(2), post(3)], {})
    edit(book.path, 'UPDATE "Posts" SET "Post Link" = ? WHERE rowid = 2', "see sheet")
    edit(book.path, 'UPDATE "Posts" SET "Message ID" = 17, "Date" = NULL WHERE rowid = 3')  # typed, not text

    read = book.read_posts()
    assert [p.status_id for p in read.posts] == [1]
    assert read.skipped == [
        SkippedRow(
            "Posts", 2, "Post Link", "see sheet", "is not an X status link such as https://x.com/<handle>/status/<id>"
        ),
        SkippedRow("Posts", 3, "Date", "", "is not a date such as 2026-11-20 (year-month-day)"),
    ]
    assert "Posts row 2: Post Link 'see sheet' is not an X status link" in read.skipped[0].describe()
    keys = book.known_status_ids()
    assert keys.ids == {1, 3} and [(row.row, row.value) for row in keys.skipped] == [(2, "see sheet")]


def test_a_skipped_row_is_never_archived_deleted_or_rewritten(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([post(1, summary="done"), post(2, summary="done")], {})
    edit(book.path, 'UPDATE "Posts" SET "Time" = ? WHERE rowid = 2', "noon")
    before = book.read_rows("Posts")[1]
    plan = plan_archive(book.read_posts().posts, book.archived_links())
    book.update_results([replace(p, ai_summary="again") for p in book.read_posts().posts])
    book.append_archive(plan.copy, NOW)
    book.delete_posts(plan.delete)
    assert book.read_rows("Posts") == [before]
    assert book.archived_links() == {post(1).post_link}


def test_a_cursor_edited_by_hand_is_a_clear_error(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([], {5: 10})
    edit(book.path, "UPDATE Cursors SET message_id = 'later' WHERE channel_id = '5'")
    with pytest.raises(SheetError, match="Cursors row 1 is not a channel id and a message id: fix or delete"):
        book.read_cursors()


def test_a_table_missing_columns_names_them_and_the_fix_and_nothing_is_created(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    edit(path, 'CREATE TABLE "Posts" ("Message ID", "Post Link", "Notes")')
    book = SqliteWorkbook(path)
    for attempt in (book.read_posts, lambda: book.append_posts([post(1)], {1: 10}), book.check):
        with pytest.raises(SheetError) as failure:
            attempt()
        message = str(failure.value)
        assert f"workbook {path}: table Posts lacks the column(s) Channel ID, Date, Time" in message
        assert """'ALTER TABLE "Posts" ADD COLUMN "Channel ID"; ALTER TABLE "Posts" ADD COLUMN "Date";""" in message
        assert "GUILDFLOW_WORKBOOK" in message
    assert columns(path, "Archive") == [] and columns(path, "Cursors") == []
    assert columns(path, "Posts") == ["Message ID", "Post Link", "Notes"]


def test_the_fix_for_missing_columns_works(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite"
    edit(path, 'CREATE TABLE "Posts" ("Message ID", "Post Link", "Notes")')
    with pytest.raises(SheetError) as failure:
        SqliteWorkbook(path).read_posts()
    statements = str(failure.value).split(f"sqlite3 {path} '")[1].split("')")[0]
    with sqlite3.connect(path) as db:
        db.executescript(statements)
    book = SqliteWorkbook(path)
    book.append_posts([post(1)], {1: 10})
    assert [p.status_id for p in book.read_posts().posts] == [1]


@contextmanager
def held_by_another_program(path: Path) -> Iterator[sqlite3.Connection]:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield holder
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def test_a_locked_workbook_is_retried_then_named_as_locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("integrations.sheets.time.sleep", waits.append)
    book = SqliteWorkbook(tmp_path / "w.sqlite", busy_timeout=0, retry_delays=(1, 2))
    book.append_posts([post(1)], {1: 10})
    with held_by_another_program(book.path):
        for attempt in (book.read_posts, lambda: book.append_posts([post(2)], {1: 20})):
            with pytest.raises(
                SheetError, match="w.sqlite is locked by another program.*close what holds it"
            ) as failure:
                attempt()
            assert failure.value.transient  # the task's own retries try again later
            assert "GUILDFLOW_WORKBOOK" not in str(failure.value)
    assert waits == [1, 2, 1, 2]
    assert [p.status_id for p in book.read_posts().posts] == [1] and book.read_cursors() == {1: 10}


def test_a_lock_released_while_waiting_lets_the_write_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite", busy_timeout=0, retry_delays=(1, 2))
    book.append_posts([post(1)], {})
    with held_by_another_program(book.path) as holder:
        monkeypatch.setattr("integrations.sheets.time.sleep", lambda seconds: holder.execute("ROLLBACK"))
        book.append_posts([post(2)], {1: 20})
    assert [p.status_id for p in book.read_posts().posts] == [1, 2] and book.read_cursors() == {1: 20}
