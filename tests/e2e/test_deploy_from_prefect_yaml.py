"""End to end: a real Prefect server, `prefect deploy --all` from prefect.yaml, a process worker, one run.

Everything runs on 127.0.0.1 with a throwaway PREFECT_HOME (SQLite inside it) and throwaway GUILDFLOW_*
paths, so the repo's .guildflow/ folder is never touched. Every subprocess writes its output to a file in
the test's tmp dir; failures quote the tail of the server and worker logs.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")  # the venv's CLI, next to the running python

POOL = "guildflow"
FLOW_NAME, DEPLOYMENT_NAME = "daily-pipeline", "daily"
SCHEDULE_SLUG = "daily-pipeline-daily"
CRON, TIMEZONE = "0 20 * * *", "Europe/Berlin"
REPORT_ARTIFACT_KEY = "daily-pipeline-report"
PHASES = ["collect posts", "analyse posts", "write draft", "publish draft", "archive posts"]
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

SERVER_HEALTHY_WITHIN = 120  # s; healthy in 8-20 s on a fresh SQLite database (migrations)
FLOW_RUN_FINAL_WITHIN = 180  # s
SCHEDULED_RUNS_WITHIN = 60  # s; the scheduler looks at recently changed deployments every few seconds
STOP_WITHIN = 20  # s after SIGINT before SIGKILL

T = TypeVar("T")


# --- helpers -------------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], T], timeout: float, what: str, diagnostics: Callable[[], str] = str) -> T:
    """Poll predicate until it returns something truthy (and return that); fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.HTTPError as error:  # the server may be starting or briefly busy (SQLite locks)
            value, last_error = None, error
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error!r})\n{diagnostics()}")


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    """A long-running CLI subprocess (server or worker) in its own process group, output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- last {lines} lines of {self.name} log ({self.log}) ---\n{tail(text, lines)}"

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"{self.name} exited early with code {self.process.returncode}\n{self.tail()}")


def start_service(name: str, args: list[str], env: dict[str, str], logs: Path) -> Service:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            args,
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: teardown reaches uvicorn / flow-run children too
        )
    return Service(name, process, log)


def stop_service(service: Service) -> None:
    """SIGINT first (a process worker ignores SIGTERM for > 8 s), then SIGKILL what is left of the group."""
    group = service.process.pid
    if service.process.poll() is None:
        _signal_group(group, signal.SIGINT)
        try:
            service.process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            print(f"\n{service.name} did not stop within {STOP_WITHIN} s of SIGINT; killing it")
    _signal_group(group, signal.SIGKILL)  # leftovers of the group, if any
    service.process.wait(timeout=STOP_WITHIN)


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        pass


def run_cli(args: list[str], env: dict[str, str], logs: Path, diagnostics: Callable[[], str] = str) -> str:
    """Run one `prefect ...` command from the repo root; fail with its output unless it exits 0."""
    result = subprocess.run(
        [PREFECT, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
    )
    output = result.stdout + result.stderr
    name = re.sub(r"[^a-z0-9]+", "-", " ".join(args).lower()).strip("-")[:60]
    (logs / f"cli-{name}.log").write_text(output)
    assert result.returncode == 0, (
        f"`prefect {' '.join(args)}` exited {result.returncode}:\n{tail(output, 60)}\n{diagnostics()}"
    )
    return output


# --- fixtures ------------------------------------------------------------------------------------


@dataclass
class Stack:
    api_url: str
    home: Path
    logs: Path
    env: dict[str, str]  # PREFECT_* for every subprocess
    guildflow_env: dict[str, str]  # GUILDFLOW_* for deploy and worker (hence the flow run)
    server: Service
    worker: Service | None = None

    def diagnostics(self) -> str:
        services = [self.server] + ([self.worker] if self.worker else [])
        return "\n".join(service.tail() for service in services)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A real `prefect server start` on a free port with its own PREFECT_HOME, healthy."""
    root = tmp_path_factory.mktemp("e2e")
    home, logs, data = root / "prefect-home", root / "logs", root / "guildflow"
    for folder in (home, logs, data):
        folder.mkdir()
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "GUILDFLOW_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PYTHONUNBUFFERED="1",
        COLUMNS="200",  # keep rich from wrapping the flow run id in CLI output
    )
    guildflow_env = {
        "GUILDFLOW_WORKBOOK": str(data / "workbook.sqlite"),
        "GUILDFLOW_OUTBOX": str(data / "outbox"),
        "GUILDFLOW_LEDGER": str(data / "publish-ledger.sqlite"),
        "GUILDFLOW_DISCORD_EXPORT": str(REPO / "examples" / "discord" / "*.json"),
    }
    server = start_service(
        "server", [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, logs
    )
    stack = Stack(api_url, home, logs, env, guildflow_env, server)
    try:
        started = time.monotonic()

        def healthy() -> bool:
            server.check_alive()
            return httpx.get(f"{api_url}/health", timeout=5).status_code == 200

        wait_until(healthy, SERVER_HEALTHY_WITHIN, "the Prefect server to be healthy", stack.diagnostics)
        print(f"\nprefect server healthy after {time.monotonic() - started:.1f} s at {api_url}")
        yield stack
    finally:
        stop_service(server)


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def deployed(stack: Stack) -> str:
    """The work pool, then `prefect --no-prompt deploy --all` from the repo root; returns the deploy output."""
    run_cli(["work-pool", "create", POOL, "--type", "process"], stack.env, stack.logs, stack.diagnostics)
    deploy_env = {
        **stack.env,
        **stack.guildflow_env,
        "GUILDFLOW_SCHEDULE_CRON": CRON,
        "GUILDFLOW_TIMEZONE": TIMEZONE,
    }
    return run_cli(["--no-prompt", "deploy", "--all"], deploy_env, stack.logs, stack.diagnostics)


@pytest.fixture(scope="module")
def worker(stack: Stack, deployed: str) -> Iterator[Service]:
    """`prefect worker start --pool guildflow`, polling every 2 s, with the tmp GUILDFLOW_* paths."""
    env = {**stack.env, **stack.guildflow_env, "PREFECT_WORKER_QUERY_SECONDS": "2"}
    service = start_service("worker", [PREFECT, "worker", "start", "--pool", POOL], env, stack.logs)
    stack.worker = service
    try:
        yield service
    finally:
        stop_service(service)


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
    """The run of a phase, a task ("collect posts-3f2") or a subflow, which shows up in its parent as a
    task run named after the flow ("analyse-posts-0"): match the name before the suffix, hyphens as spaces."""
    return next((run for run in runs if run["name"].rsplit("-", 1)[0].replace("-", " ") == phase), None)


# --- tests ---------------------------------------------------------------------------------------


def test_deploy_registers_the_daily_deployment_from_settings(api: httpx.Client, deployed: str, stack: Stack) -> None:
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


def test_a_manual_run_completes_on_the_worker(api: httpx.Client, stack: Stack, worker: Service) -> None:
    output = run_cli(["deployment", "run", f"{FLOW_NAME}/{DEPLOYMENT_NAME}"], stack.env, stack.logs, stack.diagnostics)
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
    flow_run = wait_until(final_flow_run, FLOW_RUN_FINAL_WITHIN, f"flow run {flow_run_id} to finish", diagnostics)
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
    published = sorted(outbox.glob("*.json")) if outbox.is_dir() else []
    assert len(published) == 1, f"outbox {outbox} holds {published}\n{artifacts[0]['data']}\n{diagnostics()}"
    assert Path(stack.guildflow_env["GUILDFLOW_WORKBOOK"]).is_file(), diagnostics()


def test_the_schedule_creates_upcoming_runs_at_20_berlin_time(api: httpx.Client, deployed: str, stack: Stack) -> None:
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
        scheduled_runs, SCHEDULED_RUNS_WITHIN, f"scheduled runs of {FLOW_NAME}/{DEPLOYMENT_NAME}", stack.diagnostics
    )
    local_starts = [datetime.fromisoformat(run["expected_start_time"]).astimezone(ZoneInfo(TIMEZONE)) for run in runs]
    assert all((start.hour, start.minute) == (20, 0) for start in local_starts), local_starts
