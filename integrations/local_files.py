"""Local file helpers shared by the embedded backends."""

from __future__ import annotations

import os
import tempfile
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
