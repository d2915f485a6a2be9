import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.sheet import ARCHIVE_COLUMNS, POST_COLUMNS
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
    assert [p.status_id for p in book.read_posts()] == [1, 2]
    assert book.read_cursors() == {1: 10, 2: 20}
    assert book.known_status_ids() == {1, 2}


def test_a_failed_append_writes_neither_rows_nor_cursors(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([post(1)], {1: 10})
    with pytest.raises(SheetError):
        book.append_posts([post(2), post(1)], {1: 99})  # post 1 again violates the sheet's unique key
    assert [p.status_id for p in book.read_posts()] == [1]
    assert book.read_cursors() == {1: 10}


def test_update_results_changes_only_result_columns(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    original = post(1)
    book.append_posts([original], {})
    analysed = post(1, project="Nova", summary="A DEX.", content="changed?")
    book.update_results([analysed])
    [stored] = book.read_posts()
    assert stored.ai_project == "Nova" and stored.ai_processed
    assert stored.content == original.content


def test_archive_copy_is_idempotent_then_delete(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    rows = [post(1, summary="s"), post(2, summary="s")]
    book.append_posts(rows, {})
    book.append_archive(rows, NOW)
    book.append_archive(rows, NOW)  # a re-run after a crash between copy and delete
    book.delete_posts([r.post_link for r in rows])
    assert book.read_posts() == []
    assert book.archived_links() == {r.post_link for r in rows}
    assert book.known_status_ids() == {1, 2}  # archived posts still count for dedupe


def test_reading_a_missing_workbook_creates_nothing(tmp_path: Path) -> None:
    book = SqliteWorkbook(tmp_path / "never.sqlite")
    assert book.read_posts() == [] and book.read_cursors() == {}
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
