"""Item 3: the whole daily pipeline on 200 new posts (1,000 new messages), every backend on its real client
against the emulators (bare, and answering with assumed service latencies), and how its wall time splits
between Prefect's orchestration and our code.

Per run: wall = the seconds the daily_pipeline() call takes in this process; tasks = the sum, over the
flow run's task runs, of end_time - start_time as the Prefect API recorded them; slots = the seconds our
analyse-batch function spends taking Prefect rate-limit slots (Prefect API calls inside our task);
ours = tasks - slots; orchestration = wall - ours; share = orchestration / wall.
Baseline: benchmarks.naive.pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from statistics import median
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import TaskRun

import tasks.analyse
from benchmarks import naive
from benchmarks.common import discord_messages, first_message_id, fresh_prefect_state, services, timed
from flows.daily import daily_pipeline

MESSAGES, POSTS = 1_000, 200
# What each service's answers are assumed to take (seconds): not measured here (this machine is offline),
# and on the low side of what the real ones take; a Gemini batch of 20 posts with structured output
# is several seconds of generation. Lower latencies make Prefect's share look larger, not smaller.
SERVICE_LATENCY = {"discord": 0.15, "sheets": 0.3, "gemini": 3.0, "x": 0.3}


@dataclass
class PipelineResult:
    runs: int
    api_calls: int  # every service, one run
    walls: list[float]
    flow_seconds: list[float]  # the flow run's start to end, as the API recorded it
    task_seconds: list[float]
    slot_seconds: list[float]  # inside Prefect's rate_limit(), within the task seconds
    slot_calls: list[float]  # every rate_limit() call of every run, in seconds
    task_runs: int
    naive_api_calls: int
    naive_seconds: float
    naive_delay_seconds: float
    latency: dict[str, float]  # seconds each service's answers waited (none: the bare emulators)

    @property
    def seconds(self) -> float:
        return median(self.walls)

    def _orchestration(self, slots_are_prefect: bool) -> list[float]:
        return [
            wall - (tasks - (slots if slots_are_prefect else 0.0))
            for wall, tasks, slots in zip(self.walls, self.task_seconds, self.slot_seconds)
        ]

    @property
    def orchestration_seconds(self) -> float:
        return median(self._orchestration(True))

    @property
    def orchestration_share(self) -> float:
        """The median of the runs' shares."""
        return median([seconds / wall for seconds, wall in zip(self._orchestration(True), self.walls)])

    @property
    def share_without_slots(self) -> float:
        """The share if the rate-limit calls counted as our code."""
        return median([seconds / wall for seconds, wall in zip(self._orchestration(False), self.walls)])


def task_runs_of(flow_run_id: UUID) -> tuple[float, list[TaskRun]]:
    """The flow run's recorded duration, and its task runs (all finished)."""
    with get_client(sync_client=True) as client:
        for _ in range(100):  # task run states reach the API as events, recorded a moment later
            flow_run = client.read_flow_run(flow_run_id)
            task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            if task_runs and all(task_run.end_time and task_run.start_time for task_run in task_runs):
                break
            time.sleep(0.1)
    assert flow_run.start_time and flow_run.end_time
    return (flow_run.end_time - flow_run.start_time).total_seconds(), task_runs


def _duration(task_run: TaskRun) -> float:
    assert task_run.start_time and task_run.end_time
    return (task_run.end_time - task_run.start_time).total_seconds()


