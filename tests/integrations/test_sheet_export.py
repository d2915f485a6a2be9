from pathlib import Path

import pandas as pd
import pytest

from core.sheet import ARCHIVE_COLUMNS, POST_COLUMNS
from integrations.errors import SheetError
from integrations.sheet_export import export_worksheet
from integrations.sheets import SqliteWorkbook
from tests.core.factories import T0, post


@pytest.fixture
def workbook(tmp_path: Path) -> SqliteWorkbook:
    book = SqliteWorkbook(tmp_path / "w.sqlite")
    book.append_posts([post(1, summary="s"), post(2), post(2123415583850462197, message_id=1234567890123456789)], {})
    book.append_archive([post(1, summary="s")], T0)
    return book


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_posts_round_trip_through_pandas(workbook: SqliteWorkbook, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"posts{suffix}"
    assert export_worksheet(workbook, "Posts", path).rows == 3
    frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(frame.columns) == list(POST_COLUMNS)
    assert frame["Message ID"].tolist()[-1] == 1234567890123456789  # snowflakes keep every digit
    assert frame["AI Processed"].tolist() == [True, False, False]


def test_archive_keeps_date_processed(workbook: SqliteWorkbook, tmp_path: Path) -> None:
    assert export_worksheet(workbook, "Archive", tmp_path / "archive.parquet").rows == 1
    frame = pd.read_parquet(tmp_path / "archive.parquet")
    assert list(frame.columns) == list(ARCHIVE_COLUMNS)
    assert frame["Date Processed"].tolist() == ["2026-11-20 12:00:00"]


def test_bad_requests_are_clear(workbook: SqliteWorkbook, tmp_path: Path) -> None:
    with pytest.raises(SheetError, match="must end in .csv or .parquet"):
        export_worksheet(workbook, "Posts", tmp_path / "posts.xlsx")
    with pytest.raises(SheetError, match="unknown worksheet 'Drafts'"):
        export_worksheet(workbook, "Drafts", tmp_path / "d.csv")
    assert not (tmp_path / "posts.xlsx").exists()


def test_an_id_cell_edited_by_hand_keeps_its_column_as_text(workbook: SqliteWorkbook, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(workbook.path) as db:
        db.execute("UPDATE Posts SET \"Message ID\" = 'see sheet' WHERE rowid = 2")
    exported = export_worksheet(workbook, "Posts", tmp_path / "posts.parquet")
    assert exported.rows == 3
    assert exported.notes == ["Message ID is exported as text: data row 2 holds 'see sheet', not a whole number"]
    frame = pd.read_parquet(tmp_path / "posts.parquet")
    assert frame["Message ID"].tolist()[1] == "see sheet"
    assert frame["Channel ID"].dtype == "Int64"
