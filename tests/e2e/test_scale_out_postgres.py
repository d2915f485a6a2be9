"""End to end, scaled out: the Prefect server on PostgreSQL, two process workers on one pool, 20 runs.

A fresh database guildflow_e2e_<hex> (dropped at the end, even on failure) on the machine's PostgreSQL, or
on one the test starts when none answers (tests/e2e/postgres.py: GUILDFLOW_TEST_POSTGRES_URL), `prefect
deploy --all` from prefect.yaml, workers worker-a and worker-b on the pool `guildflow`, then 20 manual runs
of daily-pipeline/daily at once. The deployment's concurrency limit (1, ENQUEUE) queues them: each must run
exactly once, never two at a time, and only the first publishes (the pipeline is idempotent). They are
started by hand, so the catch-up rule (tasks/operations.py: only the newest late *scheduled* run works)
leaves every one of them to run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.postgres import Postgres, postgres_server
from tests.e2e.prefect_server import FINAL_STATES, PrefectStack, Service, running_server, wait_until

POOL = "guildflow"
FLOW_NAME, DEPLOYMENT_NAME = "daily-pipeline", "daily"
WORKER_NAMES = ["worker-a", "worker-b"]
RUNS = 20

# A run that finds the deployment's slot taken goes back to Scheduled ("AwaitingConcurrencySlot") for
# PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS (default 30: 20 queued runs took ~7 min). Workers
# fetch runs due within PREFECT_WORKER_PREFETCH_SECONDS (default 10): with a wait shorter than that, both
# workers re-propose every waiting run on every poll, a storm of rejected submissions on 2 cores.
SERVER_ENV = {"PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "5"}
WORKER_ENV = {"PREFECT_WORKER_PREFETCH_SECONDS": "1"}

WORKERS_ONLINE_WITHIN = 60  # s
ALL_FINAL_WITHIN = 600  # s; one at a time, ~11 s each on 2 cores (a fresh process per run: ~6 s to start)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """The machine's PostgreSQL, or one started for this module."""
    with postgres_server() as server:
        print(f"\nPostgreSQL {'started by the test' if server.started_here else 'of the machine'}: {server.url}")
        yield server


@pytest.fixture(scope="module")
def database(postgres: Postgres) -> Iterator[str]:
    """A dedicated PostgreSQL database; returns its name."""
    with postgres.database() as name:
        yield name


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres: Postgres, database: str) -> Iterator[PrefectStack]:
    """A real `prefect server start` on a free port, its database on PostgreSQL, healthy."""
    root, url = tmp_path_factory.mktemp("e2e-postgres"), postgres.sqlalchemy_url(database)
    with running_server(root, database_url=url, server_env=SERVER_ENV) as stack:
        yield stack


@pytest.fixture(scope="module")
def deployment_id(stack: PrefectStack, api: httpx.Client) -> str:
    """Deployed from prefect.yaml, its cron schedule paused so that only this test's runs exist."""
    stack.deploy(POOL)
    response = api.get(f"/deployments/name/{FLOW_NAME}/{DEPLOYMENT_NAME}")
    response.raise_for_status()
    deployment = response.json()
    for schedule in deployment["schedules"]:
        api.patch(
            f"/deployments/{deployment['id']}/schedules/{schedule['id']}", json={"active": False}
        ).raise_for_status()
    return deployment["id"]


@pytest.fixture(scope="module")
def workers(stack: PrefectStack, api: httpx.Client, deployment_id: str) -> list[Service]:
    """worker-a and worker-b on the pool, polling every 2 s, both seen online by the server."""
    started = [stack.start_worker(name, POOL, WORKER_ENV) for name in WORKER_NAMES]
    wait_until(
        lambda: _alive(started) and set(WORKER_NAMES) <= online_workers(api),
        WORKERS_ONLINE_WITHIN,
        f"workers {WORKER_NAMES} online in pool {POOL}",
        stack.server,
        stack.diagnostics,
    )
    return started


@pytest.fixture(scope="module")
def finished_runs(
    stack: PrefectStack, api: httpx.Client, deployment_id: str, workers: list[Service]
) -> list[dict[str, Any]]:
    """RUNS flow runs created at once through the API (as `prefect deployment run` does); all final."""
    ids = []
    for _ in range(RUNS):
        response = api.post(f"/deployments/{deployment_id}/create_flow_run", json={})
        response.raise_for_status()
        ids.append(response.json()["id"])
    started = time.monotonic()
    seen: list[dict[str, Any]] = []

    def all_final() -> list[dict[str, Any]] | None:
        for worker in workers:
            worker.check_alive()
        response = api.post("/flow_runs/filter", json={"flow_runs": {"id": {"any_": ids}}, "limit": RUNS})
        response.raise_for_status()
        seen[:] = response.json()
        return seen if len(seen) == RUNS and all(run["state_type"] in FINAL_STATES for run in seen) else None

    def progress() -> str:
        states = Counter(f"{run['state_type']}/{run['state_name']}" for run in seen)
        return f"states of the {RUNS} runs: {dict(states)}\n{stack.diagnostics()}"

    runs = wait_until(all_final, ALL_FINAL_WITHIN, f"{RUNS} flow runs to finish", stack.server, progress)
    print(f"\n{RUNS} runs final {time.monotonic() - started:.1f} s after submission")
    return runs


