"""End to end: one-off jobs on a real Prefect server (SQLite) deployed from prefect.yaml, with a process worker.
Jobs are made with `guildflow job schedule` a few seconds ahead, delivered to file: folders, and every wait polls
the server's run states.

- with a worker: three reminders and then the job fire in order; a job cancelled before its reminders and one
  cancelled between them never deliver what was cancelled; the same command twice is one job;
- without a worker: jobs survive a server restart and `prefect deploy --all` exactly once; when a worker comes back
  an overdue job runs once and says how late it is, and its past reminders are skipped with the reason; a job due
  after the worker restart runs on time with its reminders.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.e2e.prefect_server import (
    PREFECT,
    PrefectStack,
    running_server,
    start_service,
    stop_service,
    tail,
    wait_until,
)

POOL = "guildflow"
GUILDFLOW = str(Path(sys.executable).parent / "guildflow")
# The reminder grace of the worker that comes back to overdue jobs: its reminders are past it by then (Prefect marks
# a run Late 15 s after its time; the test starts that worker once all are Late). The first worker has the default.
GRACE_SECONDS = 12
FIRES_WITHIN = 180  # s


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectStack]:
    with running_server(tmp_path_factory.mktemp("e2e-jobs")) as stack:
        stack.guildflow_env["GUILDFLOW_DELIVERY_LEDGER"] = str(stack.logs.parent / "guildflow" / "deliveries.sqlite")
        stack.deploy(POOL)
        yield stack
        stop_service(stack.server)  # a restarted one (running_server stops the first)


def guildflow(stack: PrefectStack, *args: str) -> str:
    result = subprocess.run(
        [GUILDFLOW, *args],
        env={**stack.env, **stack.guildflow_env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"`guildflow {' '.join(args)}` exited {result.returncode}:\n{tail(output)}"
    return output


def schedule(stack: PrefectStack, folder: Path, text: str, run_in: str, reminders: str) -> str:
    """`guildflow job schedule post-message`, delivering to folder; the job id."""
    output = guildflow(stack, "job", "schedule", "post-message", "--in", run_in, "--reminders", reminders,
                       "--payload", json.dumps({"text": text}), "--to", f"file:{folder}:json")  # fmt: skip
    found = re.search(r"job ([0-9a-f]{12}) ", output)
    assert found, output
    return found[1]


def runs_of(api: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    """The job's runs, reminders first (by expected start), the job's run last."""
    response = api.post(
        "/flow_runs/filter",
        json={"flow_runs": {"tags": {"all_": [f"job:{job_id}"]}}, "sort": "EXPECTED_START_TIME_ASC"},
    )
    response.raise_for_status()
    return response.json()


def states(api: httpx.Client, job_id: str) -> list[str]:
    return [run["state"]["name"] for run in runs_of(api, job_id)]


def delivered(folder: Path) -> list[dict[str, Any]]:
    """What was delivered to a folder, in the order it was delivered."""
    documents = [json.loads(path.read_text()) for path in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(documents, key=lambda document: document["delivered_at"])


def finished(api: httpx.Client, job_id: str, count: int) -> list[dict[str, Any]] | None:
    runs = runs_of(api, job_id)
    done = len(runs) == count and all(run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
                                      for run in runs)  # fmt: skip
    return runs if done else None


def restart_server(stack: PrefectStack) -> None:
    """Stop the server and start it again on the same port and database."""
    stop_service(stack.server)
    port = stack.api_url.rsplit(":", 1)[1].split("/")[0]
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port]
    stack.server = start_service(f"server-{time.monotonic_ns()}", command, stack.env, stack.logs)

    def healthy() -> bool:
        stack.server.check_alive()
        return httpx.get(f"{stack.api_url}/health", timeout=5).status_code == 200

    wait_until(healthy, 120, "the restarted Prefect server to be healthy", stack.server, stack.diagnostics)


def test_reminders_fire_in_order_and_cancelling_is_final(stack: PrefectStack, api: httpx.Client) -> None:
    worker = stack.start_worker("worker-1", POOL)
    root = stack.logs.parent / "jobs-1"
    fired, before, between = root / "fired", root / "before", root / "between"
    job = schedule(stack, fired, "round 1 results", "60s", "45s,30s,15s")
    again = guildflow(stack, "job", "schedule", "post-message", "--in", "60s", "--reminders", "45s,30s,15s",
                      "--payload", '{"text": "round 1 results"}', "--to", f"file:{fired}:json")  # fmt: skip
    assert f"job {job} already scheduled (nothing new made)" in again, again
    cancelled_before = schedule(stack, before, "never", "120s", "60s")
    guildflow(stack, "job", "cancel", cancelled_before)
    cancelled_between = schedule(stack, between, "never either", "120s", "105s,30s")

    def first_reminder_delivered() -> bool:
        return len(delivered(between)) == 1

    wait_until(first_reminder_delivered, FIRES_WITHIN, "the first reminder", worker, stack.diagnostics)
    guildflow(stack, "job", "cancel", cancelled_between)

    runs = wait_until(lambda: finished(api, job, 4), FIRES_WITHIN, f"job {job}", stack.server, stack.diagnostics)
    assert [run["state"]["name"] for run in runs] == ["Completed"] * 4
    messages = delivered(fired)
    assert [message["title"] for message in messages] == ["Reminder", "Reminder", "Reminder", ""]
    assert [message["body"].split(": in ")[0] for message in messages[:3]] == ["post-message"] * 3
    assert messages[3]["body"] == "round 1 results"
    started = [run["start_time"] for run in runs]
    assert started == sorted(started)

    assert states(api, cancelled_before) == ["Cancelled", "Cancelled"] and delivered(before) == []
    wait_until(lambda: finished(api, cancelled_between, 3), 60, "the cancelled job", stack.server)
    assert states(api, cancelled_between) == ["Completed", "Cancelled", "Cancelled"]
    assert len(delivered(between)) == 1
    stop_service(worker)


def test_jobs_survive_restarts_and_a_redeploy_and_overdue_ones_run_once(stack: PrefectStack, api: httpx.Client) -> None:
    root = stack.logs.parent / "jobs-2"
    overdue = schedule(stack, root / "overdue", "results, late", "20s", "15s,10s")
    later = schedule(stack, root / "later", "results, on time", "240s", "60s")
    pending_before = {job: runs_of(api, job) for job in (overdue, later)}

    restart_server(stack)
    stack.cli("--no-prompt", "deploy", "--all", extra_env=stack.guildflow_env)

    def all_late() -> bool:
        return states(api, overdue) == ["Late", "Late", "Late"]

    wait_until(all_late, FIRES_WITHIN, "the overdue job's runs to be marked Late", stack.server, stack.diagnostics)
    for job, runs in pending_before.items():  # every run still there, once, as it was made
        after = runs_of(api, job)
        assert [(run["id"], run["expected_start_time"]) for run in after] == [
            (run["id"], run["expected_start_time"]) for run in runs
        ]
    assert states(api, later) == ["Scheduled", "Scheduled"]

    worker = stack.start_worker("worker-2", POOL, extra_env={"GUILDFLOW_REMINDER_GRACE_SECONDS": str(GRACE_SECONDS)})
    runs = wait_until(lambda: finished(api, overdue, 3), FIRES_WITHIN, "the overdue job", worker, stack.diagnostics)
    assert [run["state"]["name"] for run in runs] == ["Skipped", "Skipped", "Completed"]
    assert all(run["state"]["message"].startswith("skipped: this reminder was due at") for run in runs[:2])
    [message] = delivered(root / "overdue")
    assert re.fullmatch(
        r"results, late\n\n\(late by [\dms ]+: due at .* UTC, no worker was running then\)", message["body"]
    )

    runs = wait_until(lambda: finished(api, later, 2), FIRES_WITHIN + 240, "the later job", worker, stack.diagnostics)
    assert [run["state"]["name"] for run in runs] == ["Completed", "Completed"]
    assert [message["body"] for message in delivered(root / "later")][1] == "results, on time"
    assert len(runs_of(api, overdue)) == 3 and len(delivered(root / "overdue")) == 1  # ran once
