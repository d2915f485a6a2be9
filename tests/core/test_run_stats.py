"""What a schedule's run history says: counts, success rate, durations, failures in a row, last and due runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.run_stats import RunRecord, consecutive_failures, failure_summary, run_stats

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def run(minute: int, state: str, seconds: float = 10, message: str = "") -> RunRecord:
    expected = T0 + timedelta(minutes=minute)
    if state in ("SCHEDULED", "PENDING"):
        return RunRecord(f"run-{minute}", state, state.title(), expected)
    start = expected + timedelta(seconds=1)
    end = None if state == "RUNNING" else start + timedelta(seconds=seconds)
    return RunRecord(f"run-{minute}", state, state.title(), expected, start, end, message)


def test_stats_of_a_history() -> None:
    runs = [
        run(0, "COMPLETED", 10),
        run(1, "FAILED", 20, "Flow run encountered an exception: ValueError: boom"),
        run(2, "CANCELLED"),  # neither fails nor succeeds
        run(3, "COMPLETED", 30),
        run(4, "CRASHED", 40),
        run(5, "FAILED", 60, "Flow run encountered an exception: PlayerDataError: x.json is not valid JSON"),
        run(6, "SCHEDULED"),
        run(7, "PENDING"),
    ]
    stats = run_stats(reversed(runs))  # any order
    assert (stats.runs, stats.failures, stats.consecutive_failures) == (5, 3, 2)
    assert stats.success_rate == 0.4 and stats.average_seconds == 32
    assert stats.last_run.name == "run-5" and stats.due.name == "run-6"
    assert failure_summary(stats.last_run.message) == "PlayerDataError: x.json is not valid JSON"


def test_a_running_run_is_the_last_run_and_no_history_is_none() -> None:
    stats = run_stats([run(0, "FAILED"), run(1, "RUNNING")])
    assert stats.last_run.name == "run-1" and stats.consecutive_failures == 1 and stats.due is None
    empty = run_stats([])
    assert (empty.runs, empty.success_rate, empty.average_seconds, empty.last_run) == (0, None, None, None)


def test_consecutive_failures_stop_at_a_success() -> None:
    assert consecutive_failures([True, True, False, True]) == 2
    assert consecutive_failures([False, True]) == 0
    assert consecutive_failures([]) == 0


def test_a_failure_summary_is_one_short_line() -> None:
    assert failure_summary("") == "no message recorded"
    assert failure_summary("Flow run failed:   two\nlines") == "two lines"
    assert failure_summary("x" * 500, 100) == "x" * 99 + "…"
