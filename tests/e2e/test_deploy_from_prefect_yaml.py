"""End to end: a real Prefect server, `prefect deploy --all` from prefect.yaml, a process worker, one run.

Everything runs on 127.0.0.1 with a throwaway PREFECT_HOME (SQLite inside it) and throwaway GUILDFLOW_*
paths (see prefect_server.py); failures quote the tail of the server and worker logs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import REPO
from tests.e2e.prefect_server import FINAL_STATES, PrefectStack, Service, running_server, tail, wait_until

POOL = "guildflow"
FLOW_NAME, DEPLOYMENT_NAME = "daily-pipeline", "daily"
SCHEDULE_SLUG = "daily-pipeline-daily"
CRON, TIMEZONE = "0 20 * * *", "Europe/Berlin"
REPORT_ARTIFACT_KEY = "daily-pipeline-report"
PHASES = ["collect posts", "save analysis", "write draft", "publish draft", "archive posts"]

FLOW_RUN_FINAL_WITHIN = 180  # s
SCHEDULED_RUNS_WITHIN = 60  # s; the scheduler looks at recently changed deployments every few seconds


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectStack]:
    """A real `prefect server start` on a free port with its own PREFECT_HOME (SQLite), healthy."""
    with running_server(tmp_path_factory.mktemp("e2e")) as stack:
        yield stack


@pytest.fixture(scope="module")
def deployed(stack: PrefectStack) -> str:
    """The work pool, then `prefect --no-prompt deploy --all` from the repo root; returns the deploy output."""
    return stack.deploy(POOL, extra_env={"GUILDFLOW_SCHEDULE_CRON": CRON, "GUILDFLOW_TIMEZONE": TIMEZONE})


@pytest.fixture(scope="module")
def worker(stack: PrefectStack, deployed: str) -> Service:
    """`prefect worker start --pool guildflow --name worker`, polling every 2 s, with the tmp GUILDFLOW_* paths."""
    return stack.start_worker("worker", POOL)


# --- API reads -----------------------------------------------------------------------------------


def read_deployment(api: httpx.Client) -> dict[str, Any]:
    response = api.get(f"/deployments/name/{FLOW_NAME}/{DEPLOYMENT_NAME}")
    response.raise_for_status()
    return response.json()


def flow_run_logs(api: httpx.Client, flow_run_id: str) -> str:
    try:
        response = api.post(
            "/logs/filter",
            json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 200},
        )
        response.raise_for_status()
    except httpx.HTTPError as error:
        return f"(could not read the flow run logs: {error!r})"
    return "--- flow run logs ---\n" + tail("\n".join(entry["message"] for entry in response.json()), 60)


def task_runs(api: httpx.Client, flow_run_id: str) -> list[dict[str, Any]]:
    response = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [flow_run_id]}}})
    response.raise_for_status()
    return response.json()


def task_run_for(runs: list[dict[str, Any]], phase: str) -> dict[str, Any] | None:
    """The run of a phase's task ("collect posts-3f2"): match the name before the suffix, hyphens as spaces."""
    return next((run for run in runs if run["name"].rsplit("-", 1)[0].replace("-", " ") == phase), None)


# --- tests ---------------------------------------------------------------------------------------


def test_deploy_registers_the_daily_deployment_from_settings(
    api: httpx.Client, deployed: str, stack: PrefectStack
) -> None:
    deployment = read_deployment(api)
    context = f"deployment as registered: {deployment}\n--- deploy output ---\n{tail(deployed)}"

    assert deployment["work_pool_name"] == POOL, context
    assert deployment["entrypoint"] == "flows/daily.py:daily_pipeline", context

    schedules = deployment["schedules"]
    assert len(schedules) == 1, context
    (schedule,) = schedules
    assert schedule["slug"] == SCHEDULE_SLUG, context
    assert schedule["active"], context
    assert schedule["schedule"]["cron"] == CRON, context
    assert schedule["schedule"]["timezone"] == TIMEZONE, context

    # the run form's defaults: the settings at deploy time, typed (the lookback stays a number)
    assert deployment["parameters"] == {"analysis_mode": "summary", "collection_mode": "since-last", "lookback": 24}
    assert set(deployment["parameter_openapi_schema"]["properties"]) == set(deployment["parameters"]), context

    limit = deployment["global_concurrency_limit"]
    assert limit is not None and limit["limit"] == 1, context
    assert (deployment["concurrency_options"] or {}).get("collision_strategy") == "ENQUEUE", context

    pull_steps = deployment["pull_steps"] or []
    directories = [
        step["prefect.deployments.steps.set_working_directory"]["directory"]
        for step in pull_steps
        if "prefect.deployments.steps.set_working_directory" in step
    ]
    assert directories == [str(REPO)], context


