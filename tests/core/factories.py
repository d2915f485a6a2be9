"""Small builders for domain objects used across the core tests."""

from __future__ import annotations

from datetime import datetime, timezone

from core.models import DiscordMessage, Embed, Post

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def message(
    id: int, content: str = "", *embeds: Embed, channel_id: int = 1, bot: bool = False, at: datetime = T0
) -> DiscordMessage:
    return DiscordMessage(
        id=id,
        channel_id=channel_id,
        timestamp=at,
        author_id=42,
        author_name="alice",
        author_is_bot=bot,
        content=content,
        embeds=embeds,
    )


def post(status_id: int, message_id: int = 1, project: str = "", summary: str = "", **fields: object) -> Post:
    values: dict = dict(
        message_id=message_id,
        channel_id=1,
        posted_at=T0,
        author="alice",
        author_link="https://discord.com/users/42",
        content="text",
        post_link=f"https://x.com/h{status_id}/status/{status_id}",
        x_handle=f"h{status_id}",
        ai_processed=bool(project or summary),
        ai_project=project,
        ai_summary=summary,
    )
    values.update(fields)
    return Post(**values)