# --- API reads -----------------------------------------------------------------------------------


def _alive(services: list[Service]) -> bool:
    for service in services:
        service.check_alive()
    return True


def online_workers(api: httpx.Client) -> set[str]:
    response = api.post(f"/work_pools/{POOL}/workers/filter", json={})
    response.raise_for_status()
    return {worker["name"] for worker in response.json() if worker["status"] == "ONLINE"}


def states_of(api: httpx.Client, flow_run_id: str) -> list[dict[str, Any]]:
    response = api.get("/flow_run_states/", params={"flow_run_id": flow_run_id})
    response.raise_for_status()
    return response.json()


def submissions_by_worker(api: httpx.Client, flow_run_ids: list[str]) -> Counter[str]:
    """Which worker submitted each run, from the workers' prefect.worker.submitted-flow-run events."""
    response = api.post(
        "/events/filter",
        json={"filter": {"event": {"name": ["prefect.worker.submitted-flow-run"]}}, "limit": 50},
    )
    response.raise_for_status()
    wanted = {f"prefect.flow-run.{flow_run_id}" for flow_run_id in flow_run_ids}
    counts: Counter[str] = Counter()
    for event in response.json()["events"]:
        if any(related["prefect.resource.id"] in wanted for related in event["related"]):
            counts[event["resource"]["prefect.resource.name"]] += 1
    return counts


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- tests ---------------------------------------------------------------------------------------


def test_every_run_completes_exactly_once(
    api: httpx.Client, stack: PrefectStack, finished_runs: list[dict[str, Any]]
) -> None:
    outcomes = Counter(f"{run['state_name']}: {run['state']['message']}" for run in finished_runs)
    assert outcomes == {"Completed: None": RUNS}, f"final states: {dict(outcomes)}\n{stack.diagnostics()}"
    for run in finished_runs:
        running = [state for state in states_of(api, run["id"]) if state["type"] == "RUNNING"]
        assert run["run_count"] == 1 and len(running) == 1, (
            f"flow run {run['name']} ran {run['run_count']} times, Running states: {running}"
        )


def test_runs_never_overlap(finished_runs: list[dict[str, Any]]) -> None:
    """The deployment's concurrency limit of 1: each run starts after the previous one ended."""
    runs = sorted(finished_runs, key=lambda run: _time(run["start_time"]))
    for before, after in zip(runs, runs[1:]):
        assert _time(before["end_time"]) <= _time(after["start_time"]), (
            f"{before['name']} ({before['start_time']} - {before['end_time']}) overlaps "
            f"{after['name']} ({after['start_time']} - {after['end_time']})"
        )
    durations = [(_time(run["end_time"]) - _time(run["start_time"])).total_seconds() for run in runs]
    print(f"\nrun durations: min {min(durations):.1f} s, max {max(durations):.1f} s, sum {sum(durations):.1f} s")


def test_both_workers_stay_online(
    api: httpx.Client, stack: PrefectStack, workers: list[Service], finished_runs: list[dict[str, Any]]
) -> None:
    """Both worker processes lived through all runs (checked on every poll) and still heartbeat."""
    assert _alive(workers)
    assert set(WORKER_NAMES) <= online_workers(api), stack.diagnostics()
    # Reported, not asserted: with a limit of 1, one worker may take every run.
    print(f"\nruns submitted per worker: {dict(submissions_by_worker(api, [run['id'] for run in finished_runs]))}")


def test_only_the_first_run_publishes(stack: PrefectStack, finished_runs: list[dict[str, Any]]) -> None:
    """Nineteen runs find nothing new: the outbox holds exactly one publication."""
    outbox = Path(stack.guildflow_env["GUILDFLOW_OUTBOX"])
    published = sorted(outbox.glob("*.json"))
    assert len(published) == 1, f"outbox {outbox} holds {published}\n{stack.diagnostics()}"


def test_the_server_stored_the_runs_in_postgresql(
    postgres: Postgres, database: str, deployment_id: str, finished_runs: list[dict[str, Any]]
) -> None:
    """The runs and their states live in the test's PostgreSQL database (read directly, not through the API)."""
    query = (
        "SELECT state_type::text, count(*) FROM flow_run"
        f" WHERE deployment_id = '{deployment_id}' AND NOT auto_scheduled GROUP BY 1"
    )
    assert postgres.sql(query, database=database) == [("COMPLETED", RUNS)]