def test_a_manual_run_completes_on_the_worker(api: httpx.Client, stack: PrefectStack, worker: Service) -> None:
    output = stack.cli("deployment", "run", f"{FLOW_NAME}/{DEPLOYMENT_NAME}")
    match = re.search(r"UUID:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", output)
    assert match, f"no flow run id in `prefect deployment run` output:\n{output}"
    flow_run_id = match.group(1)

    def diagnostics() -> str:
        return f"{flow_run_logs(api, flow_run_id)}\n{stack.diagnostics()}"

    def final_flow_run() -> dict[str, Any] | None:
        worker.check_alive()
        response = api.get(f"/flow_runs/{flow_run_id}")
        response.raise_for_status()
        run = response.json()
        return run if run["state_type"] in FINAL_STATES else None

    started = time.monotonic()
    flow_run = wait_until(
        final_flow_run, FLOW_RUN_FINAL_WITHIN, f"flow run {flow_run_id} to finish", stack.server, diagnostics
    )
    print(f"\nflow run {flow_run['name']} {flow_run['state_type']} {time.monotonic() - started:.1f} s after submission")
    assert flow_run["state_type"] == "COMPLETED", (
        f"flow run ended {flow_run['state_name']}: {flow_run['state']['message']}\n{diagnostics()}"
    )

    # Task runs reach the database through the task run recorder, possibly after the flow run ended.
    seen: list[dict[str, Any]] = []

    def phases_completed() -> bool:
        seen[:] = task_runs(api, flow_run_id)
        found = [task_run_for(seen, phase) for phase in PHASES]
        return all(run is not None and run["state_type"] == "COMPLETED" for run in found)

    wait_until(
        phases_completed,
        30,
        f"completed runs of the phases {PHASES}",
        stack.server,
        lambda: "task runs seen: " + ", ".join(f"{run['name']} ({run['state_type']})" for run in seen),
    )

    response = api.post(
        "/artifacts/filter",
        json={"artifacts": {"key": {"any_": [REPORT_ARTIFACT_KEY]}, "flow_run_id": {"any_": [flow_run_id]}}},
    )
    response.raise_for_status()
    artifacts = response.json()
    assert len(artifacts) == 1, f"artifacts with key {REPORT_ARTIFACT_KEY}: {artifacts}\n{diagnostics()}"
    assert artifacts[0]["type"] == "markdown", artifacts[0]
    assert "new posts" in artifacts[0]["data"], artifacts[0]["data"]

    outbox = Path(stack.guildflow_env["GUILDFLOW_OUTBOX"])
    published = sorted(outbox.glob("*.json"))
    assert len(published) == 1, f"outbox {outbox} holds {published}\n{artifacts[0]['data']}\n{diagnostics()}"
    assert Path(stack.guildflow_env["GUILDFLOW_WORKBOOK"]).is_file(), diagnostics()


def test_the_schedule_creates_upcoming_runs_at_20_berlin_time(
    api: httpx.Client, deployed: str, stack: PrefectStack
) -> None:
    """The server's scheduler turns the deployed cron into scheduled flow runs at 20:00 local time."""
    deployment_id = read_deployment(api)["id"]

    def scheduled_runs() -> list[dict[str, Any]]:
        response = api.post(
            "/flow_runs/filter",
            json={
                "deployments": {"id": {"any_": [deployment_id]}},
                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                "sort": "EXPECTED_START_TIME_ASC",
            },
        )
        response.raise_for_status()
        return [run for run in response.json() if run["auto_scheduled"]]

    runs = wait_until(
        scheduled_runs,
        SCHEDULED_RUNS_WITHIN,
        f"scheduled runs of {FLOW_NAME}/{DEPLOYMENT_NAME}",
        stack.server,
        stack.diagnostics,
    )
    local_starts = [datetime.fromisoformat(run["expected_start_time"]).astimezone(ZoneInfo(TIMEZONE)) for run in runs]
    assert all((start.hour, start.minute) == (20, 0) for start in local_starts), local_starts
