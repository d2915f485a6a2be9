"""Run every benchmark, print the table, write benchmarks/RESULTS.md: `.venv/bin/python -m benchmarks`.

Progress goes to stderr; stdout gets the table only.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 5  # items 1-3
LATENCY_RUNS = 3  # item 3 with service latencies
EXPORT_RUNS, EXPORT_RUNS_50 = 3, 3  # item 5, per file
SCHEDULE_RUNS = 3  # item 6


def _isolate() -> None:
    """Before Prefect is imported: a temporary PREFECT_HOME, no telemetry, Prefect's logs off the console
    (they still reach the Prefect server, as in production), and a working folder without a .env."""
    os.environ["PREFECT_HOME"] = _temporary_folder("guildflow-bench-prefect-")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS", "CONSOLE_TASK_RUNS"):
        os.environ[f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL"] = "WARNING"
    sys.path.insert(0, str(REPO))
    os.chdir(_temporary_folder("guildflow-bench-cwd-"))


def _temporary_folder(prefix: str) -> str:
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    started = time.perf_counter()
    _isolate()
    from prefect.testing.utilities import prefect_test_harness

    from benchmarks import analysis, collection, pipeline, playerdata, schedules, summaries
    from benchmarks.report import ORCHESTRATION_TARGET, RSS_TARGET, Results, table, write_results

    logging.getLogger("discord").setLevel(logging.ERROR)  # "PyNaCl is not installed": no voice here

    _progress(f"item 5: playerData exports ({EXPORT_RUNS} runs per file) ...")
    exports = playerdata.run(EXPORT_RUNS, EXPORT_RUNS_50)
    split_profile = playerdata.profile_split() if any(e.rss_ratio > RSS_TARGET for e in exports) else []
    _progress(f"item 1: collection ({RUNS} runs) ...")
    collected = collection.run(RUNS)
    _progress("starting a temporary Prefect server ...")
    harness_started = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=180):
        harness_seconds = time.perf_counter() - harness_started
        pipeline.warm_up()
        _progress(f"item 2: analysis ({RUNS} runs) ...")
        analysed = analysis.run(RUNS)
        _progress(f"item 3: daily pipeline ({RUNS} runs) ...")
        piped = pipeline.run(RUNS)
        _progress(f"item 3: daily pipeline with service latencies ({LATENCY_RUNS} runs) ...")
        piped_slow = pipeline.run(LATENCY_RUNS, latency=pipeline.SERVICE_LATENCY, baseline=False)
        pipeline_profile = pipeline.profile() if piped.orchestration_share > ORCHESTRATION_TARGET else []
        _progress(f"item 6: status of {schedules.SCHEDULES} schedules ({SCHEDULE_RUNS} runs) ...")
        statuses = schedules.run(SCHEDULE_RUNS)
        _progress(f"summaries: one summary of {summaries.MESSAGES:,} messages ...")
        summarised = summaries.run()
    results = Results(
        collected,
        analysed,
        piped,
        piped_slow,
        exports,
        statuses,
        pipeline_profile,
        split_profile,
        harness_seconds=harness_seconds,
    )
    results.total_seconds = time.perf_counter() - started
    runs = {
        "items 1-3": RUNS,
        "latency": LATENCY_RUNS,
        "item 5": EXPORT_RUNS,
        "item 5 (50 MiB)": EXPORT_RUNS_50,
        "item 6": SCHEDULE_RUNS,
    }
    _progress("item 7: one-shot `guildflow run daily` commands ...")
    from benchmarks import oneshot

    one_shot = oneshot.run()
    write_results(results, runs)
    summaries.append_to_results(REPO / "benchmarks" / "RESULTS.md", summarised)
    with (REPO / "benchmarks" / "RESULTS.md").open("a") as written:
        written.write("\n" + one_shot.markdown() + "\n")
    print(table(results))
    print(summaries.markdown(summarised))
    print(one_shot.markdown())
    _progress(f"total {results.total_seconds:.0f} s; written to {REPO / 'benchmarks' / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
