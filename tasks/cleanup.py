"""The steps of a cleanup, one per kind of thing it deletes; each lists what it deleted (or, dry, would delete)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH

from bookkeeping.cleanup import artifacts_of, delete_flow_runs, old_flow_runs
from core.delivery import message_files_older_than
from core.retention import CleanupReport, expired_cache_record
from tasks.playerdata import surplus_copies

CLEANUP_REPORT_KEY = "cleanup"


@task(name="clean summary files", cache_policy=NO_CACHE, persist_result=False)
def clean_summary_files(folders: list[Path], cutoff: datetime, dry_run: bool) -> list[str]:
    """Summary files (and their attachments) delivered to file: folders before cutoff; other files stay."""
    doomed = [
        folder / name
        for folder in folders
        if folder.is_dir()
        for name in message_files_older_than((path.name for path in folder.iterdir()), cutoff)
    ]
    return _delete(doomed, dry_run)


@task(name="clean playerData copies", cache_policy=NO_CACHE, persist_result=False)
def clean_playerdata_copies(folders: list[Path], keep: int, keep_last_good: bool, dry_run: bool) -> list[str]:
    """Copies beyond GUILDFLOW_PLAYERDATA_KEEP per guild, sparing the last known good one."""
    doomed = [path for folder in folders if folder.is_dir() for path in surplus_copies(folder, keep, keep_last_good)]
    return _delete(doomed, dry_run)


@task(name="clean flow runs", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE, persist_result=False)
def clean_flow_runs(cutoff: datetime, dry_run: bool) -> tuple[list[str], list[str]]:
    """Finished runs of guildflow's deployments that ended before cutoff, and their artifacts (ids)."""
    runs = old_flow_runs(cutoff)
    names = [f"{run.name} ({run.state_name}, ended {run.end_time:%Y-%m-%d %H:%M} UTC)" for run in runs]
    artifacts = artifacts_of(runs) if dry_run else delete_flow_runs(runs)
    return names, [str(artifact) for artifact in artifacts]


@task(name="clean cache records", cache_policy=NO_CACHE, persist_result=False)
def clean_expired_cache_records(now: datetime, dry_run: bool) -> list[str]:
    """Prefect result records in the local result storage whose cache expiration has passed."""
    storage = Path(PREFECT_RESULTS_LOCAL_STORAGE_PATH.value()).expanduser()
    if not storage.is_dir():
        return []
    doomed = [path for path in storage.iterdir() if path.is_file() and expired_cache_record(_head(path), now)]
    return _delete(doomed, dry_run)


@task(name="publish cleanup report", cache_policy=NO_CACHE, persist_result=False)
def publish_cleanup_report(report: CleanupReport) -> None:
    create_markdown_artifact(
        key=CLEANUP_REPORT_KEY, markdown=report.to_markdown(), description="What the cleanup deleted"
    )


def _head(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _delete(paths: list[Path], dry_run: bool) -> list[str]:
    if not dry_run:
        for path in paths:
            path.unlink(missing_ok=True)
    return [str(path) for path in paths]
