"""The publish ledger: what was published, so nothing is published twice."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from core.draft import Draft
from integrations.errors import PublishError
from integrations.local_files import can_write

_FIX = "set GUILDFLOW_LEDGER to a writable file path"


class PublishLedger:
    """SQLite tables of drafts (begun, then published with a receipt), their published parts, and the
    post links each published draft covered."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"SQLite ledger {self.path}"

    def check(self) -> str:
        if not can_write(self.path):
            raise PublishError(f"publish ledger {self.path} is not writable; {_FIX}")
        return "writable"

    def receipt_for(self, draft: Draft) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT receipt FROM drafts WHERE draft_id = ?", (draft.id,)).fetchone()
        return row[0] if row else None

    def begin(self, draft: Draft) -> None:
        """Note a draft before any of it goes out, so a run that stops half-way is finished first."""
        with self._connect() as db, db:
            db.execute(
                "INSERT OR IGNORE INTO drafts (draft_id, tweets, post_links, started_at) VALUES (?, ?, ?, ?)",
                (draft.id, json.dumps(draft.tweets), json.dumps(draft.post_links), _now()),
            )

    def unfinished_draft(self) -> Draft | None:
        """The oldest draft begun and not yet published, if any."""
        with self._connect() as db:
            row = db.execute(
                "SELECT draft_id, tweets, post_links FROM drafts WHERE receipt IS NULL ORDER BY started_at LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        return Draft(id=row[0], tweets=tuple(json.loads(row[1])), post_links=tuple(json.loads(row[2])))

    def receipts_for_links(self, post_links: list[str]) -> dict[str, str]:
        """Receipts of links already published in an earlier draft."""
        with self._connect() as db:
            rows = db.execute("SELECT post_link, receipt FROM published_links").fetchall()
        wanted = set(post_links)
        return {link: receipt for link, receipt in rows if link in wanted}

    def record(self, draft: Draft, receipt: str) -> None:
        with self._connect() as db, db:
            db.execute(
                "INSERT INTO drafts (draft_id, tweets, post_links, started_at, receipt, published_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(draft_id) DO UPDATE SET "
                "receipt = excluded.receipt, published_at = excluded.published_at",
                (draft.id, json.dumps(draft.tweets), json.dumps(draft.post_links), _now(), receipt, _now()),
            )
            db.executemany(
                "INSERT OR IGNORE INTO published_links (post_link, draft_id, receipt) VALUES (?, ?, ?)",
                [(link, draft.id, receipt) for link in draft.post_links],
            )

    def progress_for(self, draft: Draft) -> DraftProgress:
        return DraftProgress(self, draft.id)

    def _posted_parts(self, draft_id: str) -> list[str]:
        with self._connect() as db:
            rows = db.execute("SELECT external_id FROM parts WHERE draft_id = ? ORDER BY part", (draft_id,)).fetchall()
        return [row[0] for row in rows]

    def _record_part(self, draft_id: str, index: int, external_id: str) -> None:
        with self._connect() as db, db:
            db.execute(
                "INSERT OR REPLACE INTO parts (draft_id, part, external_id) VALUES (?, ?, ?)",
                (draft_id, index, external_id),
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path)
            with db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS drafts (draft_id TEXT PRIMARY KEY, tweets TEXT NOT NULL, "
                    "post_links TEXT NOT NULL, started_at TEXT NOT NULL, receipt TEXT, published_at TEXT)"
                )
                db.execute(
                    "CREATE TABLE IF NOT EXISTS parts "
                    "(draft_id TEXT NOT NULL, part INTEGER NOT NULL, external_id TEXT NOT NULL, "
                    "PRIMARY KEY (draft_id, part))"
                )
                db.execute(
                    "CREATE TABLE IF NOT EXISTS published_links "
                    "(post_link TEXT PRIMARY KEY, draft_id TEXT NOT NULL, receipt TEXT NOT NULL)"
                )
        except (OSError, sqlite3.Error) as error:
            raise PublishError(f"cannot open publish ledger {self.path} ({error}); {_FIX}") from None
        try:
            yield db
        finally:
            db.close()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class DraftProgress:
    """The ledger's record of one draft's published parts (see integrations.publishers.PublishProgress)."""

    def __init__(self, ledger: PublishLedger, draft_id: str) -> None:
        self._ledger, self._draft_id = ledger, draft_id

    def posted_parts(self) -> list[str]:
        return self._ledger._posted_parts(self._draft_id)

    def record_part(self, index: int, external_id: str) -> None:
        self._ledger._record_part(self._draft_id, index, external_id)
