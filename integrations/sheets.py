"""The sheet of posts. Embedded default: a SQLite workbook, one table per worksheet."""

from __future__ import annotations

import shlex
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

from core.collection import Cursors
from core.models import Post
from core.sheet import (
    ARCHIVE_COLUMNS,
    ARCHIVE_WORKSHEET,
    POST_COLUMNS,
    POST_LINK,
    POSTS_WORKSHEET,
    WORKSHEET_COLUMNS,
    KnownStatusIds,
    PostsRead,
    archive_row,
    post_to_row,
    posts_from_rows,
    status_ids_in_key_cells,
)
from integrations.errors import SheetError
from integrations.local_files import can_write, nearest_existing

CURSORS_TABLE = "Cursors"
CURSORS_TABLE_COLUMNS: tuple[str, ...] = ("channel_id", "message_id")
NumberedRows = list[tuple[int, dict[str, str]]]  # (row number, cells by column)
# Columns a run writes back after analysis, drafting and publishing.
RESULT_COLUMNS = ("AI Processed", "AI Project", "AI Summary", "AI Keywords", "Daily Post Draft", "Publication Receipt")
# When another program holds the workbook: SQLite itself waits BUSY_TIMEOUT seconds per attempt, and the
# attempt is repeated after each of LOCK_RETRY_DELAYS.
BUSY_TIMEOUT = 5.0
LOCK_RETRY_DELAYS: tuple[float, ...] = (1, 2, 4)

T = TypeVar("T")