@contextmanager
def timed_rate_limits() -> Iterator[list[float]]:
    """The seconds of each rate-limit slot request tasks.analyse makes meanwhile (tasks.rate_limits.take_slot,
    two per batch): instrumentation, undone after."""
    original, spent = tasks.analyse.take_slot, []

    def take_slot(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    tasks.analyse.take_slot = take_slot
    try:
        yield spent
    finally:
        tasks.analyse.take_slot = original


def warm_up() -> None:
    """One small untimed run: the first flow run in a process pays imports and the server's first writes."""
    messages = discord_messages(100, 20)
    with services(messages, cursor=first_message_id(messages) - 1), fresh_prefect_state():
        daily_pipeline(return_state=True)


def run(repeats: int, latency: dict[str, float] | None = None, baseline: bool = True) -> PipelineResult:
    """The daily pipeline `repeats` times (and the naive script after each, unless baseline is False),
    every service answering after `latency` seconds (see services())."""
    messages = discord_messages(MESSAGES, POSTS)
    cursor = first_message_id(messages) - 1
    walls, flow_seconds, task_seconds, slot_seconds, slot_calls, naive_seconds = [], [], [], [], [], []
    naive_run, naive_api_calls = naive.NaiveRun(), 0
    for _ in range(repeats):
        with (
            services(messages, cursor=cursor, latency=latency) as emulated,
            fresh_prefect_state(),
            timed_rate_limits() as slots,
        ):
            state, elapsed = timed(partial(daily_pipeline, return_state=True))
            report = state.result()
            # Projects beyond the daily post's tweet budget stay in Posts for a later day.
            assert (report.new_posts, report.analysed) == (POSTS, POSTS) and 0 < report.archived <= POSTS, report
            api_calls = emulated.api_calls()
            recorded, task_runs = task_runs_of(state.state_details.flow_run_id)
            walls.append(elapsed)
            flow_seconds.append(recorded)
            task_seconds.append(sum(map(_duration, task_runs)))
            slot_seconds.append(sum(slots))
            slot_calls.extend(slots)
        if baseline:
            with services(messages, cursor=cursor, latency=latency) as emulated:
                naive_run = naive.NaiveRun()
                archived, elapsed = timed(partial(naive.pipeline, naive_run))
                assert 0 < archived <= POSTS, archived  # it drafts with guildflow's code: the same tweet budget
                naive_seconds.append(elapsed)
                naive_api_calls = emulated.api_calls()
    return PipelineResult(
        runs=repeats,
        api_calls=api_calls,
        walls=walls,
        flow_seconds=flow_seconds,
        task_seconds=task_seconds,
        slot_seconds=slot_seconds,
        slot_calls=slot_calls,
        task_runs=len(task_runs),
        naive_api_calls=naive_api_calls,
        naive_seconds=median(naive_seconds) if naive_seconds else 0.0,
        naive_delay_seconds=naive_run.delay_seconds,
        latency=latency or {},
    )


# Where the time of a profiled run goes: (label, file name ending, function name), cumulative seconds.
PROFILE_LINES = [
    ("the whole daily_pipeline() call", "prefect/flows.py", "__call__"),
    ("Prefect: the flow run's heartbeat thread joined as it ends", "prefect/flow_engine.py", "_send_heartbeats"),
    ("Prefect: the task runs' engines, our task functions included", "prefect/task_engine.py", "run_task_sync"),
    ("our task functions", "prefect/task_engine.py", "call_task_fn"),
    ("- of which Prefect API: 20 Gemini rate-limit slot requests", "tasks/rate_limits.py", "take_slot"),
    ("- of which ours: X length of the draft's lines (twitter-text)", "core/draft.py", "x_length"),
]


def profile() -> list[tuple[str, float]]:
    """One warm run under cProfile: (label, cumulative seconds) for PROFILE_LINES."""
    import cProfile
    import pstats

    messages = discord_messages(MESSAGES, POSTS)
    with services(messages, cursor=first_message_id(messages) - 1), fresh_prefect_state():
        profiler = cProfile.Profile()
        profiler.runcall(daily_pipeline, return_state=True)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return [
        (
            label,
            sum(
                cumulative
                for (file, _, name), (_, _, _, cumulative, _) in stats.items()
                if file.endswith(file_end) and name == function
            ),
        )
        for label, file_end, function in PROFILE_LINES
    ]
