from __future__ import annotations

from collections.abc import Iterable

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from core.report import PipelineReport
from core.sheet import SkippedRow

REPORT_ARTIFACT_KEY = "daily-pipeline-report"


@task(name="publish report", cache_policy=NO_CACHE, persist_result=False)
def publish_report(report: PipelineReport) -> None:
    create_markdown_artifact(
        key=REPORT_ARTIFACT_KEY,
        markdown=report.to_markdown(),
        description="What the daily pipeline collected, analysed, published and archived",
    )


def warn_about_unreadable_rows(rows: Iterable[SkippedRow]) -> None:
    """One warning per row a task skipped: every run names them until someone fixes them."""
    for row in rows:  # the run's logger only when there is something to say: collect_posts.fn runs without a run
        get_run_logger().warning("left alone, unreadable: %s", row.describe())