class Sheet(Protocol):
    def describe(self) -> str: ...

    def check(self) -> str:
        """Verify the sheet can be read and written without changing it; return what was found."""
        ...

    def read_posts(self) -> PostsRead:
        """The readable rows of Posts; a row with a cell that cannot be read is skipped and named, never changed."""
        ...

    def read_rows(self, worksheet: str) -> list[dict[str, str]]:
        """Every row of Posts or Archive as text cells keyed by our column names (for exports)."""
        ...

    def known_status_ids(self) -> KnownStatusIds:
        """Status ids already in Posts or Archive: the dedupe keys, read once per run (bad key cells named)."""
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
    """Each worksheet is a table whose columns are the sheet's headers, all text, in sheet order.

    A row's number in messages is its rowid (`SELECT rowid, * FROM "Posts"`)."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float = BUSY_TIMEOUT,
        retry_delays: Sequence[float] = LOCK_RETRY_DELAYS,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.retry_delays = tuple(retry_delays)

    def describe(self) -> str:
        return f"SQLite workbook {self.path}"

    def check(self) -> str:
        if not can_write(self.path):
            raise SheetError(f"workbook {self.path} is not writable ({nearest_existing(self.path)}); {_FIX}")
        if not self.path.exists():
            return "will be created on the first run"
        nothing: dict[str, int] = {}
        counts = self._read(
            lambda db: {name: _count(db, name) for name in (POSTS_WORKSHEET, ARCHIVE_WORKSHEET)}, nothing
        )
        return ", ".join(f"{name}: {count} rows" for name, count in counts.items())

    def read_posts(self) -> PostsRead:
        rows = self._read(lambda db: _numbered_rows(db, POSTS_WORKSHEET, POST_COLUMNS), NumberedRows())
        return posts_from_rows(POSTS_WORKSHEET, rows)

    def read_rows(self, worksheet: str) -> list[dict[str, str]]:
        rows = self._read(lambda db: _numbered_rows(db, worksheet, WORKSHEET_COLUMNS[worksheet]), NumberedRows())
        return [cells for _, cells in rows]

    def known_status_ids(self) -> KnownStatusIds:
        def key_cells(db: sqlite3.Connection) -> dict[str, list[tuple[int, str]]]:
            return {
                title: [(number, cells[POST_LINK]) for number, cells in _numbered_rows(db, title, (POST_LINK,))]
                for title in (POSTS_WORKSHEET, ARCHIVE_WORKSHEET)
            }

        return status_ids_in_key_cells(self._read(key_cells, {}))

    def archived_links(self) -> set[str]:
        rows = self._read(lambda db: _numbered_rows(db, ARCHIVE_WORKSHEET, (POST_LINK,)), NumberedRows())
        return {cells[POST_LINK] for _, cells in rows}

    def read_cursors(self) -> Cursors:
        rows = self._read(lambda db: _numbered_rows(db, CURSORS_TABLE, CURSORS_TABLE_COLUMNS), NumberedRows())
        cursors = {}
        for number, cells in rows:
            channel, message = cells["channel_id"], cells["message_id"]
            if not (channel.isascii() and channel.isdigit() and message.isascii() and message.isdigit()):
                raise SheetError(
                    f"workbook {self.path}: {CURSORS_TABLE} row {number} is not a channel id and a message id: "
                    "fix or delete that row (collection then starts over for that channel; known posts are skipped)"
                )
            cursors[int(channel)] = int(message)
        return cursors

    def append_posts(self, posts: list[Post], cursors: Cursors) -> None:
        def append(db: sqlite3.Connection) -> None:
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

        self._write(append)

    def update_results(self, posts: list[Post]) -> None:
        assignments = ", ".join(f"{_quoted(column)} = ?" for column in RESULT_COLUMNS)
        indexes = [POST_COLUMNS.index(column) for column in RESULT_COLUMNS]
        rows = []
        for post in posts:
            cells = post_to_row(post)
            rows.append([cells[index] for index in indexes] + [post.post_link])
        self._write(
            lambda db: db.executemany(
                f'UPDATE {_quoted(POSTS_WORKSHEET)} SET {assignments} WHERE "Post Link" = ?', rows
            )
        )

    def append_archive(self, posts: list[Post], processed_at: datetime) -> None:
        self._write(
            lambda db: db.executemany(
                f"INSERT OR IGNORE INTO {_quoted(ARCHIVE_WORKSHEET)} ({_columns_sql(ARCHIVE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(ARCHIVE_COLUMNS))})",
                [archive_row(post, processed_at) for post in posts],
            )
        )

    def delete_posts(self, post_links: list[str]) -> None:
        self._write(
            lambda db: db.executemany(
                f'DELETE FROM {_quoted(POSTS_WORKSHEET)} WHERE "Post Link" = ?', [(link,) for link in post_links]
            )
        )

    def _read(self, work: Callable[[sqlite3.Connection], T], when_missing: T) -> T:
        """`work` on a read-only connection; `when_missing` if the workbook does not exist (reading creates nothing)."""
        if not self.path.exists():
            return when_missing

        def checked(db: sqlite3.Connection) -> T:
            _require_columns(db, self.path)
            return work(db)

        return self._retrying(checked, read_only=True)

    def _write(self, work: Callable[[sqlite3.Connection], object]) -> None:
        """One transaction: either every row of the batch lands or none does. The tables are checked before
        anything is written and created inside the same transaction, so a failed write changes nothing."""

        def transaction(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")  # the write lock first: the check below sees what is written
            try:
                _require_columns(db, self.path)
                _ensure_tables(db)
                work(db)
            except BaseException:
                if db.in_transaction:  # some errors (a full disk) have already rolled it back
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        self._retrying(transaction, read_only=False)

    def _retrying(self, work: Callable[[sqlite3.Connection], T], read_only: bool) -> T:
        """`work` on a fresh connection; while another program holds the workbook, again after each retry delay."""
        for delay in self.retry_delays:
            try:
                return self._once(work, read_only)
            except _Locked:
                time.sleep(delay)
        try:
            return self._once(work, read_only)
        except _Locked:
            waited = sum(self.retry_delays) + self.busy_timeout * (len(self.retry_delays) + 1)
            raise SheetError(
                f"workbook {self.path} is locked by another program (still after {waited:.0f} s): close what "
                "holds it (a database browser with unsaved changes, another guildflow run), then retry",
                transient=True,
            ) from None

    def _once(self, work: Callable[[sqlite3.Connection], T], read_only: bool) -> T:
        try:
            if read_only:
                uri = f"{self.path.absolute().as_uri()}?mode=ro"
                db = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise SheetError(f"cannot open workbook {self.path} ({error}); {_FIX}") from None
        try:
            return work(db)
        except sqlite3.DatabaseError as error:
            if _sqlite_code(error) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise _Locked from None
            raise self._failure(error) from None
        finally:
            db.close()

    def _failure(self, error: sqlite3.DatabaseError) -> SheetError:
        code = _sqlite_code(error)
        if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            return SheetError(f"workbook {self.path} is not a SQLite database, or it is damaged ({error}); {_FIX}")
        if code == sqlite3.SQLITE_READONLY:
            return SheetError(f"workbook {self.path} is read-only ({error}): make it writable, or {_FIX}")
        if code == sqlite3.SQLITE_CANTOPEN:
            return SheetError(f"cannot open workbook {self.path} ({error}); {_FIX}")
        return SheetError(f"workbook {self.path} failed: {error}")


class _Locked(Exception):
    """Another connection holds the lock the attempt needed (SQLITE_BUSY after the busy timeout)."""


_FIX = "set GUILDFLOW_WORKBOOK to a writable SQLite file (it is created if missing)"
_TABLE_COLUMNS = {
    POSTS_WORKSHEET: POST_COLUMNS,
    ARCHIVE_WORKSHEET: ARCHIVE_COLUMNS,
    CURSORS_TABLE: CURSORS_TABLE_COLUMNS,
}


def _sqlite_code(error: sqlite3.Error) -> int:
    """The primary SQLite result code (extended codes such as SQLITE_BUSY_SNAPSHOT carry it in the low byte)."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF


