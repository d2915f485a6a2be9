"""Retention: delete what guildflow made that is older than the retention (never a cursor or a ledger entry)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from prefect import flow

from bookkeeping.cleanup import playerdata_copy_folders, summary_folders
from core.retention import CleanupReport, validated_retention_days
from guildflow.logs import hide_tracebacks_of_user_errors
from guildflow.settings import default, load_settings
from tasks.cleanup import (
    clean_expired_cache_records,
    clean_flow_runs,
    clean_playerdata_copies,
    clean_summary_files,
    publish_cleanup_report,
)

hide_tracebacks_of_user_errors()


@flow(name="cleanup", log_prints=True, persist_result=False)
def cleanup(retention_days: int = default("retention_days"), dry_run: bool = False) -> CleanupReport:
    """Delete summary files in the folders of summary schedules, playerData copies beyond their keep count, flow
    runs (with their artifacts) of guildflow's deployments, all older than the retention, and expired cache records.
    Cursors and ledgers are never touched.

    Args:
        retention_days: Older than this many days is deleted (the deployment's default: GUILDFLOW_RETENTION_DAYS
            when it was deployed).
        dry_run: Only list what would be deleted.
    """
    days = validated_retention_days(retention_days)
    settings = load_settings()
    now = datetime.now(timezone.utc)
    cutoff = now - timedelta(days=days)
    report = CleanupReport(dry_run, days)
    report.add("summary files", clean_summary_files(summary_folders(), cutoff, dry_run))
    report.add(
        "playerData copies",
        clean_playerdata_copies(
            playerdata_copy_folders(), settings.playerdata_keep, settings.playerdata_keep_last_good, dry_run
        ),
    )
    runs, artifacts = clean_flow_runs(cutoff, dry_run)
    report.add("flow runs", runs)
    report.add("artifacts", artifacts)
    report.add("cache records", clean_expired_cache_records(now, dry_run))
    publish_cleanup_report(report)
    print(report.summary())
    return report
