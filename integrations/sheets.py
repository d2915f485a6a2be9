"""The sheet of posts. Embedded default: a SQLite workbook, one table per worksheet."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.collection import Cursors
from core.models import Post
from core.sheet import (
    ARCHIVE_COLUMNS,
    ARCHIVE_WORKSHEET,
    POST_COLUMNS,
    POSTS_WORKSHEET,
    WORKSHEET_COLUMNS,
    archive_row,
    post_to_row,
    row_to_post,
)
from integrations.errors import SheetError
from integrations.local_files import can_write, nearest_existing

CURSORS_TABLE = "Cursors"
# Columns a run writes back after analysis, drafting and publishing.
RESULT_COLUMNS = ("AI Processed", "AI Project", "AI Summary", "AI Keywords", "Daily Post Draft", "Publication Receipt")


class Sheet(Protocol):
    def describe(self) -> str: ...

    def check(self) -> str:
        """Verify the sheet can be read and written without changing it; return what was found."""
        ...

    def read_posts(self) -> list[Post]: ...

    def read_rows(self, worksheet: str) -> list[dict[str, str]]:
        """Every row of Posts or Archive as text cells keyed by our column names (for exports)."""
        ...

    def known_status_ids(self) -> set[int]:
        """Status ids already in Posts or Archive: the dedupe keys, read once per run."""
        ...

    def archived_links(self) -> set[str]: ...

    def read_cursors(self) -> Cursors: ...

    def append_posts(self, posts: list[Post], cursors: Cursors) -> None:
        """Append rows and move the collection cursors, as one write."""
        ...

    def update_results(self, posts: list[Post]) -> None:
        """Write the result columns of existing rows (matched by Post Link) in one batch."""
        ...

    def append_archive(self, posts: list[Post], processed_at: datetime) -> None: ...

    def delete_posts(self, post_links: list[str]) -> None: ...


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns_sql(columns: tuple[str, ...]) -> str:
    return ", ".join(_quoted(column) for column in columns)


class SqliteWorkbook:
    """Each worksheet is a table whose columns are the sheet's headers, all text, in sheet order."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"SQLite workbook {self.path}"

    def check(self) -> str:
        if not can_write(self.path):
            raise SheetError(f"workbook {self.path} is not writable ({nearest_existing(self.path)}); {_FIX}")
        if not self.path.exists():
            return "will be created on the first run"
        with self._connect(read_only=True) as db:
            counts = {name: _count(db, name) for name in (POSTS_WORKSHEET, ARCHIVE_WORKSHEET)}
        return ", ".join(f"{name}: {count} rows" for name, count in counts.items())

    def read_posts(self) -> list[Post]:
        return [row_to_post(row) for row in self._rows(POSTS_WORKSHEET, POST_COLUMNS)]

    def read_rows(self, worksheet: str) -> list[dict[str, str]]:
        return self._rows(worksheet, WORKSHEET_COLUMNS[worksheet])

    def known_status_ids(self) -> set[int]:
        links = self._column(POSTS_WORKSHEET, "Post Link") + self._column(ARCHIVE_WORKSHEET, "Post Link")
        return {int(link.rsplit("/", 1)[-1]) for link in links}

    def archived_links(self) -> set[str]:
        return set(self._column(ARCHIVE_WORKSHEET, "Post Link"))

    def read_cursors(self) -> Cursors:
        if not self.path.exists():
            return {}
        with self._connect(read_only=True) as db:
            if not _has_table(db, CURSORS_TABLE):
                return {}
            rows = db.execute(f"SELECT channel_id, message_id FROM {CURSORS_TABLE}").fetchall()
        return {int(channel): int(message) for channel, message in rows}

    def append_posts(self, posts: list[Post], cursors: Cursors) -> None:
        with self._write() as db:
            db.executemany(
                f"INSERT INTO {_quoted(POSTS_WORKSHEET)} ({_columns_sql(POST_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(POST_COLUMNS))})",
                [post_to_row(post) for post in posts],
            )
            db.executemany(
                f"INSERT INTO {CURSORS_TABLE} (channel_id, message_id) VALUES (?, ?) "
                "ON CONFLICT(channel_id) DO UPDATE SET message_id = excluded.message_id",
                [(str(channel), str(message)) for channel, message in cursors.items()],
            )

    def update_results(self, posts: list[Post]) -> None:
        assignments = ", ".join(f"{_quoted(column)} = ?" for column in RESULT_COLUMNS)
        indexes = [POST_COLUMNS.index(column) for column in RESULT_COLUMNS]
        rows = []
        for post in posts:
            cells = post_to_row(post)
            rows.append([cells[index] for index in indexes] + [post.post_link])
        with self._write() as db:
            db.executemany(f'UPDATE {_quoted(POSTS_WORKSHEET)} SET {assignments} WHERE "Post Link" = ?', rows)

    def append_archive(self, posts: list[Post], processed_at: datetime) -> None:
        with self._write() as db:
            db.executemany(
                f"INSERT OR IGNORE INTO {_quoted(ARCHIVE_WORKSHEET)} ({_columns_sql(ARCHIVE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(ARCHIVE_COLUMNS))})",
                [archive_row(post, processed_at) for post in posts],
            )

    def delete_posts(self, post_links: list[str]) -> None:
        with self._write() as db:
            db.executemany(
                f'DELETE FROM {_quoted(POSTS_WORKSHEET)} WHERE "Post Link" = ?',
                [(link,) for link in post_links],
            )

    def _rows(self, table: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        with self._connect(read_only=True) as db:
            if not _has_table(db, table):
                return []
            cursor = db.execute(f"SELECT {_columns_sql(columns)} FROM {_quoted(table)} ORDER BY rowid")
            return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def _column(self, table: str, column: str) -> list[str]:
        return [row[column] for row in self._rows(table, (column,))]

    @contextmanager
    def _connect(self, read_only: bool) -> Iterator[sqlite3.Connection]:
        try:
            if read_only:
                db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path)
        except (OSError, sqlite3.Error) as error:
            raise SheetError(f"cannot open workbook {self.path} ({error}); {_FIX}") from None
        try:
            yield db
        except sqlite3.DatabaseError as error:
            raise SheetError(f"workbook {self.path} failed: {error}; {_FIX}") from None
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: either every row of the batch lands or none does."""
        with self._connect(read_only=False) as db:
            with db:
                _ensure_tables(db)
                yield db


_FIX = "set GUILDFLOW_WORKBOOK to a writable SQLite file (it is created if missing)"


def _ensure_tables(db: sqlite3.Connection) -> None:
    db.execute(
        f'CREATE TABLE IF NOT EXISTS {_quoted(POSTS_WORKSHEET)} ({_columns_sql(POST_COLUMNS)}, UNIQUE("Post Link"))'
    )
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {_quoted(ARCHIVE_WORKSHEET)} "
        f'({_columns_sql(ARCHIVE_COLUMNS)}, UNIQUE("Post Link"))'
    )
    db.execute(f"CREATE TABLE IF NOT EXISTS {CURSORS_TABLE} (channel_id TEXT PRIMARY KEY, message_id TEXT)")


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _count(db: sqlite3.Connection, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {_quoted(table)}").fetchone()[0] if _has_table(db, table) else 0
