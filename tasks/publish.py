from __future__ import annotations

from dataclasses import replace
from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from core.draft import Draft, build_daily_draft
from core.report import PublishResult
from guildflow.settings import Settings
from tasks import clients
from tasks.policy import RETRY_DELAYS, retry_unless_permanent


@task(
    name="write draft",
    retries=2,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def write_draft(settings: Settings, day: date) -> Draft | None:
    """Draft the daily post from analysed projects not yet published, and note it on their rows.

    A draft whose publishing began and did not finish (half a thread is out) is finished first, as
    it was. Rows whose link the ledger shows as published (a run that crashed after publishing) get
    that receipt instead of a place in a new draft.
    """
    sheet, ledger = clients.sheet(settings), clients.publish_ledger(settings)
    unfinished = ledger.unfinished_draft()
    if unfinished is not None:
        get_run_logger().warning("finishing draft %s, whose publishing was interrupted", unfinished.id)
        return unfinished
    waiting = [post for post in sheet.read_posts().posts if post.ai_project and not post.publication_receipt]
    published = ledger.receipts_for_links([post.post_link for post in waiting])
    reconciled = [
        replace(post, publication_receipt=published[post.post_link]) for post in waiting if post.post_link in published
    ]
    unpublished = [post for post in waiting if post.post_link not in published]
    draft = build_daily_draft(unpublished, day)
    drafted = [replace(post, daily_post_draft=draft.text) for post in unpublished] if draft else []
    sheet.update_results(reconciled + drafted)
    return draft


@task(
    name="publish draft",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def publish_draft(settings: Settings, draft: Draft) -> PublishResult:
    """Publish once: the ledger is checked before and written right after the publisher is called."""
    sheet, ledger = clients.sheet(settings), clients.publish_ledger(settings)
    receipt = ledger.receipt_for(draft)
    already_published = receipt is not None
    if receipt is None:
        ledger.begin(draft)
        receipt = clients.publisher(settings).publish(draft, ledger.progress_for(draft))
        ledger.record(draft, receipt)
    covered = set(draft.post_links)
    sheet.update_results(
        [replace(post, publication_receipt=receipt) for post in sheet.read_posts().posts if post.post_link in covered]
    )
    return PublishResult(receipt, already_published)
