"""A summary of what was said in some Discord channels, delivered to several destinations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from prefect import flow
from prefect.futures import PrefectFuture
from prefect.states import State

from bookkeeping.pauses import pause_after_failures
from core.collection import advance_cursors
from core.delivery import message_markdown, parse_destinations
from core.models import DiscordMessage
from core.summaries import (
    DEFAULT_MIN_MESSAGES,
    SINCE_LAST,
    ChannelSummary,
    SummaryContext,
    SummaryLength,
    SummaryOptions,
    SummaryRequest,
    SummaryRun,
    chunk_messages,
    combine_groups,
    first_cursors,
    messages_digest,
    messages_to_summarise,
    skip_reason,
    summary_message,
)
from guildflow.logs import hide_tracebacks_of_user_errors
from guildflow.settings import Settings, load_settings
from tasks import clients
from tasks.analyse import ensure_gemini_rate_limits
from tasks.deliver import deliver_everywhere, raise_if_any_failed
from tasks.summary import (
    advance_summary_cursors,
    combine_summaries,
    publish_summary_report,
    read_channel_messages,
    read_summary_cursors,
    summarise_chunk,
)

hide_tracebacks_of_user_errors()
PAUSE_AFTER_FAILURES = pause_after_failures(notify=deliver_everywhere)
MANUAL_CURSOR = "manual"


@flow(
    name="channel-summary",
    log_prints=True,
    persist_result=False,
    on_failure=[PAUSE_AFTER_FAILURES],
    on_crashed=[PAUSE_AFTER_FAILURES],
)
def channel_summary(
    guild_id: str,
    channel_ids: list[str],
    destinations: list[str],
    window: str = SINCE_LAST,
    length: SummaryLength = "detailed",
    min_messages: int = DEFAULT_MIN_MESSAGES,
    include_bots: bool = False,
    extract_action_items: bool = False,
    extract_technical_terms: bool = False,
    title: str = "",
    schedule: str = "",
) -> SummaryRun:
    """Summarise what was said in Discord channels and deliver the summary to every destination.

    The channels' messages come from the configured Discord source. Since-last reads after the last message this
    schedule summarised in each channel; that cursor moves only once every destination got the summary, so a
    failed delivery is summarised again (from the cache: no new model call) by the next run.

    Args:
        guild_id: The Discord server (guild) the channels are in; used for links to the messages.
        channel_ids: The channels to summarise (ids), together in one summary.
        destinations: Where to deliver: discord:<channel id>[:embed|:markdown], webhook:<url>, email:<address>,
            file:<folder>[:markdown|:json].
        window: since-last (after the last summarised message), or the last N hours or days (6h, 24h, 7d).
        length: brief, detailed or comprehensive.
        min_messages: Fewer messages than this in the window: skip, deliver nothing, keep the cursor.
        include_bots: Summarise bots' messages too.
        extract_action_items: List the tasks people took on or were given, with owner and due date.
        extract_technical_terms: List the jargon used, each with a one-line definition.
        title: The summary's title; empty: "Summary of #<channel>".
        schedule: Whose cursor since-last follows (set by `guildflow summary schedule`); empty: the manual one.
    """
    settings = load_settings()
    request = SummaryRequest.validated(
        guild_id,
        channel_ids,
        destinations,
        window=window,
        length=length,
        min_messages=min_messages,
        include_bots=include_bots,
        action_items=extract_action_items,
        technical_terms=extract_technical_terms,
        title=title,
    )
    channels, span = list(request.channel_ids), request.window
    cursor_name = schedule.strip() or MANUAL_CURSOR

    cursors = read_summary_cursors(settings, cursor_name, channels)
    now = datetime.now(timezone.utc)
    if settings.discord_backend == "api" and not span.hours:  # an export holds what it holds; a channel, years
        cursors = first_cursors(cursors, channels, now - timedelta(days=settings.summary_first_lookback_days))
    read = read_channel_messages(settings, channels, span.collection_window(now), cursors)
    messages = messages_to_summarise(read, request.include_bots)
    if reason := skip_reason(len(messages), request.min_messages, span):
        return _finish(SummaryRun(len(messages), skipped=reason))

    work = summarise_window(settings, messages, request.options)
    message = summary_message(work.summary, SummaryContext.of(request.guild_id, channels, messages), request.title)
    # Since-last: the same window of messages is "the same delivery", so a later run does not send it again
    # where it already went (only where it failed). A time window re-sends: each run is a new summary.
    run_key = f"channel-summary-{cursor_name}-{messages_digest(messages)[:16]}" if not span.hours else None
    outcomes = deliver_everywhere(settings, parse_destinations(list(request.destinations)), message, run_key=run_key)
    if all(outcome.status == "delivered" for outcome in outcomes):
        advance_summary_cursors(settings, cursor_name, advance_cursors(cursors, read))
    run = SummaryRun(
        len(messages),
        work.model_calls,
        work.chunks,
        work.combines,
        deliveries=tuple(outcome.summary() for outcome in outcomes),
        markdown=message_markdown(message),
    )
    _finish(run)
    raise_if_any_failed(outcomes)
    return run


@dataclass(frozen=True)
class MapReduce:
    summary: ChannelSummary
    chunks: int
    combines: int
    model_calls: int  # steps that were not answered from the cache


def summarise_window(settings: Settings, messages: list[DiscordMessage], options: SummaryOptions) -> MapReduce:
    """Summarise each chunk within the token budget, then combine the summaries, a level at a time, until one is
    left. Every step is a cached task: only the steps whose input is new call the model."""
    if settings.analyser_backend == "gemini":
        ensure_gemini_rate_limits(settings)
    version = clients.summariser(settings).version
    budget = settings.summary_token_budget
    # The steps of a level run side by side (the model's rate limits still pace them); a level waits for the last.
    states = _states(
        [summarise_chunk.submit(settings, chunk, options, version) for chunk in chunk_messages(messages, budget)]
    )
    chunks, calls, combines = len(states), _calls(states), 0
    summaries = [state.result() for state in states]
    while len(summaries) > 1:
        groups = combine_groups(summaries, budget)
        states = _states([combine_summaries.submit(settings, group, options, version) for group in groups])
        combines, calls = combines + len(states), calls + _calls(states)
        summaries = [state.result() for state in states]
    return MapReduce(summaries[0], chunks, combines, calls)


def _states(futures: list[PrefectFuture[ChannelSummary]]) -> list[State]:
    for future in futures:
        future.wait()
    return [future.state for future in futures]


def _calls(states: list[State]) -> int:
    return sum(1 for state in states if state.name != "Cached")


def _finish(run: SummaryRun) -> SummaryRun:
    publish_summary_report(run.report())
    print(run.summary())
    return run
