"""The worksheet layout and how a Post maps to a row of text cells."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from core.links import parse_status_url
from core.models import Post

POSTS_WORKSHEET = "Posts"
ARCHIVE_WORKSHEET = "Archive"
POST_LINK = "Post Link"  # the key column: rows are found by it

POST_COLUMNS: tuple[str, ...] = (
    "Message ID",
    "Channel ID",
    "Date",
    "Time",
    "Author",
    "Author Link",
    "Content",
    "Post Link",
    "X Handle",
    "AI Processed",
    "AI Project",
    "AI Summary",
    "AI Keywords",
    "Daily Post Draft",
    "Publication Receipt",
)
ARCHIVE_COLUMNS: tuple[str, ...] = (*POST_COLUMNS, "Date Processed")
WORKSHEET_COLUMNS: dict[str, tuple[str, ...]] = {POSTS_WORKSHEET: POST_COLUMNS, ARCHIVE_WORKSHEET: ARCHIVE_COLUMNS}

# Sheets shows booleans as TRUE/FALSE; keep the same words in every backend.
_TRUE, _FALSE = "TRUE", "FALSE"
_NOT_A_STATUS_LINK = "is not an X status link such as https://x.com/<handle>/status/<id>"
_SHOWN_LENGTH = 60  # of a hand-typed value quoted in a message


def discord_user_link(user_id: int) -> str:
    return f"https://discord.com/users/{user_id}"


def post_to_row(post: Post) -> list[str]:
    """The Posts row for a post, in POST_COLUMNS order (dates and times in UTC)."""
    posted = post.posted_at.astimezone(timezone.utc)
    return [
        str(post.message_id),
        str(post.channel_id),
        posted.strftime("%Y-%m-%d"),
        posted.strftime("%H:%M:%S"),
        post.author,
        post.author_link,
        post.content,
        post.post_link,
        post.x_handle,
        _TRUE if post.ai_processed else _FALSE,
        post.ai_project,
        post.ai_summary,
        post.ai_keywords,
        post.daily_post_draft,
        post.publication_receipt,
    ]


def archive_row(post: Post, processed_at: datetime) -> list[str]:
    return [*post_to_row(post), processed_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")]


class UnreadableCell(ValueError):
    """A cell row_to_post cannot read: its column, its text, and what is wrong with it."""

    def __init__(self, column: str, value: str, problem: str) -> None:
        super().__init__(f"{column} {_shown(value)} {problem}")
        self.column, self.value, self.problem = column, value, problem


@dataclass(frozen=True)
class SkippedRow:
    """A row that could not be read, so runs leave it alone (never archived, deleted or rewritten) until fixed."""

    worksheet: str
    row: int  # as the user finds it: the sheet's row number (the header is row 1); the rowid in SQLite
    column: str
    value: str
    problem: str

    def describe(self) -> str:
        return (
            f"{self.worksheet} row {self.row}: {self.column} {_shown(self.value)} {self.problem}; fix or clear that row"
        )


@dataclass(frozen=True)
class PostsRead:
    """The readable rows of Posts as posts, and the rows that were skipped."""

    posts: list[Post]
    skipped: list[SkippedRow] = field(default_factory=list)


@dataclass(frozen=True)
class KnownStatusIds:
    """The dedupe keys found in the Post Link columns, and the key cells that hold no status link."""

    ids: set[int]
    skipped: list[SkippedRow] = field(default_factory=list)


def row_to_post(row: dict[str, str]) -> Post:
    """A Post from a row keyed by column name; raises UnreadableCell naming the first cell it cannot read."""
    post_link = _post_link(row.get(POST_LINK, ""))
    posted_on = _parsed(row, "Date", "%Y-%m-%d", "is not a date such as 2026-11-20 (year-month-day)")
    posted_at = _parsed(row, "Time", "%H:%M:%S", "is not a time such as 20:05:00 (hours:minutes:seconds, UTC)")
    return Post(
        message_id=_discord_id(row, "Message ID"),
        channel_id=_discord_id(row, "Channel ID"),
        posted_at=datetime.combine(posted_on.date(), posted_at.time(), tzinfo=timezone.utc),
        author=row.get("Author", ""),
        author_link=row.get("Author Link", ""),
        content=row.get("Content", ""),
        post_link=post_link,
        x_handle=row.get("X Handle", ""),
        ai_processed=row.get("AI Processed", "").strip().upper() == _TRUE,
        ai_project=row.get("AI Project", ""),
        ai_summary=row.get("AI Summary", ""),
        ai_keywords=row.get("AI Keywords", ""),
        daily_post_draft=row.get("Daily Post Draft", ""),
        publication_receipt=row.get("Publication Receipt", ""),
    )


def posts_from_rows(worksheet: str, rows: Iterable[tuple[int, dict[str, str]]]) -> PostsRead:
    """The posts of (row number, cells) rows; a row with a cell that cannot be read is skipped and named."""
    posts: list[Post] = []
    skipped: list[SkippedRow] = []
    for number, cells in rows:
        try:
            posts.append(row_to_post(cells))
        except UnreadableCell as cell:
            skipped.append(SkippedRow(worksheet, number, cell.column, cell.value, cell.problem))
    return PostsRead(posts, skipped)


def status_ids_in_key_cells(key_cells: dict[str, list[tuple[int, str]]]) -> KnownStatusIds:
    """The status ids of (row number, Post Link) cells per worksheet; empty cells are ignored.

    Any form of status link counts (a key is a key, however it was pasted); a cell that holds no status
    link is skipped and named."""
    ids: set[int] = set()
    skipped: list[SkippedRow] = []
    for worksheet, cells in key_cells.items():
        for number, value in cells:
            if not value.strip():
                continue
            link = parse_status_url(value)
            if link is None:
                skipped.append(SkippedRow(worksheet, number, POST_LINK, value, _NOT_A_STATUS_LINK))
            else:
                ids.add(link.status_id)
    return KnownStatusIds(ids, skipped)


def _post_link(value: str) -> str:
    link = parse_status_url(value)
    if link is None:
        raise UnreadableCell(POST_LINK, value, _NOT_A_STATUS_LINK)
    if link.url != value:
        # Rows are found again by this exact text (results, archive), so it must be the form guildflow writes.
        raise UnreadableCell(POST_LINK, value, f"is not in the form guildflow writes: make it {link.url}")
    return value


def _discord_id(row: dict[str, str], column: str) -> int:
    value = row.get(column, "")
    if not (value.isascii() and value.isdigit()):
        raise UnreadableCell(column, value, "is not a Discord id (digits only)")
    return int(value)


def _parsed(row: dict[str, str], column: str, layout: str, problem: str) -> datetime:
    value = row.get(column, "")
    try:
        return datetime.strptime(value, layout)
    except ValueError:
        raise UnreadableCell(column, value, problem) from None


def _shown(value: str) -> str:
    if not value.strip():
        return "(empty)"
    return repr(value if len(value) <= _SHOWN_LENGTH else value[: _SHOWN_LENGTH - 3] + "...")
