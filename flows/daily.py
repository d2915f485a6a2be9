"""The daily pipeline: collect -> analyse -> draft -> publish -> archive, then report."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from prefect.states import Cancelled, Completed, Failed, State

from bookkeeping.pauses import pause_after_failures
from core.draft import Draft
from core.report import PhaseOutcome, PipelineFailed, PipelineReport
from flows.analyse import analyse_pending
from guildflow.logs import hide_tracebacks_of_user_errors
from guildflow.settings import AnalysisMode, CollectionMode, Settings, default, load_settings
from tasks.archive import archive_posts
from tasks.collect import collect_posts
from tasks.operations import superseded_reason
from tasks.publish import publish_draft, write_draft
from tasks.report import publish_report

hide_tracebacks_of_user_errors()


@flow(
    name="daily-pipeline",
    log_prints=True,
    persist_result=False,
    on_failure=[pause_after_failures()],
    on_crashed=[pause_after_failures()],
)
def daily_pipeline(
    analysis_mode: AnalysisMode = default("analysis_mode"),
    collection_mode: CollectionMode = default("collection_mode"),
    lookback: int = default("collection_lookback"),
) -> PipelineReport | State:
    """Collect X links posted in Discord into the sheet, analyse them, publish the daily draft
    once and archive finished rows.

    A failed phase does not stop later phases that can still run safely; the run then ends Failed.
    A deployed run that a later due run supersedes (after an outage) ends Cancelled without working.

    The deployment's defaults are GUILDFLOW_ANALYSIS_MODE, GUILDFLOW_COLLECTION_MODE and
    GUILDFLOW_COLLECTION_LOOKBACK as they were when it was deployed.

    Args:
        analysis_mode: summary (1-2 sentences per post) or keywords (3-5 words per post).
        collection_mode: since-last (every message after the last one collected), or hours / days
            (the last `lookback` hours or days, e.g. to re-read a period).
        lookback: How many hours or days the hours / days modes read (1 to 8760).
    """
    started, now = time.monotonic(), datetime.now(timezone.utc)
    settings = load_settings(analysis_mode=analysis_mode, collection_mode=collection_mode, collection_lookback=lookback)
    if reason := superseded_reason(settings.timezone):
        return Cancelled(message=reason)

    collected = collect_posts(settings, now, return_state=True)
    analysed = _phase_state(analyse_pending, settings)
    drafted = write_draft(settings, now.astimezone(ZoneInfo(settings.timezone)).date(), return_state=True)
    draft = drafted.result() if drafted.is_completed() else None
    published = publish_draft(settings, draft, return_state=True) if isinstance(draft, Draft) else None
    archived = archive_posts(settings, now, return_state=True)

    report = PipelineReport(
        phases=[
            _outcome("collect", collected),
            _outcome("analyse", analysed),
            _outcome("draft", drafted, none_means="no new projects to draft"),
            _outcome("publish", published, none_means="nothing to publish"),
            _outcome("archive", archived),
        ]
    )
    report.fill_from(
        collected=_value(collected), analysed=_value(analysed), published=_value(published), archived=_value(archived)
    )
    report.runtime_seconds = time.monotonic() - started
    publish_report(report)
    print(report.to_markdown())
    if report.failed_phases:
        raise PipelineFailed(report)
    return report


def _phase_state(phase: Callable[[Settings], Any], settings: Settings) -> State:
    """Run a phase made of several tasks in this flow run; what it returns or raises as a task's state would be."""
    try:
        return Completed(data=phase(settings))
    except Exception as error:
        get_run_logger().error("%s failed: %s", phase.__name__, error)
        return Failed(data=error, message=str(error))


def _value(state: State | None) -> Any:
    return state.result() if state is not None and state.is_completed() else None


def _outcome(name: str, state: State | None, none_means: str = "skipped") -> PhaseOutcome:
    if state is None:
        return PhaseOutcome(name, ok=True, detail=none_means)
    if not state.is_completed():
        error = state.result(raise_on_failure=False)
        return PhaseOutcome(
            name, ok=False, detail=str(error) if isinstance(error, BaseException) else state.message or ""
        )
    value = state.result()
    return PhaseOutcome(name, ok=True, detail=value.summary() if value is not None else none_means)
