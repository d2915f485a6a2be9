"""The analysis phase, a subflow: each batch is its own task run, so its cached answer is kept
even when a later step fails, and a re-run pays the analyser only for posts it has not seen."""

from __future__ import annotations

from prefect import flow

from core.analysis import analysis_input, batches
from core.models import Analysis
from core.report import AnalyseResult
from guildflow.settings import Settings
from tasks import clients
from tasks.analyse import analyse_batch, save_analysis, unanalysed_posts


@flow(name="analyse-posts", persist_result=False)
def analyse_posts(settings: Settings) -> AnalyseResult:
    """Analyse every unprocessed post in batches and write the results back in one batch."""
    pending = unanalysed_posts(settings)
    version = clients.analyser(settings).version
    results: dict[str, Analysis] = {}
    for batch in batches([analysis_input(post) for post in pending], settings.analysis_batch_size):
        results.update(analyse_batch(batch, settings.analysis_mode, version, settings))
    return save_analysis(settings, pending, results)
