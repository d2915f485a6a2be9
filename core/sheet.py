"""The worksheet layout and how a Post maps to a row of text cells."""

from __future__ import annotations

from datetime import datetime, timezone

from core.models import Post

POSTS_WORKSHEET = "Posts"
ARCHIVE_WORKSHEET = "Archive"

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


def row_to_post(row: dict[str, str]) -> Post:
    """A Post from a row keyed by column name; raises ValueError naming the bad cell."""
    try:
        posted_at = datetime.strptime(f"{row['Date']} {row['Time']}", "%Y-%m-%d %H:%M:%S")
        return Post(
            message_id=int(row["Message ID"]),
            channel_id=int(row["Channel ID"]),
            posted_at=posted_at.replace(tzinfo=timezone.utc),
            author=row["Author"],
            author_link=row["Author Link"],
            content=row["Content"],
            post_link=row["Post Link"],
            x_handle=row["X Handle"],
            ai_processed=row.get("AI Processed", "").strip().upper() == _TRUE,
            ai_project=row.get("AI Project", ""),
            ai_summary=row.get("AI Summary", ""),
            ai_keywords=row.get("AI Keywords", ""),
            daily_post_draft=row.get("Daily Post Draft", ""),
            publication_receipt=row.get("Publication Receipt", ""),
        )
    except (KeyError, ValueError) as error:
        raise ValueError(f"row for post {row.get('Post Link', '?')} is malformed: {error}") from None
