from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from core.archive import plan_archive
from core.report import ArchiveResult
from guildflow.settings import Settings
from tasks import clients
from tasks.policy import RETRY_DELAYS, retry_unless_permanent
from tasks.report import warn_about_unreadable_rows


@task(
    name="archive posts",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def archive_posts(settings: Settings, now: datetime) -> ArchiveResult:
    """Move finished rows to Archive: copy first, then delete, so a crash in between loses nothing.
    Rows that cannot be read stay where they are, untouched, and are reported."""
    sheet = clients.sheet(settings)
    read = sheet.read_posts()
    warn_about_unreadable_rows(read.skipped)
    plan = plan_archive(read.posts, sheet.archived_links())
    sheet.append_archive(plan.copy, processed_at=now)
    sheet.delete_posts(plan.delete)
    return ArchiveResult(len(plan.delete), tuple(read.skipped))
