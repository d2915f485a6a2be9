"""The daily post: projects found today, within X's length rules, split into a thread when long."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

from core.models import Post
from core.ranking import rank_projects

X_LIMIT = 280
# Two project lines and the " (i/n)" numbering fit in one tweet: every tweet in a thread is paid for.
PROJECT_LINE_LIMIT = 125
ELLIPSIS = "…"
# X's pay-per-use prices (since 2026-02-06), in US dollars per post.
X_POST_PRICE = 0.015
X_POST_WITH_URL_PRICE = 0.20


@cache
def _unpostable() -> re.Pattern[str]:
    """What X refuses in a post: the characters twitter-text marks invalid (U+FEFF, U+FFFE, U+FFFF), and lone
    surrogates, which are not text at all (JSON from a model or an export can hold them; UTF-8 cannot).

    twitter-text is imported on first use, not with this module: importing it compiles its URL and emoji
    patterns (about half a second), which every command importing this module would pay, drafting or not."""
    from twitter_text.regexp.invalid_chars import invalid_chars

    return re.compile(rf"{invalid_chars.pattern}|[\ud800-\udfff]")


@dataclass(frozen=True)
class Draft:
    """What gets published. Its id depends only on the posts it covers, so rebuilding it later
    (another day, another run) finds the same id in the publish ledger."""

    id: str
    tweets: tuple[str, ...]
    post_links: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.tweets)

    def summary(self) -> str:
        return f"{len(self.tweets)} tweet(s) covering {len(self.post_links)} posts"


def x_length(text: str) -> int:
    """Length as X counts it: URLs are 23, most emoji and CJK characters 2."""
    from twitter_text import parse_tweet

    return parse_tweet(text).weightedLength


def is_valid_post(text: str) -> bool:
    """Whether X accepts the text as a post: 1 to 280 characters as X counts them, none that X refuses."""
    from twitter_text import parse_tweet

    return not _unpostable().search(text) and parse_tweet(text).valid


def post_problem(text: str) -> str | None:
    """Why X would refuse the text as a post, or None when it would accept it."""
    if is_valid_post(text):
        return None
    if refused := sorted({f"U+{ord(character):04X}" for character in _unpostable().findall(text)}):
        return f"contains characters X refuses ({', '.join(refused)})"
    length = x_length(text)
    return f"is {length} characters as X counts them (limit {X_LIMIT})" if length else "is empty"


def postable_text(text: str) -> str:
    """The text without the characters X refuses, in Unicode NFC: the form X measures a post in, so the
    text we measure is the text X measures."""
    return unicodedata.normalize("NFC", _unpostable().sub("", text))


def draft_id(post_links: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(post_links)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BudgetSpent:
    """No new draft today: the day's tweets are out. The projects waiting stay in the sheet for the next day."""

    tweets_today: int
    posts_waiting: int

    def summary(self) -> str:
        return (
            f"today's tweet budget is spent ({self.tweets_today} published today): "
            f"{self.posts_waiting} posts wait for tomorrow's post"
        )


def tweets_left_today(max_tweets: int, tweets_today: int) -> int:
    """How many tweets today's budget still allows (GUILDFLOW_DAILY_POST_MAX_TWEETS is per day, not per run)."""
    return max(0, max_tweets - tweets_today)


def build_daily_draft(projects: list[Post], day: date, max_tweets: int | None = None) -> Draft | None:
    """A draft listing each project once (first post wins), or None when there is nothing to say.

    With max_tweets, the best-ranked projects that fit in that many tweets, in the order they were
    posted, and a last line "+N more" for the others (in the same tweets): those are not covered by the
    draft, so they stay unpublished and compete again for the next daily post."""
    by_project: dict[str, list[Post]] = {}
    for post in sorted(projects, key=lambda post: post.message_id):
        by_project.setdefault(postable_text(post.ai_project).casefold(), []).append(post)
    if not by_project:
        return None
    header = f"New Web3 projects spotted by our community, {day:%d %b %Y}:"
    lines = {key: fit_line(project_line(posts[0]), PROJECT_LINE_LIMIT) for key, posts in by_project.items()}
    ranked = rank_projects(by_project)

    def thread(count: int) -> list[str]:
        """The thread of the `count` best-ranked projects."""
        chosen = set(ranked[:count])
        left_out = len(ranked) - count
        items = [line for key, line in lines.items() if key in chosen] + ([f"+{left_out} more"] if left_out else [])
        return pack_thread(header, items)

    # The most projects that fit: one always does (the header, a line and "+N more" fit in one tweet).
    fitting, too_many = 1, len(ranked) + 1
    if max_tweets is None or len(thread(len(ranked))) <= max_tweets:
        fitting = len(ranked)
    else:
        while too_many - fitting > 1:
            middle = (fitting + too_many) // 2
            fitting, too_many = (middle, too_many) if len(thread(middle)) <= max_tweets else (fitting, middle)
    links = [post.post_link for key in ranked[:fitting] for post in by_project[key]]
    return Draft(id=draft_id(links), tweets=tuple(thread(fitting)), post_links=tuple(sorted(set(links))))


def x_cost(tweets: tuple[str, ...] | list[str]) -> float:
    """What posting the tweets costs on X's pay-per-use plan, in US dollars (a post with a URL costs more)."""
    from twitter_text import extract_urls

    return sum(X_POST_WITH_URL_PRICE if extract_urls(tweet) else X_POST_PRICE for tweet in tweets)


def project_line(post: Post) -> str:
    """The project's line, made of text from Discord and the analyser: only characters X accepts."""
    about = post.ai_summary or post.ai_keywords
    line = f"• {post.ai_project}: {about} {post.post_link}" if about else f"• {post.ai_project} {post.post_link}"
    return postable_text(line)


def pack_thread(header: str, items: list[str]) -> list[str]:
    """Greedy packing of items under a header; numbered " (i/n)" when more than one tweet."""
    single = _pack(header, items, suffix_room=0)
    if len(single) == 1:
        return single
    # Reserve room for the widest numbering this thread can need, then number.
    room = len(f" ({len(items) + 1}/{len(items) + 1})")
    packed = _pack(header, items, suffix_room=room)
    return [f"{tweet} ({number}/{len(packed)})" for number, tweet in enumerate(packed, start=1)]


def _pack(header: str, items: list[str], suffix_room: int) -> list[str]:
    limit = X_LIMIT - suffix_room
    tweets: list[str] = []
    current = header
    for item in items:
        candidate = f"{current}\n{item}" if current else item
        if x_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            tweets.append(current)
        current = fit_line(item, limit)
    if current:
        tweets.append(current)
    return tweets


def fit_line(line: str, limit: int) -> str:
    """The line shortened word by word before its trailing URL until X accepts it."""
    if x_length(line) <= limit:
        return line
    text, _, url = line.rpartition(" ")
    words = text.split(" ")
    while words and x_length(f"{' '.join(words)}{ELLIPSIS} {url}") > limit:
        words.pop()
    return f"{' '.join(words)}{ELLIPSIS} {url}"
