"""Local file helpers shared by the embedded backends."""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def nearest_existing(path: Path) -> Path:
    """The path itself if it exists, else its closest existing parent folder."""
    current = path.absolute()
    while not current.exists():
        current = current.parent
    return current


def can_write(path: Path) -> bool:
    """Whether path (or, if it does not exist yet, the folder it would be created in) is writable."""
    existing = nearest_existing(path)
    if existing != path.absolute() and not existing.is_dir():
        return False  # a file stands where a folder would have to be created
    return os.access(existing, os.W_OK)


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write via a temporary file and a rename, so readers never see half a file (text as UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content.encode() if isinstance(content, str) else content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class NotARegularFile(OSError):
    """The path is a folder, a FIFO, a device or a socket: reading it would fail or wait forever."""


def read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file; anything else raises NotARegularFile at once.

    The file is opened without blocking, so a FIFO with no writer cannot make the read hang, and the
    check is made on the opened file, so the path cannot be swapped in between.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(f"{path} is {_file_kind(mode)}, not a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            return file.read()
    finally:
        os.close(descriptor)


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


@contextmanager
def sqlite_store(
    path: Path, tables: Sequence[str], failure: Callable[[BaseException], Exception], timeout: float = 5.0
) -> Iterator[sqlite3.Connection]:
    """A connection to one of our small SQLite stores (ledgers, cursors), its tables created when missing.

    A store that cannot be opened raises failure(the OS or SQLite error): each store's own clear error.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=timeout)
        with db:
            for table in tables:
                db.execute(table)
    except (OSError, sqlite3.Error) as error:
        raise failure(error) from None
    try:
        yield db
    finally:
        db.close()
