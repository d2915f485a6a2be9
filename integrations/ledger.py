"""The publish ledger: what was published, so nothing is published twice, even by runs at the same time."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from time import monotonic, sleep

from core.draft import Draft
from integrations.errors import PublishError
from integrations.local_files import can_write, sqlite_store

_FIX = "set GUILDFLOW_LEDGER to a writable file path"
_TABLES = (
    (
        "CREATE TABLE IF NOT EXISTS drafts (draft_id TEXT PRIMARY KEY, tweets TEXT NOT NULL, post_links "
        "TEXT NOT NULL, started_at TEXT NOT NULL, receipt TEXT, published_at TEXT)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS parts (draft_id TEXT NOT NULL, part INTEGER NOT NULL, external_id "
        "TEXT NOT NULL, PRIMARY KEY (draft_id, part))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS published_links (post_link TEXT PRIMARY KEY, draft_id TEXT NOT NULL, "
        "receipt TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS claims (draft_id TEXT PRIMARY KEY, claimant TEXT NOT NULL, "
        "process_table TEXT NOT NULL, pid INTEGER NOT NULL, claimed_at TEXT NOT NULL)"
    ),
)
# How long a claim outlives its holder's last sign of progress when the holder cannot be seen to have
# stopped (another machine). Generous: X's rate limit alone can hold a part back for 15 minutes.
CLAIM_LEASE = timedelta(hours=1)
_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Claim:
    """The ledger's answer to a run that wants to publish a draft."""

    taken: bool = False  # this run publishes the draft now
    receipt: str | None = None  # the draft is published already (by any run)
    refusal: str = ""  # why this run may not publish the draft
    held_elsewhere: bool = False  # the refusal is another run at work on it: waiting may end it


@dataclass(frozen=True)
class _Holder:
    draft_id: str
    claimant: str
    process_table: str
    pid: int
    claimed_at: datetime

    def __str__(self) -> str:
        return f"{self.claimant}, since {self.claimed_at:%Y-%m-%d %H:%M:%S} UTC"


