from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from core.archive import plan_archive
from core.report import ArchiveResult
from guildflow.settings import Settings
from tasks import clients
from tasks.policy import RETRY_DELAYS, retry_unless_permanent


@task(
    name="archive posts",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def archive_posts(settings: Settings, now: datetime) -> ArchiveResult:
    """Move finished rows to Archive: copy first, then delete, so a crash in between loses nothing."""
    sheet = clients.sheet(settings)
    plan = plan_archive(sheet.read_posts(), sheet.archived_links())
    sheet.append_archive(plan.copy, processed_at=now)
    sheet.delete_posts(plan.delete)
    return ArchiveResult(len(plan.delete))
