from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.runtime import task_run

from core.analysis import apply_analysis
from core.models import Analysis, AnalysisInput, Post
from core.report import AnalyseResult
from guildflow.settings import AnalysisMode, Settings
from tasks import clients
from tasks.policy import RETRY_DELAYS, retry_unless_permanent


def analysis_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same posts (links and text), same analyser version, same mode: same answer."""
    posts: list[AnalysisInput] = parameters["posts"]
    content = json.dumps([[post.post_link, post.content, post.x_handle] for post in posts])
    digest = hashlib.sha256(content.encode()).hexdigest()
    return f"analysis-{parameters['analyser_version']}-{parameters['mode']}-{digest}"


def analysis_run_name() -> str:
    return f"analyse {len(task_run.parameters['posts'])} posts"


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
    return clients.analyser(settings).analyse(posts, mode)


@task(name="find unanalysed posts", cache_policy=NO_CACHE, persist_result=False)
def unanalysed_posts(settings: Settings) -> list[Post]:
    return [post for post in clients.sheet(settings).read_posts() if not post.ai_processed]


@task(
    name="save analysis",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def save_analysis(settings: Settings, pending: list[Post], results: dict[str, Analysis]) -> AnalyseResult:
    """Write every answer back in one batch; posts without a usable answer stay unprocessed."""
    analysed = apply_analysis(pending, results)
    clients.sheet(settings).update_results(analysed)
    projects = sum(1 for post in analysed if post.ai_project)
    return AnalyseResult(len(analysed), projects, len(pending) - len(analysed))