class PublishLedger:
    """SQLite tables of drafts (begun, then published with a receipt), the claim of the run publishing
    each unfinished one, their published parts, and the post links each published draft covered."""

    def __init__(self, path: Path, lease: timedelta = CLAIM_LEASE) -> None:
        self.path = Path(path)
        self.lease = lease

    def describe(self) -> str:
        return f"SQLite ledger {self.path}"

    def check(self) -> str:
        if not can_write(self.path):
            raise PublishError(f"publish ledger {self.path} is not writable; {_FIX}")
        return "writable"

    def claim(self, draft: Draft, claimant: str, wait_seconds: float = 0.0) -> Claim:
        """Take the draft for publishing: only one run at a time gets it, across processes.

        Taking it notes the draft as begun before any of it goes out, so a run that stops half-way is
        finished first. claimant names the run; the same run asking again (a retry) gets it again, and so
        does any run once the holder has stopped (its process is gone, or the lease ran out). While another
        run holds this draft, or a draft with some of its posts, ask again for up to wait_seconds.
        """
        deadline = monotonic() + wait_seconds
        while (claim := self._try_claim(draft, claimant)).held_elsewhere and monotonic() < deadline:
            sleep(_POLL_SECONDS)
        return claim

    def release(self, draft: Draft, claimant: str) -> None:
        """Give a claim up (publishing failed), so the next run need not wait for the lease to run out."""
        with self._connect() as db, db:
            db.execute("DELETE FROM claims WHERE draft_id = ? AND claimant = ?", (draft.id, claimant))

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

    def tweets_published_since(self, moment: datetime) -> int:
        """How many tweets the drafts published at or after the moment hold."""
        with self._connect() as db:
            rows = db.execute("SELECT tweets, published_at FROM drafts WHERE receipt IS NOT NULL").fetchall()
        return sum(len(json.loads(tweets)) for tweets, at in rows if at and datetime.fromisoformat(at) >= moment)

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
            db.execute("DELETE FROM claims WHERE draft_id = ?", (draft.id,))

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
            # Progress renews the lease: a long thread held back by rate limits keeps its claim.
            db.execute("UPDATE claims SET claimed_at = ? WHERE draft_id = ?", (_now(), draft_id))

    def _try_claim(self, draft: Draft, claimant: str) -> Claim:
        now = datetime.now(timezone.utc)
        with self._connect() as db, db:
            db.execute("BEGIN IMMEDIATE")  # the write lock first: no other claim is decided in between
            published = db.execute(
                "SELECT receipt FROM drafts WHERE draft_id = ? AND receipt IS NOT NULL", (draft.id,)
            ).fetchone()
            if published:
                return Claim(receipt=published[0])
            holders = self._holders(db)
            holder = holders.get(draft.id)
            if holder and self._at_work(holder, claimant, now):
                return Claim(
                    refusal=f"publishing of draft {draft.id} is in progress in another run ({holder}); this run "
                    "published nothing. If that run has stopped, the next run on its machine finishes it, "
                    f"a run elsewhere after {holder.claimed_at + self.lease:%Y-%m-%d %H:%M} UTC",
                    held_elsewhere=True,
                )
            if refusal := self._overlap(db, draft, holders, claimant, now):
                return refusal
            db.execute(
                "INSERT OR IGNORE INTO drafts (draft_id, tweets, post_links, started_at) VALUES (?, ?, ?, ?)",
                (draft.id, json.dumps(draft.tweets), json.dumps(draft.post_links), now.isoformat()),
            )
            db.execute(
                "INSERT OR REPLACE INTO claims (draft_id, claimant, process_table, pid, claimed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (draft.id, claimant, _PROCESS_TABLE, os.getpid(), now.isoformat()),
            )
            return Claim(taken=True)

    def _overlap(
        self, db: sqlite3.Connection, draft: Draft, holders: dict[str, _Holder], claimant: str, now: datetime
    ) -> Claim | None:
        """Why the draft may not be published because another draft has some of its posts (two runs that
        collected different posts drafted at once), or None."""
        links = set(draft.post_links)
        published = db.execute(
            "SELECT post_link, draft_id, receipt FROM published_links WHERE draft_id != ?", (draft.id,)
        )
        for link, other, receipt in published:
            if link in links:
                return Claim(
                    refusal=f"some posts of draft {draft.id} were published meanwhile in draft {other} ({receipt}); "
                    "this run published nothing, the next run drafts the rest"
                )
        unfinished = db.execute(
            "SELECT draft_id, post_links FROM drafts WHERE receipt IS NULL AND draft_id != ? ORDER BY started_at",
            (draft.id,),
        )
        overlapping = [other for other, post_links in unfinished if links & set(json.loads(post_links))]
        if not overlapping:
            return None
        at_work = [
            holders[other] for other in overlapping if other in holders and self._at_work(holders[other], claimant, now)
        ]
        if at_work:
            return Claim(
                refusal=f"some posts of draft {draft.id} are being published in draft {at_work[0].draft_id} by "
                f"another run ({at_work[0]}); this run published nothing, a later run drafts the rest",
                held_elsewhere=True,
            )
        return Claim(
            refusal=f"draft {overlapping[0]}, begun earlier and not finished, has some posts of draft {draft.id}; "
            f"this run published nothing, the next run finishes draft {overlapping[0]} first"
        )

    def _holders(self, db: sqlite3.Connection) -> dict[str, _Holder]:
        """The claims on drafts not yet published, by draft id."""
        rows = db.execute("SELECT draft_id, claimant, process_table, pid, claimed_at FROM claims").fetchall()
        return {
            draft_id: _Holder(draft_id, claimant, table, pid, datetime.fromisoformat(claimed_at))
            for draft_id, claimant, table, pid, claimed_at in rows
        }

    def _at_work(self, holder: _Holder, claimant: str, now: datetime) -> bool:
        """Whether another run holds the claim and may still be publishing."""
        if holder.claimant == claimant or now - holder.claimed_at >= self.lease:
            return False
        return holder.process_table != _PROCESS_TABLE or _running(holder.pid)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite_store(
            self.path, _TABLES, lambda error: PublishError(f"cannot open publish ledger {self.path} ({error}); {_FIX}")
        )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _process_table() -> str:
    """Where a process id names one process: this host and, on Linux, this PID namespace (a container's own)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".rstrip()


_PROCESS_TABLE = _process_table()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    return True


class DraftProgress:
    """The ledger's record of one draft's published parts (see integrations.publishers.PublishProgress)."""

    def __init__(self, ledger: PublishLedger, draft_id: str) -> None:
        self._ledger, self._draft_id = ledger, draft_id

    def posted_parts(self) -> list[str]:
        return self._ledger._posted_parts(self._draft_id)

    def record_part(self, index: int, external_id: str) -> None:
        self._ledger._record_part(self._draft_id, index, external_id)
