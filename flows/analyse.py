"""The analysis phase: each batch is its own task run, so its cached answer is kept even when a later
step fails, and a re-run pays the analyser only for posts it has not seen.

The daily pipeline runs the phase inside its own flow run (a subflow would cost a second flow run's
orchestration on every run); `analyse-posts` runs it on its own.

With Gemini, a batch the cache cannot answer first takes a slot of the per-minute and per-day rate
limits. When the daily quota is spent, no more batches are sent: what was answered is saved, the
rest waits for the next run, and GUILDFLOW_GEMINI_ON_QUOTA_EXHAUSTED says whether the phase fails."""

from __future__ import annotations

from prefect import flow

from core.analysis import analysis_input, batches
from core.models import Analysis
from core.report import AnalyseResult
from guildflow.logs import hide_tracebacks_of_user_errors
from guildflow.settings import Settings
from integrations.errors import AnalyserQuotaExhausted
from tasks import clients
from tasks.analyse import analyse_batch, ensure_gemini_rate_limits, save_analysis, unanalysed_posts

hide_tracebacks_of_user_errors()


def analyse_pending(settings: Settings) -> AnalyseResult:
    """Analyse every unprocessed post in batches and write the results back in one batch."""
    pending = unanalysed_posts(settings)
    version = clients.analyser(settings).version
    if settings.analyser_backend == "gemini":
        ensure_gemini_rate_limits(settings)
    results: dict[str, Analysis] = {}
    quota_spent: AnalyserQuotaExhausted | None = None
    for batch in batches([analysis_input(post) for post in pending], settings.analysis_batch_size):
        try:
            results.update(analyse_batch(batch, settings.analysis_mode, version, settings))
        except AnalyserQuotaExhausted as spent:
            quota_spent = spent
            break
    saved = save_analysis(settings, pending, results, quota_spent=str(quota_spent or ""))
    if quota_spent is not None and settings.gemini_on_quota_exhausted == "fail":
        raise AnalyserQuotaExhausted(
            f"{saved.summary()} ({quota_spent}); "
            "set GUILDFLOW_GEMINI_ON_QUOTA_EXHAUSTED=continue to finish the phase without them"
        )
    return saved


@flow(name="analyse-posts", persist_result=False)
def analyse_posts(settings: Settings) -> AnalyseResult:
    """Analyse every unprocessed post in batches and write the results back in one batch."""
    return analyse_pending(settings)
