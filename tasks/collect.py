from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from core.collection import advance_cursors, collection_window, dedupe_posts, posts_in_messages
from core.report import CollectResult
from guildflow.settings import Settings
from tasks import clients
from tasks.policy import RETRY_DELAYS, retry_unless_permanent
from tasks.report import warn_about_unreadable_rows


@task(
    name="collect posts",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def collect_posts(settings: Settings, now: datetime) -> CollectResult:
    """Read new Discord messages and append each post not seen before to the sheet, in one write."""
    source, sheet = clients.message_source(settings), clients.sheet(settings)
    cursors = sheet.read_cursors()
    window = collection_window(settings.collection_mode, settings.collection_lookback, now)
    messages = source.read_messages(window, cursors)
    known = sheet.known_status_ids()
    warn_about_unreadable_rows(known.skipped)
    found = dedupe_posts(posts_in_messages(messages, settings.include_bot_messages), known.ids)
    sheet.append_posts(found.new, advance_cursors(cursors, messages))
    return CollectResult(len(messages), len(found.new), found.duplicates, tuple(known.skipped))
