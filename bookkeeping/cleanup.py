"""The Prefect side of cleanup: flow runs of guildflow's deployments that finished before a cutoff, with their
artifacts; and the folders guildflow's schedules write into (file destinations of summaries, playerData copy
folders), which the cleanup flow prunes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from uuid import UUID

from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    DeploymentFilter,
    DeploymentFilterTags,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort

from bookkeeping.filters import ended_before
from bookkeeping.schedules import GUILDFLOW_TAG, PAGE, read_all
from core.delivery import Destination, DestinationError
from core.summaries import FLOW_NAME as SUMMARY_FLOW

FINISHED = [StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED]
PLAYERDATA_FLOW = "playerdata-export"


def old_flow_runs(cutoff: datetime) -> list[FlowRun]:
    """Finished runs of guildflow's deployments (tagged guildflow) that ended before cutoff, oldest first."""
    with get_client(sync_client=True) as client:
        return _old_flow_runs(client, cutoff)


def delete_flow_runs(runs: list[FlowRun]) -> list[UUID]:
    """Delete the runs and their artifacts; returns the artifacts that went with them."""
    with get_client(sync_client=True) as client:
        artifacts = _artifacts_of(client, [run.id for run in runs])
        for artifact_id in artifacts:
            client.delete_artifact(artifact_id)
        for run in runs:
            client.delete_flow_run(run.id)
    return artifacts


def artifacts_of(runs: list[FlowRun]) -> list[UUID]:
    with get_client(sync_client=True) as client:
        return _artifacts_of(client, [run.id for run in runs])


def summary_folders() -> list[Path]:
    """The folders of file: destinations of summary schedules."""
    with get_client(sync_client=True) as client:
        schedules = read_all(client, target=SUMMARY_FLOW)
    folders: dict[Path, None] = {}
    for schedule in schedules:
        for text in schedule.definition.destinations:
            try:
                destination = Destination.parse(text)
            except DestinationError:
                continue  # its runs say what is wrong with it
            if destination.kind == "file":
                folders.setdefault(Path(destination.target), None)
    return list(folders)


def playerdata_copy_folders() -> list[Path]:
    """The copy folders (copy_to) of playerData export schedules."""
    with get_client(sync_client=True) as client:
        schedules = read_all(client, target=PLAYERDATA_FLOW)
    folders = [schedule.definition.parameters.get("copy_to") for schedule in schedules]
    return list(dict.fromkeys(Path(folder) for folder in folders if isinstance(folder, str) and folder))


def _old_flow_runs(client: SyncPrefectClient, cutoff: datetime) -> list[FlowRun]:
    runs: list[FlowRun] = []
    while True:
        page = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=FINISHED)),
                end_time=ended_before(cutoff),
            ),
            deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[GUILDFLOW_TAG])),
            sort=FlowRunSort.END_TIME_DESC,
            limit=PAGE,
            offset=len(runs),
        )
        runs += page
        if len(page) < PAGE:
            return runs[::-1]


def _artifacts_of(client: SyncPrefectClient, run_ids: list[UUID]) -> list[UUID]:
    found: list[UUID] = []
    for start in range(0, len(run_ids), PAGE):
        ids = run_ids[start : start + PAGE]
        offset = 0
        while True:
            page = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)),
                limit=PAGE,
                offset=offset,
            )
            found += [artifact.id for artifact in page]
            offset += len(page)
            if len(page) < PAGE:
                break
    return found
