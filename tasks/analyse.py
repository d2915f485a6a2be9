from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from prefect import get_client, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.runtime import task_run
from prefect.transactions import get_transaction

from core.analysis import apply_analysis
from core.models import Analysis, AnalysisInput, Post
from core.report import AnalyseResult
from guildflow.settings import AnalysisMode, Settings
from integrations.errors import AnalyserQuotaExhausted
from tasks import clients
from tasks.policy import RETRY_DELAYS, retry_unless_permanent
from tasks.rate_limits import take_slot

# Prefect global concurrency limits used as rate limits (slots decay at limit per period).
GEMINI_PER_MINUTE_LIMIT = "gemini-requests-per-minute"
GEMINI_PER_DAY_LIMIT = "gemini-requests-per-day"


def analysis_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same posts (links and text), same analyser version, same mode: same answer."""
    posts: list[AnalysisInput] = parameters["posts"]
    content = json.dumps([[post.post_link, post.content, post.x_handle] for post in posts])
    digest = hashlib.sha256(content.encode()).hexdigest()
    return f"analysis-{parameters['analyser_version']}-{parameters['mode']}-{digest}"


def analysis_run_name() -> str:
    return f"analyse {len(task_run.parameters['posts'])} posts"


@task(name="ensure gemini rate limits", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE, persist_result=False)
def ensure_gemini_rate_limits(settings: Settings) -> None:
    """Create or update the per-minute and per-day limits from the settings (same values: no change)."""
    per_minute, per_day = settings.gemini_requests_per_minute, settings.gemini_requests_per_day
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(GEMINI_PER_MINUTE_LIMIT, per_minute, per_minute / 60)
        client.upsert_global_concurrency_limit_by_name(GEMINI_PER_DAY_LIMIT, per_day, per_day / 86400)


@task(
    name="analyse batch",
    task_run_name=analysis_run_name,
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_key_fn=analysis_cache_key,
    cache_expiration=timedelta(days=30),
    persist_result=True,
)
def analyse_batch(
    posts: list[AnalysisInput], mode: AnalysisMode, analyser_version: str, settings: Settings
) -> dict[str, Analysis]:
    """Ask the analyser about one batch. The body runs only on a cache miss, so only a miss spends quota."""
    analyser = clients.analyser(settings)
    if settings.analyser_backend == "gemini":
        occupy_gemini_request_slots(settings)
    results = analyser.analyse(posts, mode)
    if any(analysis.error for analysis in results.values()):
        _keep_out_of_cache()
    return results


def occupy_gemini_request_slots(settings: Settings) -> None:
    """A slot of the per-day limit if one is free now (else the budget is spent), then one of the
    per-minute limit, waiting as long as its rate needs."""
    if not take_slot(GEMINI_PER_DAY_LIMIT, wait=False):
        raise AnalyserQuotaExhausted(
            f"the daily budget of {settings.gemini_requests_per_day} Gemini requests "
            "(GUILDFLOW_GEMINI_REQUESTS_PER_DAY) is spent"
        )
    take_slot(GEMINI_PER_MINUTE_LIMIT, wait=True)


def _keep_out_of_cache() -> None:
    """An answer with unusable parts is not cached: the same batch next run asks the model again."""
    transaction = get_transaction()
    if transaction is not None:
        transaction.write_on_commit = False


@task(name="find unanalysed posts", cache_policy=NO_CACHE, persist_result=False)
def unanalysed_posts(settings: Settings) -> list[Post]:
    # Unreadable rows are named by the collect and archive phases of the same run.
    return [post for post in clients.sheet(settings).read_posts().posts if not post.ai_processed]


@task(
    name="save analysis",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def save_analysis(
    settings: Settings, pending: list[Post], results: dict[str, Analysis], quota_spent: str = ""
) -> AnalyseResult:
    """Write every answer back in one batch; posts without a usable answer stay unprocessed.

    quota_spent: why the posts without an answer were not sent (the daily quota), or "".
    """
    analysed = apply_analysis(pending, results)
    clients.sheet(settings).update_results(analysed)
    done = {post.post_link for post in analysed}
    logger = get_run_logger()
    for post in pending:
        if post.post_link not in done:
            answer = results.get(post.post_link)
            reason = answer.error if answer is not None else quota_spent or "not analysed"
            logger.warning("left unprocessed: %s (%s)", post.post_link, reason)
    projects = sum(1 for post in analysed if post.ai_project)
    left = len(pending) - len(analysed)
    if quota_spent:
        waiting = len(pending) - len(results)
        return AnalyseResult(
            len(analysed), projects, left, note=f"daily Gemini quota spent: {waiting} posts wait for the next run"
        )
    return AnalyseResult(len(analysed), projects, left)
