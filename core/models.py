"""Domain records shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Embed:
    """A link preview attached to a Discord message (for X links: the tweet)."""

    url: str = ""
    title: str = ""
    description: str = ""
    author_name: str = ""
    author_url: str = ""


@dataclass(frozen=True)
class DiscordMessage:
    """One Discord message as any source (export file or API) delivers it."""

    id: int
    channel_id: int
    timestamp: datetime  # timezone-aware UTC
    author_id: int
    author_name: str
    author_is_bot: bool
    content: str
    embeds: tuple[Embed, ...] = ()
    edited_timestamp: datetime | None = None


@dataclass(frozen=True)
class StatusLink:
    """An X/Twitter status reference, canonicalised."""

    status_id: int
    handle: str  # "i" when the link carried no handle (x.com/i/web/status/<id>)

    @property
    def url(self) -> str:
        return f"https://x.com/{self.handle}/status/{self.status_id}"


@dataclass(frozen=True)
class Analysis:
    """What the analyser concluded about one post."""

    is_project: bool
    project: str = ""
    summary: str = ""
    keywords: tuple[str, ...] = ()
    error: str = ""  # set when the post could not be analysed; it stays unprocessed


@dataclass
class Post:
    """One row of the Posts worksheet: one distinct X post seen in Discord."""

    message_id: int
    channel_id: int
    posted_at: datetime  # timezone-aware UTC
    author: str
    author_link: str
    content: str
    post_link: str
    x_handle: str
    ai_processed: bool = False
    ai_project: str = ""
    ai_summary: str = ""
    ai_keywords: str = ""
    daily_post_draft: str = ""
    publication_receipt: str = ""

    @property
    def status_id(self) -> int:
        return int(self.post_link.rstrip("/").rsplit("/", 1)[-1])


@dataclass(frozen=True)
class AnalysisInput:
    """The part of a post an analyser sees; also what the analysis cache key is built from."""

    post_link: str
    content: str
    x_handle: str
