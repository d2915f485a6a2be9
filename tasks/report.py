from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from core.report import PipelineReport

REPORT_ARTIFACT_KEY = "daily-pipeline-report"


@task(name="publish report", cache_policy=NO_CACHE, persist_result=False)
def publish_report(report: PipelineReport) -> None:
    create_markdown_artifact(
        key=REPORT_ARTIFACT_KEY,
        markdown=report.to_markdown(),
        description="What the daily pipeline collected, analysed, published and archived",
    )
