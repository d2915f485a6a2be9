"""What a schedule's run history says: how many runs, how many failed, how long they take, how many failed in a row,
and how the last one went. Pure: bookkeeping/history.py reads the runs from Prefect and hands them here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

FAILED_STATES = ("FAILED", "CRASHED")
# Cancelled runs (superseded, or cancelled by hand) tried nothing: they neither fail nor succeed.
FINISHED_STATES = ("COMPLETED", *FAILED_STATES)
NOT_STARTED_STATES = ("SCHEDULED", "PENDING")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class RunRecord:
    """One flow run as the stats need it; state is Prefect's state type (COMPLETED, FAILED, SCHEDULED, ...)."""

    name: str
    state: str
    state_name: str  # what the UI shows: Completed, Failed, Late, ...
    expected_start: datetime | None
    start: datetime | None = None
    end: datetime | None = None
    message: str = ""  # the state's message: for a failed run, why

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def started(self) -> bool:
        return self.state not in NOT_STARTED_STATES

    @property
    def when(self) -> datetime | None:
        return self.end or self.start or self.expected_start


@dataclass(frozen=True)
class RunStats:
    runs: int  # finished runs (completed, failed, crashed)
    failures: int
    consecutive_failures: int  # the newest finished runs that failed, in a row
    average_seconds: float | None  # of the finished runs that ran
    last_run: RunRecord | None  # the newest run that started
    due: RunRecord | None  # the oldest run whose time has come and that has not started (late, or waiting)

    @property
    def success_rate(self) -> float | None:
        return (self.runs - self.failures) / self.runs if self.runs else None


def run_stats(runs: Iterable[RunRecord]) -> RunStats:
    """The stats of runs whose time has come (any order)."""
    ordered = sorted(runs, key=_newest_first_key, reverse=True)
    finished = [run for run in ordered if run.finished]
    durations = [(run.end - run.start).total_seconds() for run in finished if run.start and run.end]
    waiting = [run for run in ordered if not run.started]
    return RunStats(
        runs=len(finished),
        failures=sum(run.failed for run in finished),
        consecutive_failures=consecutive_failures(run.failed for run in finished),
        average_seconds=sum(durations) / len(durations) if durations else None,
        last_run=next((run for run in ordered if run.started), None),
        due=waiting[-1] if waiting else None,
    )


def consecutive_failures(outcomes: Iterable[bool]) -> int:
    """How many of the newest finished runs failed in a row; outcomes newest first, True meaning failed."""
    count = 0
    for failed in outcomes:
        if not failed:
            break
        count += 1
    return count


def failure_summary(state_message: str, limit: int = 300) -> str:
    """Why a failed run failed, on one line: its state message without Prefect's preamble."""
    message = " ".join(state_message.split())
    for preamble in ("Flow run encountered an exception: ", "Flow run failed: "):
        message = message.removeprefix(preamble)
    if not message:
        return "no message recorded"
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _newest_first_key(run: RunRecord) -> tuple[datetime, datetime]:
    return (run.when or _EPOCH, run.expected_start or _EPOCH)
