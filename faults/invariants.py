"""What must hold after every run of a trial (killed or not), and once the trial's runs have finished the work.

Read from the services' side, as an outside observer: the Sheets emulator's worksheets, the X emulator's
posts, the messages the Discord emulator saved, and the publish ledger's file. Each check returns violations,
one sentence each.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.playerdata import PlayerDataError, read_export
from tests.emulators.discord import Post as WebhookPost
from tests.emulators.google_sheets import SheetsEmulator
from tests.emulators.x import Tweet

STATUS_LINK = re.compile(r"https://x\.com/\w+/status/\d+")
_PART = re.compile(r"-part-\d+-of-\d+(?=\.json)")


@dataclass(frozen=True)
class ExpectedPost:
    link: str
    channel_id: int
    message_id: int  # of the first message that linked it


@dataclass(frozen=True)
class SheetState:
    posts: list[dict[str, str]]
    archive: list[dict[str, str]]
    cursors: dict[int, int]  # channel id -> last collected message id

    @classmethod
    def read(cls, sheets: SheetsEmulator, spreadsheet_id: str) -> SheetState:
        posts, archive, cursors = (_rows(sheets, spreadsheet_id, title) for title in ("Posts", "Archive", "Cursors"))
        return cls(posts, archive, {int(row["Channel ID"]): int(row["Last Message ID"]) for row in cursors})

    def links(self) -> Counter[str]:
        """How many rows of Posts and Archive together hold each Post Link."""
        return Counter(row["Post Link"] for row in [*self.posts, *self.archive])


@dataclass(frozen=True)
class LedgerDraft:
    draft_id: str
    tweets: list[str]
    receipt: str | None


def ledger_drafts(ledger: Path) -> list[LedgerDraft]:
    if not ledger.exists():
        return []
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
        try:
            rows = db.execute("SELECT draft_id, tweets, receipt FROM drafts ORDER BY started_at").fetchall()
        except sqlite3.OperationalError:  # created, not yet written
            return []
    return [LedgerDraft(draft_id, json.loads(tweets), receipt) for draft_id, tweets, receipt in rows]


# --- the sheet ---------------------------------------------------------------------------------------


def sheet_violations(state: SheetState, expected: list[ExpectedPost], *, finished: bool) -> list[str]:
    """At any moment: no post twice in one worksheet, none that no message has, no cursor past a message whose
    post is in neither worksheet. Once finished: every expected post exactly once in Posts and Archive together."""
    violations = []
    for title, rows in (("Posts", state.posts), ("Archive", state.archive)):
        for link, count in Counter(row["Post Link"] for row in rows).items():
            if count > 1:
                violations.append(f"{link} is in {title} {count} times")
    known = {post.link for post in expected}
    collected = state.links()
    violations += [f"{link} is in the sheet but in no message" for link in collected if link not in known]
    for post in expected:
        cursor = state.cursors.get(post.channel_id, 0)
        if post.message_id <= cursor and not collected[post.link]:
            violations.append(
                f"the cursor of channel {post.channel_id} is at message {cursor}, past message {post.message_id}, "
                f"whose post {post.link} is in neither Posts nor Archive: it will never be collected"
            )
    if finished:
        for post in expected:
            if collected[post.link] != 1:
                violations.append(f"{post.link} is in Posts and Archive {collected[post.link]} times, not once")
    return violations


# --- publishing ----------------------------------------------------------------------------------------


def publish_violations(
    tweets: list[Tweet], drafts: list[LedgerDraft], state: SheetState, *, finished: bool
) -> list[str]:
    """At any moment: no post linked from two tweets, no tweet with two replies (a part posted twice). Once
    finished: every begun draft published, each as its full thread; no tweet outside those threads; every
    archived project post carries the receipt of a published draft."""
    violations = []
    linked: dict[str, list[str]] = {}
    for tweet in tweets:
        for link in set(STATUS_LINK.findall(tweet.text)):
            linked.setdefault(link, []).append(tweet.id)
    violations += [
        f"{link} was published in {len(ids)} tweets ({', '.join(ids)})" for link, ids in linked.items() if len(ids) > 1
    ]
    replies = Counter(tweet.in_reply_to for tweet in tweets if tweet.in_reply_to)
    violations += [
        f"tweet {tweet_id} has {count} replies: a part was posted twice"
        for tweet_id, count in replies.items()
        if count > 1
    ]
    if not finished:
        return violations
    by_id = {tweet.id: tweet for tweet in tweets}
    threaded: set[str] = set()
    receipts = set()
    for draft in drafts:
        if draft.receipt is None:
            violations.append(f"draft {draft.draft_id} was begun and never published")
            continue
        receipts.add(draft.receipt)
        thread = _thread(by_id, draft.receipt.rsplit("/", 1)[-1])
        threaded.update(tweet.id for tweet in thread)
        if [tweet.text for tweet in thread] != draft.tweets:
            violations.append(
                f"draft {draft.draft_id} ({len(draft.tweets)} tweets) is on X as a thread of {len(thread)} that "
                "differs from it"
            )
    violations += [
        f"tweet {tweet.id} ({tweet.text[:40]!r}...) belongs to no published draft: a draft posted in part or twice"
        for tweet in tweets
        if tweet.id not in threaded
    ]
    for row in state.archive:
        if row["AI Project"] == "TRUE" and row["Publication Receipt"] not in receipts:
            violations.append(
                f"project post {row['Post Link']} was archived with receipt {row['Publication Receipt']!r}, "
                "which is no published draft's"
            )
    return violations


def _thread(by_id: dict[str, Tweet], root: str) -> list[Tweet]:
    thread, current = [], by_id.get(root)
    while current is not None:
        thread.append(current)
        current = next((tweet for tweet in by_id.values() if tweet.in_reply_to == current.id), None)
    return thread


# --- playerData exports ----------------------------------------------------------------------------------


def export_violations(posts: list[WebhookPost], source: dict[str, Any], *, finished: bool) -> list[str]:
    """At any moment: every posted file is whole, every export whose parts are all posted restores to the source,
    and restore refuses one with parts missing (a run killed between its messages). Once finished: at least one
    complete export was posted."""
    violations: list[str] = []
    exports: dict[str, dict[str, bytes]] = {}  # by export (file name without its part), the files by name
    for post in posts:
        for name, content in post.files.items():
            if problem := _unreadable(content):
                violations.append(f"message {post.message_id} has a partial export file {name} ({problem})")
            exports.setdefault(_PART.sub("", name), {})[name] = content  # a message posted twice: the same file
    complete = 0
    for export, files in exports.items():
        try:
            restored = read_export(list(files.items())).data
        except PlayerDataError as error:
            if "missing" not in str(error):
                violations.append(f"export {export} cannot be restored: {error}")
            continue
        complete += 1
        if restored != source:
            violations.append(f"export {export} restores to something other than the file it exported")
    if finished and not complete:
        violations.append("no complete export was posted")
    return violations


def _unreadable(content: bytes) -> str:
    try:
        document = json.loads(gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content)
    except (OSError, EOFError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return "" if isinstance(document, dict) else "not a JSON object"


def _rows(sheets: SheetsEmulator, spreadsheet_id: str, title: str) -> list[dict[str, str]]:
    if sheets.spreadsheets[spreadsheet_id].worksheet(title) is None:
        return []
    header, *rows = sheets.values(spreadsheet_id, title) or [[]]
    return [dict(zip(header, [*row, *[""] * (len(header) - len(row))])) for row in rows if any(row)]


def unique(violations: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(violations))
