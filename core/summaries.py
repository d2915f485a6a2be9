"""Channel summaries: what a summary holds (the schema every summariser answers in), the options a schedule
gives, the window of messages, chunking a long window by a token budget, and the summary as a deliverable
Message (Discord embed fields with jump links; Markdown, JSON and email come from core.delivery). Pure."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from core.collection import CollectionWindow, Cursors
from core.delivery import Destination, Message, MessageField, parse_destinations
from core.errors import UserFacingError
from core.models import DiscordMessage

SummaryLength = Literal["brief", "detailed", "comprehensive"]
FLOW_NAME, DEPLOYMENT_NAME = "channel-summary", "scheduled"
DEPLOYMENT = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"  # where summary schedules live (prefect.yaml)
SLUG_PREFIX = "summary-"
SINCE_LAST = "since-last"
DEFAULT_MIN_MESSAGES = 5
MAX_LOOKBACK_HOURS = 24 * 366
# How many key points a summary of each length keeps (the offline summariser picks this many; the model is asked to).
KEY_POINTS = {"brief": 3, "detailed": 6, "comprehensive": 10}
_WINDOW = re.compile(r"(?P<count>\d{1,5})\s*(?P<unit>h|hours?|d|days?)")
_CHARACTERS_PER_TOKEN = 4  # a rough rule for English text; the budget leaves room for the prompt
_TOKENS_PER_MESSAGE = 12  # id, author and separators around each message's text


class SummaryError(UserFacingError, ValueError):
    """A summary option that cannot work; the message names it and the forms that do."""


# --- the summary: every summariser (offline, Gemini) answers in this schema ------------------------------------


class KeyPoint(BaseModel):
    text: str = Field(description="One point that was discussed or decided, in one or two sentences.")
    message_ids: list[str] = Field(
        default_factory=list, description="The ids of the messages this point comes from (as given)."
    )


class ActionItem(BaseModel):
    text: str = Field(description="What is to be done, as one sentence.")
    owner: str = Field("", description='Who is to do it, when the messages say; else "".')
    due: str = Field("", description='When it is due, as the messages say it (e.g. "Friday"); else "".')
    message_id: str = Field("", description="The id of the message it comes from.")


class TechnicalTerm(BaseModel):
    term: str = Field(description="A technical term, acronym or piece of jargon used in the messages.")
    definition: str = Field(description="What it means here, in one line.")


class Participant(BaseModel):
    name: str = Field(description="The author's name as given.")
    messages: int = Field(description="How many of the messages they wrote.")


class ChannelSummary(BaseModel):
    """A summary of some messages (a chunk, or the whole window once combined)."""

    overview: str = Field(description="What the conversation was about, in 1-4 sentences.")
    key_points: list[KeyPoint] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    technical_terms: list[TechnicalTerm] = Field(default_factory=list)
    participants: list[Participant] = Field(default_factory=list)

    @property
    def message_count(self) -> int:
        return sum(participant.messages for participant in self.participants)


# --- options and window ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryWindow:
    """since-last (after the cursor of this schedule and channel), or the last `hours`."""

    hours: int = 0  # 0: since-last

    @classmethod
    def parse(cls, text: str) -> SummaryWindow:
        text = text.strip().lower()
        if text in (SINCE_LAST, ""):
            return cls()
        match = _WINDOW.fullmatch(text)
        hours = int(match["count"]) * (24 if match["unit"].startswith("d") else 1) if match else 0
        if not 0 < hours <= MAX_LOOKBACK_HOURS:
            raise SummaryError(
                f"window {text!r} is not '{SINCE_LAST}' or the last N hours or days (e.g. 6h, 24 hours, 7d), "
                "at most a year"
            )
        return cls(hours)

    def collection_window(self, now: datetime) -> CollectionWindow:
        if not self.hours:
            return CollectionWindow(SINCE_LAST)
        return CollectionWindow("hours", now - timedelta(hours=self.hours))

    def __str__(self) -> str:
        if not self.hours:
            return SINCE_LAST
        return f"{self.hours // 24}d" if self.hours % 24 == 0 else f"{self.hours}h"

    def describe(self) -> str:
        if not self.hours:
            return "since the last summary"
        return f"the last {self.hours // 24} days" if self.hours % 24 == 0 else f"the last {self.hours} hours"


@dataclass(frozen=True)
class SummaryOptions:
    """What a summary is asked for. Part of every cache key (str(options) is stable)."""

    length: SummaryLength = "detailed"
    action_items: bool = False
    technical_terms: bool = False

    @classmethod
    def validated(cls, length: str, action_items: bool, technical_terms: bool) -> SummaryOptions:
        if length not in get_args(SummaryLength):
            raise SummaryError(f"summary length {length!r} is not one of {', '.join(get_args(SummaryLength))}")
        return cls(length, action_items, technical_terms)  # type: ignore[arg-type]  # checked above

    def key(self) -> str:
        return f"{self.length}-a{int(self.action_items)}-t{int(self.technical_terms)}"


def validated_min_messages(value: int) -> int:
    if isinstance(value, bool) or not 1 <= value <= 100_000:
        raise SummaryError(f"min_messages {value!r} is not a whole number from 1 to 100000")
    return value


def validated_channel_ids(channel_ids: Iterable[str | int]) -> list[int]:
    """Discord channel ids, each once, in the order given; at least one."""
    ids: dict[int, None] = {}
    for given in channel_ids:
        text = str(given).strip()
        if not re.fullmatch(r"\d{17,20}", text):
            raise SummaryError(
                f"{text!r} is not a Discord channel id (Developer Mode > right-click the channel > Copy Channel ID)"
            )
        ids.setdefault(int(text), None)
    if not ids:
        raise SummaryError("give at least one channel to summarise")
    return list(ids)


DISCORD_EPOCH_MS = 1_420_070_400_000


def first_cursors(cursors: Cursors, channel_ids: list[int], since: datetime) -> Cursors:
    """The cursors, with a channel that has none yet starting at `since` (a Discord id made from the time, as
    Discord's own ids are), so a first since-last run does not read a channel's whole history."""
    start = max(int(since.timestamp() * 1000) - DISCORD_EPOCH_MS, 0) << 22
    return {channel: cursors.get(channel, start) for channel in channel_ids} | dict(cursors)


def messages_to_summarise(messages: Iterable[DiscordMessage], include_bots: bool) -> list[DiscordMessage]:
    """The messages a summary reads: with text, bots' only when asked, oldest first."""
    kept = [m for m in messages if (include_bots or not m.author_is_bot) and (m.content.strip() or m.embeds)]
    return sorted(kept, key=lambda message: message.id)


def message_text(message: DiscordMessage) -> str:
    """What a summariser reads of one message: its text, then its embeds' titles and descriptions."""
    parts = [message.content.strip()]
    parts += [f"{embed.title} {embed.description}".strip() for embed in message.embeds]
    return "\n".join(part for part in parts if part)


@dataclass(frozen=True)
class SummaryRequest:
    """Everything a summary schedule (or a run now) asks for, validated: the channel-summary flow's parameters."""

    guild_id: str
    channel_ids: tuple[int, ...]
    destinations: tuple[str, ...]
    window: SummaryWindow = SummaryWindow()
    options: SummaryOptions = SummaryOptions()
    min_messages: int = DEFAULT_MIN_MESSAGES
    include_bots: bool = False
    title: str = ""

    @classmethod
    def validated(
        cls,
        guild_id: str,
        channel_ids: Iterable[str | int],
        destinations: Iterable[str],
        *,
        window: str = SINCE_LAST,
        length: str = "detailed",
        min_messages: int = DEFAULT_MIN_MESSAGES,
        include_bots: bool = False,
        action_items: bool = False,
        technical_terms: bool = False,
        title: str = "",
    ) -> SummaryRequest:
        if not re.fullmatch(r"\d{17,20}", guild_id.strip()):
            raise SummaryError(f"guild id {guild_id!r} is not a Discord id (17 to 20 digits)")
        return cls(
            guild_id.strip(),
            tuple(validated_channel_ids(channel_ids)),
            tuple(str(destination) for destination in parse_destinations(list(destinations))),
            SummaryWindow.parse(window),
            SummaryOptions.validated(length, action_items, technical_terms),
            validated_min_messages(min_messages),
            include_bots,
            " ".join(title.split()),
        )

    @property
    def slug(self) -> str:
        """The schedule's slug: one schedule per guild and set of channels; setting it again replaces it."""
        return f"{SLUG_PREFIX}{self.guild_id}-" + "-".join(str(channel) for channel in sorted(self.channel_ids))

    def parameters(self, schedule: str = "") -> dict[str, Any]:
        """The channel-summary flow's parameters; schedule: whose cursor since-last follows."""
        return {
            "guild_id": self.guild_id,
            "channel_ids": [str(channel) for channel in self.channel_ids],
            "destinations": list(self.destinations),
            "window": str(self.window),
            "length": self.options.length,
            "min_messages": self.min_messages,
            "include_bots": self.include_bots,
            "extract_action_items": self.options.action_items,
            "extract_technical_terms": self.options.technical_terms,
            "title": self.title,
            "schedule": schedule,
        }

    def describe(self) -> str:
        channels = ", ".join(f"#{channel}" for channel in self.channel_ids)
        extras = [
            name
            for name, on in (
                ("action items", self.options.action_items),
                ("technical terms", self.options.technical_terms),
                ("bots", self.include_bots),
            )
            if on
        ]
        extra = f" with {', '.join(extras)}" if extras else ""
        places = ", ".join(Destination.parse(text).describe() for text in self.destinations)  # no webhook token
        return f"{self.options.length} summary of {channels} {self.window.describe()}{extra} to {places}"


# --- chunking by a token budget -----------------------------------------------------------------------------


def estimated_tokens(message: DiscordMessage) -> int:
    return _TOKENS_PER_MESSAGE + len(message_text(message)) // _CHARACTERS_PER_TOKEN


def summary_tokens(summary: ChannelSummary) -> int:
    return len(summary.model_dump_json()) // _CHARACTERS_PER_TOKEN


def chunk_messages(messages: list[DiscordMessage], token_budget: int) -> list[list[DiscordMessage]]:
    """Consecutive runs of messages, each within the budget (a message larger than the budget alone)."""
    chunks: list[list[DiscordMessage]] = []
    used = 0
    for message in messages:
        tokens = estimated_tokens(message)
        if not chunks or used + tokens > token_budget:
            chunks.append([])
            used = 0
        chunks[-1].append(message)
        used += tokens
    return chunks


def combine_groups(summaries: list[ChannelSummary], token_budget: int) -> list[list[ChannelSummary]]:
    """Consecutive groups of summaries to combine in one step each, within the budget; every group holds at least
    two (so each level has fewer summaries than the last, and the reduction ends)."""
    groups: list[list[ChannelSummary]] = []
    used = 0
    for summary in summaries:
        tokens = summary_tokens(summary)
        if not groups or (used + tokens > token_budget and len(groups[-1]) >= 2):
            groups.append([])
            used = 0
        groups[-1].append(summary)
        used += tokens
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2].extend(groups.pop())
    return groups