def _require_columns(db: sqlite3.Connection, path: Path) -> None:
    """Every table the workbook has must have our columns (others may be added); names the fix otherwise."""
    for table, columns in _TABLE_COLUMNS.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({_quoted(table)})")}
        missing = [column for column in columns if present and column not in present]
        if missing:
            statements = "; ".join(f"ALTER TABLE {_quoted(table)} ADD COLUMN {_quoted(column)}" for column in missing)
            raise SheetError(
                f"workbook {path}: table {table} lacks the column(s) {', '.join(missing)}, so nothing was read or "
                f"written: add them (sqlite3 {shlex.quote(str(path))} {shlex.quote(statements)}), or set "
                "GUILDFLOW_WORKBOOK to a new file"
            )


def _ensure_tables(db: sqlite3.Connection) -> None:
    db.execute(
        f'CREATE TABLE IF NOT EXISTS {_quoted(POSTS_WORKSHEET)} ({_columns_sql(POST_COLUMNS)}, UNIQUE("Post Link"))'
    )
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {_quoted(ARCHIVE_WORKSHEET)} "
        f'({_columns_sql(ARCHIVE_COLUMNS)}, UNIQUE("Post Link"))'
    )
    db.execute(f"CREATE TABLE IF NOT EXISTS {CURSORS_TABLE} (channel_id TEXT PRIMARY KEY, message_id TEXT)")


def _numbered_rows(db: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> NumberedRows:
    """(rowid, cells as text) of each row, in sheet order; cells typed otherwise by hand (numbers, NULL) as text."""
    if not _has_table(db, table):
        return []
    cursor = db.execute(f"SELECT rowid, {_columns_sql(columns)} FROM {_quoted(table)} ORDER BY rowid")
    return [
        (row[0], {name: "" if value is None else str(value) for name, value in zip(columns, row[1:])}) for row in cursor
    ]


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _count(db: sqlite3.Connection, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {_quoted(table)}").fetchone()[0] if _has_table(db, table) else 0
