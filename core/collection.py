"""Turning Discord messages into distinct posts: windows, cursors, dedupe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.links import status_links_in_message
from core.models import DiscordMessage, Post
from core.sheet import discord_user_link

Cursors = dict[int, int]  # channel id -> highest collected message id


@dataclass(frozen=True)
class CollectionWindow:
    """Which messages a run collects: after the per-channel cursor, or everything since a time."""

    mode: str
    since: datetime | None = None

    def describe(self) -> str:
        return "since the last collected message" if self.since is None else f"since {self.since.isoformat()}"


def collection_window(mode: str, lookback: int, now: datetime) -> CollectionWindow:
    if mode == "since-last":
        return CollectionWindow(mode)
    if mode == "hours":
        return CollectionWindow(mode, now - timedelta(hours=lookback))
    if mode == "days":
        return CollectionWindow(mode, now - timedelta(days=lookback))
    raise ValueError(f"unknown collection mode '{mode}': use 'since-last', 'hours' or 'days'")


def in_window(message: DiscordMessage, window: CollectionWindow, cursors: Cursors) -> bool:
    if window.since is not None:
        return message.timestamp >= window.since
    return message.id > cursors.get(message.channel_id, 0)


def advance_cursors(cursors: Cursors, messages: list[DiscordMessage]) -> Cursors:
    """Cursors moved to the highest message id seen per channel (never backwards)."""
    advanced = dict(cursors)
    for message in messages:
        advanced[message.channel_id] = max(advanced.get(message.channel_id, 0), message.id)
    return advanced


def tweet_text(content: str, embed_text: str) -> str:
    """The Content cell: what the member wrote, then the tweet's text when Discord embedded it."""
    parts = [part.strip() for part in (content, embed_text) if part and part.strip()]
    return "\n\n".join(parts)


def posts_in_messages(messages: list[DiscordMessage], include_bots: bool) -> list[Post]:
    """The posts of the messages; a link without a preview of its own (Discord shows none for a link in
    <angle brackets>) takes the tweet's text from another message of the batch that previews it."""
    tweets = tweet_texts(messages)
    return [
        post
        for message in messages
        if include_bots or not message.author_is_bot
        for post in posts_in_message(message, tweets)
    ]


def tweet_texts(messages: list[DiscordMessage]) -> dict[int, str]:
    """Status id -> the tweet's text, from the first embed that previews it (a bot's included)."""
    texts: dict[int, str] = {}
    for message in messages:
        for link, embed in status_links_in_message(message):
            if embed and embed.description.strip():
                texts.setdefault(link.status_id, embed.description)
    return texts


def posts_in_message(message: DiscordMessage, tweets: Mapping[int, str] | None = None) -> list[Post]:
    """One Post per distinct X status the message links to, in content or embeds; `tweets` (from
    tweet_texts) supplies the tweet's text where the message has no preview of it."""
    return [
        Post(
            message_id=message.id,
            channel_id=message.channel_id,
            posted_at=message.timestamp,
            author=message.author_name,
            author_link=discord_user_link(message.author_id),
            content=tweet_text(
                message.content, (embed.description if embed else "") or (tweets or {}).get(link.status_id, "")
            ),
            post_link=link.url,
            x_handle="" if link.handle == "i" else link.handle,
        )
        for link, embed in status_links_in_message(message)
    ]


@dataclass(frozen=True)
class DedupeResult:
    new: list[Post]
    duplicates: int


def dedupe_posts(candidates: list[Post], known_status_ids: set[int]) -> DedupeResult:
    """Keep the first sighting (lowest message id) of each status not already known."""
    seen = set(known_status_ids)
    new: list[Post] = []
    for post in sorted(candidates, key=lambda post: (post.message_id, post.status_id)):
        if post.status_id in seen:
            continue
        seen.add(post.status_id)
        new.append(post)
    return DedupeResult(new=new, duplicates=len(candidates) - len(new))