def messages_digest(messages: list[DiscordMessage]) -> str:
    """The content hash of messages as a summariser reads them (a cache key's part): an edit changes it."""
    content = json.dumps([[m.id, m.channel_id, m.author_name, message_text(m)] for m in messages], ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()


def summaries_digest(summaries: list[ChannelSummary]) -> str:
    content = json.dumps([summary.model_dump(mode="json") for summary in summaries], sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()


# --- the summary as a message to deliver -------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryContext:
    """Where the summarised messages are from, for titles and links."""

    guild_id: str
    channel_ids: tuple[int, ...]
    first: DiscordMessage
    last: DiscordMessage
    message_count: int
    channels_of: dict[str, int] = field(default_factory=dict)  # message id -> channel id, for jump links

    @classmethod
    def of(cls, guild_id: str, channel_ids: list[int], messages: list[DiscordMessage]) -> SummaryContext:
        return cls(
            guild_id,
            tuple(channel_ids),
            messages[0],
            messages[-1],
            len(messages),
            {str(message.id): message.channel_id for message in messages},
        )

    def jump_link(self, message_id: str) -> str:
        """https://discord.com/channels/<guild>/<channel>/<message>; "" for an id not among the messages."""
        channel = self.channels_of.get(message_id.strip())
        return f"https://discord.com/channels/{self.guild_id}/{channel}/{message_id.strip()}" if channel else ""


def default_title(context: SummaryContext) -> str:
    channels = ", ".join(f"#{channel}" for channel in context.channel_ids)
    return f"Summary of {channels}"


def summary_message(summary: ChannelSummary, context: SummaryContext, title: str = "") -> Message:
    """The summary as one Message: the overview as the body, then one field each for key points (with jump
    links to their messages), action items, technical terms and participants, when it has any."""
    fields = []
    if summary.key_points:
        fields.append(
            MessageField("Key points", "\n".join(_key_point_line(point, context) for point in summary.key_points))
        )
    if summary.action_items:
        fields.append(
            MessageField("Action items", "\n".join(_action_line(item, context) for item in summary.action_items))
        )
    if summary.technical_terms:
        lines = (f"- **{term.term}**: {term.definition}" for term in summary.technical_terms)
        fields.append(MessageField("Technical terms", "\n".join(lines)))
    if summary.participants:
        names = ", ".join(f"{person.name} ({person.messages})" for person in summary.participants)
        fields.append(MessageField("Participants", names))
    period = f"{context.first.timestamp:%Y-%m-%d %H:%M} to {context.last.timestamp:%Y-%m-%d %H:%M} UTC"
    first_link = context.jump_link(str(context.first.id))
    return Message(
        title=title.strip() or default_title(context),
        body=summary.overview.strip(),
        fields=tuple(fields),
        url=first_link,
        footer=f"{context.message_count} messages, {period}",
    )


def _links(message_ids: list[str], context: SummaryContext) -> str:
    links = [link for message_id in message_ids[:3] if (link := context.jump_link(message_id))]
    return " ".join(f"[{number}]({link})" for number, link in enumerate(links, start=1))


def _key_point_line(point: KeyPoint, context: SummaryContext) -> str:
    links = _links(point.message_ids, context)
    return f"- {point.text.strip()}" + (f" {links}" if links else "")


def _action_line(item: ActionItem, context: SummaryContext) -> str:
    details = [f"owner: {item.owner}" if item.owner else "", f"due: {item.due}" if item.due else ""]
    detail = ", ".join(part for part in details if part)
    links = _links([item.message_id], context) if item.message_id else ""
    return f"- {item.text.strip()}" + (f" ({detail})" if detail else "") + (f" {links}" if links else "")


# --- what a run did ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryRun:
    """What one channel-summary run did: skipped (and why) or summarised, and where the summary went."""

    message_count: int
    model_calls: int = 0
    chunks: int = 0
    combines: int = 0
    skipped: str = ""  # why nothing was summarised
    deliveries: tuple[str, ...] = ()  # one line per destination: where, and how it went
    markdown: str = ""  # the summary as delivered

    def summary(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        return (
            f"summarised {self.message_count} messages ({self.chunks} chunk(s), {self.combines} combine step(s), "
            f"{self.model_calls} model call(s)); " + "; ".join(self.deliveries)
        )

    def report(self) -> str:
        """The run's Markdown artifact."""
        lines = ["# Channel summary", ""]
        if self.skipped:
            return "\n".join([*lines, f"Skipped: {self.skipped}", ""])
        lines += [
            f"- messages: {self.message_count}",
            f"- chunks: {self.chunks}, combine steps: {self.combines}, model calls this run: {self.model_calls}",
            "",
            "## Deliveries",
            "",
            *(f"- {line}" for line in self.deliveries),
            "",
            "## Summary",
            "",
            self.markdown,
        ]
        return "\n".join(lines)


def skip_reason(count: int, min_messages: int, window: SummaryWindow) -> str:
    """Why a window is not summarised, or "" when it is."""
    if count >= min_messages:
        return ""
    found = "no messages" if count == 0 else f"only {count} message{'s' if count != 1 else ''}"
    return f"{found} {window.describe()}, fewer than min_messages ({min_messages}); nothing was delivered"
