"""Jobs at scale, a benchmark of its own (`make bench-jobs`, ~10 min; not part of `make bench`): a Prefect server on
PostgreSQL (the machine's, or one started for it: tests/e2e/postgres.py), deployed from prefect.yaml.

- create JOBS pending jobs with 3 reminders each (bookkeeping.jobs.schedule_job, one by one as the CLI and the bot
  make them): seconds and API requests;
- list them (bookkeeping.jobs.list_jobs): seconds and requests, pages of 200, not one per job;
- with two process workers on the pool (the pool limited to POOL_LIMIT runs at a time, as a small machine would
  be run), BATCH runs due in the same minute (half jobs, half their reminders): how late each starts after its
  time (Prefect's start_time - expected_start_time), p50, p95, max, and how many reminders were too late to be
  delivered (GUILDFLOW_REMINDER_GRACE_SECONDS).

Writes benchmarks/JOBS.md and prints it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import quantiles
from typing import Any

REPO = Path(__file__).resolve().parent.parent
JOBS = 1000
REMINDERS = "30m,5m,1m"
BATCH = 100  # runs due in the same minute: BATCH // 2 jobs with one reminder each
POOL_LIMIT = 8
POOL = "guildflow"
FINISH_WITHIN = 1800  # s


@dataclass
class JobsResult:
    jobs: int
    runs: int
    create_seconds: float
    create_calls: int
    list_seconds: float
    list_calls: int
    listed: int
    job_lateness: list[float]
    reminder_lateness: list[float]
    reminders_skipped: int
    machine: str

    def report(self) -> str:
        def spread(values: list[float]) -> str:
            cuts = quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
            return f"p50 {cuts[49]:.1f} s, p95 {cuts[94]:.1f} s, max {max(values):.1f} s"

        return "\n".join(
            [
                "# Jobs benchmark",
                "",
                f"Prefect server on PostgreSQL, {self.machine}. Written by `make bench-jobs` (benchmarks/jobs.py).",
                "",
                "| measure | result |",
                "|---|---|",
                f"| create {self.jobs} jobs x 3 reminders ({self.runs} flow runs) | {self.create_seconds:.1f} s, "
                f"{self.create_calls} API requests ({self.create_calls / self.jobs:.1f} a job) |",
                f"| list the {self.listed} pending jobs | {self.list_seconds:.2f} s, {self.list_calls} API requests |",
                f"| {BATCH} runs due in one minute, two workers (pool limit {POOL_LIMIT}): jobs start late by | "
                f"{spread(self.job_lateness)} |",
                f"| ... their reminders start late by | {spread(self.reminder_lateness)}; "
                f"{self.reminders_skipped} of {len(self.reminder_lateness)} skipped as past the grace period |",
                "",
            ]
        )


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="guildflow-bench-jobs-"))
    os.environ.update(
        PREFECT_HOME=str(root / "client-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1"
    )
    sys.path.insert(0, str(REPO))
    try:
        result = _run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = result.report()
    (REPO / "benchmarks" / "JOBS.md").write_text(text)
    print(text)


def _run(root: Path) -> JobsResult:
    from tests.e2e.postgres import postgres_server
    from tests.e2e.prefect_server import running_server

    with postgres_server() as postgres, postgres.database() as database:
        (root / "server").mkdir()
        with running_server(root / "server", postgres.sqlalchemy_url(database)) as stack:
            out = root / "server" / "guildflow"
            stack.guildflow_env["GUILDFLOW_DELIVERY_LEDGER"] = str(out / "deliveries.sqlite")
            stack.guildflow_env["GUILDFLOW_FILE_DESTINATION_KEEP"] = "100000"
            _progress("deploying ...")
            stack.deploy(POOL)
            stack.cli("work-pool", "set-concurrency-limit", POOL, str(POOL_LIMIT))
            os.environ["PREFECT_API_URL"] = stack.api_url
            created, listed = _create_and_list(out / "pending")
            for name in ("worker-a", "worker-b"):
                stack.start_worker(name, POOL)
            lateness = _lateness(out / "batch")
    return JobsResult(**created, **listed, **lateness, machine=_machine())


def _create_and_list(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from benchmarks.common import timed
    from benchmarks.schedules import counted_requests
    from bookkeeping.jobs import list_jobs, schedule_job
    from core.jobs import job_spec

    start = datetime.now(timezone.utc)
    specs = [
        job_spec(
            "post-message",
            now=start,
            run_in=f"1d{index}m",
            reminders=REMINDERS,
            destinations=[f"file:{folder}:json"],
            payload={"text": f"job {index}"},
        )  # fmt: skip
        for index in range(JOBS)
    ]
    _progress(f"creating {JOBS} jobs ...")
    with counted_requests() as requests:
        _, create_seconds = timed(lambda: [schedule_job(spec) for spec in specs])
    create_calls = len(requests)
    _progress("listing them ...")
    with counted_requests() as requests:
        jobs, list_seconds = timed(list_jobs)
    return (
        {"jobs": JOBS, "runs": JOBS * 4, "create_seconds": create_seconds, "create_calls": create_calls},
        {"list_seconds": list_seconds, "list_calls": len(requests), "listed": len(jobs)},
    )


def _lateness(folder: Path) -> dict[str, Any]:
    from bookkeeping.jobs import schedule_job, show_job
    from core.jobs import job_spec

    half = BATCH // 2
    now = datetime.now(timezone.utc)
    first = now + timedelta(seconds=90)  # time to make them
    specs = [
        job_spec(
            "post-message",
            now=now,
            run_in=f"{int((first - now).total_seconds()) + 30 + index * 30 // half}s",
            reminders="30s",
            destinations=[f"file:{folder}:json"],
            payload={"text": f"batch {index}"},
        )  # fmt: skip
        for index in range(half)
    ]
    _progress(f"{BATCH} runs due from {first:%H:%M:%S} for a minute ...")
    ids = [schedule_job(spec).id for spec in specs]
    deadline = time.monotonic() + FINISH_WITHIN
    while True:
        jobs = [show_job(job_id) for job_id in ids]
        if all(job.finished and all(not r.pending for r in job.reminders) for job in jobs):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the batch did not finish within {FINISH_WITHIN} s")
        time.sleep(5)  # a benchmark waiting for workers, not a test
    return _start_lateness(ids)


def _start_lateness(ids: list[str]) -> dict[str, Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    from bookkeeping.jobs import REMINDER_RUN_TAG, job_tag

    job_lateness, reminder_lateness, skipped = [], [], 0
    with get_client(sync_client=True) as client:
        for job_id in ids:
            for run in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[job_tag(job_id)]))
            ):
                assert run.start_time is not None and run.expected_start_time is not None
                late = (run.start_time - run.expected_start_time).total_seconds()
                if REMINDER_RUN_TAG in run.tags:
                    reminder_lateness.append(late)
                    skipped += run.state_name == "Skipped"
                else:
                    job_lateness.append(late)
    return {"job_lateness": job_lateness, "reminder_lateness": reminder_lateness, "reminders_skipped": skipped}


def _machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average at the end {load}"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
