"""Channel summaries (Gemini). Embedded default: the deterministic extractive summariser in core."""

from __future__ import annotations

from typing import Protocol

from core.models import DiscordMessage
from core.offline_summary import OFFLINE_SUMMARISER_VERSION, combine_offline, summarise_offline
from core.summaries import ChannelSummary, SummaryOptions


class Summariser(Protocol):
    @property
    def version(self) -> str:
        """Changes whenever the same messages could get a different summary (model, prompt): part of cache keys."""
        ...

    def describe(self) -> str: ...

    def summarise(self, messages: list[DiscordMessage], options: SummaryOptions) -> ChannelSummary:
        """The summary of consecutive messages (oldest first), within the token budget."""
        ...

    def combine(self, summaries: list[ChannelSummary], options: SummaryOptions) -> ChannelSummary:
        """One summary of several summaries of consecutive parts of a window, in order."""
        ...


class OfflineSummariser:
    version = OFFLINE_SUMMARISER_VERSION

    def describe(self) -> str:
        return f"offline extractive summariser ({self.version}), no model"

    def summarise(self, messages: list[DiscordMessage], options: SummaryOptions) -> ChannelSummary:
        return summarise_offline(messages, options)

    def combine(self, summaries: list[ChannelSummary], options: SummaryOptions) -> ChannelSummary:
        return combine_offline(summaries, options)
