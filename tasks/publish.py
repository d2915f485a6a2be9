from __future__ import annotations

import os
import socket
from contextlib import suppress
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from core.draft import BudgetSpent, Draft, build_daily_draft, tweets_left_today, x_cost
from core.report import PublishResult
from guildflow.settings import Settings
from integrations.errors import PublishError
from integrations.ledger import PublishLedger
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
def write_draft(settings: Settings, day: date) -> Draft | BudgetSpent | None:
    """Draft the daily post from analysed projects not yet published, and note it on their rows.

    A draft whose publishing began and did not finish (half a thread is out) is finished first, as
    it was. Rows whose link the ledger shows as published (a run that crashed after publishing) get
    that receipt instead of a place in a new draft. The tweet budget is per day (in GUILDFLOW_TIMEZONE):
    a later run on the same day drafts only within what is left of it.
    """
    sheet, ledger = clients.sheet(settings), clients.publish_ledger(settings)
    unfinished = ledger.unfinished_draft()
    if unfinished is not None:
        get_run_logger().warning(
            "finishing draft %s, begun and not yet published, before drafting new projects", unfinished.id
        )
        return unfinished
    waiting = [post for post in sheet.read_posts().posts if post.ai_project and not post.publication_receipt]
    published = ledger.receipts_for_links([post.post_link for post in waiting])
    reconciled = [
        replace(post, publication_receipt=published[post.post_link]) for post in waiting if post.post_link in published
    ]
    unpublished = [post for post in waiting if post.post_link not in published]
    # Projects beyond the tweet budget are not in the draft: they wait, unmarked, for a later day's post.
    day_began = datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.timezone))
    tweets_today = ledger.tweets_published_since(day_began)
    tweets_left = tweets_left_today(settings.daily_post_max_tweets, tweets_today)
    if not tweets_left and unpublished:
        sheet.update_results(reconciled)
        return BudgetSpent(tweets_today, len(unpublished))
    draft = build_daily_draft(unpublished, day, tweets_left)
    covered = set(draft.post_links) if draft else set()
    drafted = [
        replace(post, daily_post_draft=draft.text) for post in unpublished if draft and post.post_link in covered
    ]
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
    """Publish once, even when runs overlap: the run that claims the draft in the ledger publishes it and
    records the receipt. A run that finds it claimed by another waits up to GUILDFLOW_PUBLISH_WAIT_SECONDS
    for that receipt, then leaves the draft to that run: this step then succeeds and says so."""
    sheet, ledger = clients.sheet(settings), clients.publish_ledger(settings)
    claimant = _claimant()
    claim = ledger.claim(draft, claimant, wait_seconds=settings.publish_wait_seconds)
    if claim.refusal:
        return PublishResult("", not_published=claim.refusal)
    receipt = claim.receipt or _publish_claimed(settings, ledger, draft, claimant)
    covered = set(draft.post_links)
    sheet.update_results(
        [replace(post, publication_receipt=receipt) for post in sheet.read_posts().posts if post.post_link in covered]
    )
    if claim.receipt is not None:
        return PublishResult(receipt, already_published=True)
    paid = settings.publisher_backend == "x"  # Typefully and the outbox do not post through our X account
    return PublishResult(receipt, tweets=len(draft.tweets), x_cost_usd=x_cost(draft.tweets) if paid else 0.0)


def _publish_claimed(settings: Settings, ledger: PublishLedger, draft: Draft, claimant: str) -> str:
    try:
        receipt = clients.publisher(settings).publish(draft, ledger.progress_for(draft))
        ledger.record(draft, receipt)
    except BaseException:
        # The next run may take over at once (the recorded parts make that safe) instead of after the lease;
        # if the ledger cannot be reached to say so, the lease frees the draft all the same.
        with suppress(PublishError):
            ledger.release(draft, claimant)
        raise
    return receipt


def _claimant() -> str:
    """Who is publishing: this flow run (a retry of its task is the same claimant), else this process."""
    if flow_run.id:
        return f"flow run {flow_run.name} ({flow_run.id})"
    return f"process {os.getpid()} on {socket.gethostname()}"
