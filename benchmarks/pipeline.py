"""Item 3: the whole daily pipeline on 200 new posts (1,000 new messages), every backend on its real client
against the emulators, and how its wall time splits between Prefect's orchestration and our code.

Per run: wall = the seconds the daily_pipeline() call takes in this process; tasks = the sum, over every
task run of the flow run and of its analysis subflow run, of end_time - start_time as the Prefect API
recorded them (the task run standing for the subflow is left out, the subflow's task runs count);
slots = the seconds our analyse-batch function spends in Prefect's rate_limit() (a Prefect API call that
runs inside our task); ours = tasks - slots; orchestration = wall - ours; share = orchestration / wall.
Baseline: benchmarks.naive.pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId
from prefect.client.schemas.objects import TaskRun

import tasks.analyse
from benchmarks import naive
from benchmarks.common import discord_messages, first_message_id, fresh_prefect_state, median, services, timed
from flows.daily import daily_pipeline

MESSAGES, POSTS = 1_000, 200
SLOW_SLOT_SECONDS = 1.0


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
    naive_model_calls: int
    naive_seconds: float
    naive_delay_seconds: float

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

    @property
    def slow_slot_calls(self) -> int:
        return sum(1 for seconds in self.slot_calls if seconds > SLOW_SLOT_SECONDS)


def task_runs_of(flow_run_id: UUID) -> tuple[float, list[TaskRun]]:
    """The flow run's recorded duration, and the task runs of it and its subflow runs (all finished)."""
    with get_client(sync_client=True) as client:
        for _ in range(100):  # task run states reach the API as events, recorded a moment later
            flow_run = client.read_flow_run(flow_run_id)
            subflows = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id]))
            )
            subflow_tasks = {subflow.parent_task_run_id for subflow in subflows}
            ids = [flow_run_id, *(subflow.id for subflow in subflows)]
            task_runs = [
                task_run
                for task_run in client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
                if task_run.id not in subflow_tasks
            ]
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
    """The seconds of each rate_limit() call tasks.analyse makes meanwhile (instrumentation, undone after)."""
    original, spent = tasks.analyse.rate_limit, []

    def rate_limit(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    tasks.analyse.rate_limit = rate_limit
    try:
        yield spent
    finally:
        tasks.analyse.rate_limit = original


def warm_up() -> None:
    """One small untimed run: the first flow run in a process pays imports and the server's first writes."""
    messages = discord_messages(100, 20)
    with services(messages, cursor=first_message_id(messages) - 1), fresh_prefect_state():
        daily_pipeline(return_state=True)


def run(repeats: int) -> PipelineResult:
    messages = discord_messages(MESSAGES, POSTS)
    cursor = first_message_id(messages) - 1
    walls, flow_seconds, task_seconds, slot_seconds, slot_calls, naive_seconds = [], [], [], [], [], []
    for _ in range(repeats):
        with services(messages, cursor=cursor) as emulated, fresh_prefect_state(), timed_rate_limits() as slots:
            state, elapsed = timed(partial(daily_pipeline, return_state=True))
            report = state.result()
            assert (report.new_posts, report.analysed, report.archived) == (POSTS, POSTS, POSTS), report
            api_calls = emulated.api_calls()
            recorded, task_runs = task_runs_of(state.state_details.flow_run_id)
            walls.append(elapsed)
            flow_seconds.append(recorded)
            task_seconds.append(sum(map(_duration, task_runs)))
            slot_seconds.append(sum(slots))
            slot_calls.extend(slots)
        with services(messages, cursor=cursor) as emulated:
            baseline = naive.NaiveRun()
            archived, elapsed = timed(partial(naive.pipeline, baseline))
            assert archived == POSTS, archived
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
        naive_model_calls=baseline.model_calls,
        naive_seconds=median(naive_seconds),
        naive_delay_seconds=baseline.delay_seconds,
    )


# Where the time of a profiled run goes: (label, file name ending, function name), cumulative seconds.
PROFILE_LINES = [
    ("the whole daily_pipeline() call", "prefect/flows.py", "__call__"),
    ("Prefect: heartbeat threads joined as the 2 flow runs end", "prefect/flow_engine.py", "_send_heartbeats"),
    ("Prefect: the 19 task runs' engines, our task functions included", "prefect/task_engine.py", "run_task_sync"),
    ("our 19 task functions", "prefect/task_engine.py", "call_task_fn"),
    ("- of which Prefect API: 20 Gemini rate-limit slot requests", "prefect/concurrency/sync.py", "rate_limit"),
    ("- of which ours: building 11 Gemini clients (GeminiAnalyser)", "integrations/gemini.py", "__init__"),
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
