"""The delivery ledger: every part of a message delivered, per run and destination, recorded the moment it is out,
so a retried task or a re-run of the same run delivers only what is missing (a SQLite file, like the publish
ledger; every worker that delivers for the same runs must see the same file)."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path

from integrations.delivery import DeliveryError
from integrations.local_files import can_write, sqlite_store

_FIX = "set GUILDFLOW_DELIVERY_LEDGER to a writable file path"
_TABLES = (
    (
        "CREATE TABLE IF NOT EXISTS parts (run_key TEXT NOT NULL, destination_key TEXT NOT NULL, digest "
        "TEXT NOT NULL, part INTEGER NOT NULL, part_id TEXT NOT NULL, delivered_at TEXT NOT NULL, PRIMARY "
        "KEY (run_key, destination_key, digest, part))"
    ),
)


class DeliveryLedger:
    """SQLite table of delivered parts, keyed by (run key, destination key, message digest, part)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"SQLite delivery ledger {self.path}"

    def check(self) -> str:
        if not can_write(self.path):
            raise DeliveryError(f"delivery ledger {self.path} is not writable; {_FIX}")
        return "writable"

    def progress(self, run_key: str, destination_key: str, digest: str) -> LedgerProgress:
        """The record of one message's delivery to one destination in one run."""
        return LedgerProgress(self, run_key, destination_key, digest)

    def _parts(self, key: tuple[str, str, str]) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT part_id FROM parts WHERE run_key = ? AND destination_key = ? AND digest = ? ORDER BY part",
                key,
            ).fetchall()
        return [row[0] for row in rows]

    def _record(self, key: tuple[str, str, str], index: int, part_id: str) -> None:
        with self._connect() as db, db:
            db.execute(
                "INSERT OR REPLACE INTO parts (run_key, destination_key, digest, part, part_id, delivered_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (*key, index, part_id, datetime.now(timezone.utc).isoformat()),
            )

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite_store(
            self.path,
            _TABLES,
            lambda error: DeliveryError(f"cannot open delivery ledger {self.path} ({error}); {_FIX}"),
            timeout=30,
        )


class LedgerProgress:
    """integrations.delivery.DeliveryProgress kept in the ledger."""

    def __init__(self, ledger: DeliveryLedger, run_key: str, destination_key: str, digest: str) -> None:
        self._ledger = ledger
        self._key = (run_key, destination_key, digest)

    def delivered_parts(self) -> list[str]:
        return self._ledger._parts(self._key)

    def record_part(self, index: int, part_id: str) -> None:
        self._ledger._record(self._key, index, part_id)

    def part_key(self, index: int) -> str:
        # 20 hex characters: within Discord's 25 for a nonce; 80 bits never collide in practice.
        return hashlib.sha256("\0".join((*self._key, str(index))).encode()).hexdigest()[:20]
