"""The steps of a channel summary, each with its policy: reading the window's messages, summarising a chunk and
combining summaries (cached by content: a re-run pays the model nothing), moving the cursor, the run's report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.runtime import task_run

from core.collection import CollectionWindow, Cursors
from core.models import DiscordMessage
from core.summaries import ChannelSummary, SummaryOptions, messages_digest, summaries_digest
from guildflow.settings import Settings
from integrations.errors import SourceError
from integrations.summariser import Summariser
from tasks import clients
from tasks.analyse import occupy_gemini_request_slots
from tasks.policy import RETRY_DELAYS, retry_unless_permanent

SUMMARY_REPORT_KEY = "channel-summary"
SUMMARY_CACHE_DAYS = 30


@task(
    name="read summary cursors",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def read_summary_cursors(settings: Settings, schedule: str, channel_ids: list[int]) -> Cursors:
    return clients.summary_cursors(settings).read(schedule, channel_ids)


@task(
    name="read channel messages",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
    task_run_name=lambda: f"read messages of {len(task_run.parameters['channel_ids'])} channel(s)",
)
def read_channel_messages(
    settings: Settings, channel_ids: list[int], window: CollectionWindow, cursors: Cursors
) -> list[DiscordMessage]:
    """The channels' messages in the window, oldest first, paged from the configured source."""
    source = clients.message_source(settings, channel_ids)
    wanted = set(channel_ids)
    messages = [message for message in source.read_messages(window, cursors) if message.channel_id in wanted]
    if settings.discord_backend == "export":
        _check_channels_exported(settings, channel_ids, messages, window)
    return messages


def _check_channels_exported(
    settings: Settings, channel_ids: list[int], messages: list[DiscordMessage], window: CollectionWindow
) -> None:
    """A channel with no message in the window may not be exported at all: say so rather than summarise nothing."""
    quiet = set(channel_ids) - {message.channel_id for message in messages}
    if not quiet:
        return
    everything = clients.message_source(settings).read_messages(CollectionWindow("since-last"), {})
    missing = sorted(quiet - {message.channel_id for message in everything})
    if missing:
        raise SourceError(
            f"channel(s) {', '.join(map(str, missing))} are in none of the Discord exports "
            f"({settings.discord_export}): export them with DiscordChatExporter, or check the channel ids"
        )


def _chunk_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    options: SummaryOptions = parameters["options"]
    digest = messages_digest(parameters["messages"])
    return f"summary-chunk-{parameters['summariser_version']}-{options.key()}-{digest}"


def _combine_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    options: SummaryOptions = parameters["options"]
    digest = summaries_digest(parameters["summaries"])
    return f"summary-combine-{parameters['summariser_version']}-{options.key()}-{digest}"


@task(
    name="summarise chunk",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_key_fn=_chunk_key,
    cache_expiration=timedelta(days=SUMMARY_CACHE_DAYS),
    persist_result=True,
    task_run_name=lambda: f"summarise {len(task_run.parameters['messages'])} messages",
)
def summarise_chunk(
    settings: Settings, messages: list[DiscordMessage], options: SummaryOptions, summariser_version: str
) -> ChannelSummary:
    """One model call (on a cache miss only: the key is the messages' content, the model and prompt, the options)."""
    return _summariser_for_one_request(settings).summarise(messages, options)


@task(
    name="combine summaries",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_key_fn=_combine_key,
    cache_expiration=timedelta(days=SUMMARY_CACHE_DAYS),
    persist_result=True,
    task_run_name=lambda: f"combine {len(task_run.parameters['summaries'])} summaries",
)
def combine_summaries(
    settings: Settings, summaries: list[ChannelSummary], options: SummaryOptions, summariser_version: str
) -> ChannelSummary:
    return _summariser_for_one_request(settings).combine(summaries, options)


def _summariser_for_one_request(settings: Settings) -> Summariser:
    """The summariser, with one request's slots of the Gemini rate limits taken when it is Gemini."""
    summariser = clients.summariser(settings)
    if settings.analyser_backend == "gemini":
        occupy_gemini_request_slots(settings)
    return summariser


@task(
    name="advance summary cursors",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def advance_summary_cursors(settings: Settings, schedule: str, cursors: Cursors) -> None:
    clients.summary_cursors(settings).advance(schedule, cursors)


@task(name="publish summary report", cache_policy=NO_CACHE, persist_result=False)
def publish_summary_report(markdown: str) -> None:
    create_markdown_artifact(
        key=SUMMARY_REPORT_KEY, markdown=markdown, description="The summary, its messages and where it went"
    )
