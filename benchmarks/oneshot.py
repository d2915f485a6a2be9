"""Item 7: `guildflow run daily` as a user types it, a new process each time (issue 16, targets 1, 2 and 4).

- the 28-post day (the sample exports) on the embedded defaults, without PREFECT_API_URL: the first
  command on a new PREFECT_HOME (it starts the background server: database migrations included), then
  commands reusing that server, each on a new day's data; then the same day once more (nothing new);
- the same day with PREFECT_API_URL set (the server already running): nothing to start or check;
- the 200-post day of item 3, every backend on its real client against the emulators, reusing the server,
  against the naive baseline's wall (its sleeps included).

CPU = the command's user + system seconds (its children included, from wait4) + what the background server
spent meanwhile (it is not the command's child: psutil reads it from PREFECT_HOME/server.pid).
Walls are only comparable with the targets on an idle machine: the section's title says the load average.
Run alone: `.venv/bin/python -m benchmarks.oneshot` (or `make bench-oneshot`).
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
COMMAND = [str(REPO / ".venv" / "bin" / "guildflow"), "run", "daily"]
SAMPLE_EXPORTS = str(REPO / "examples" / "discord" / "*.json")
RUNS = 5
BIG_DAY_RUNS = 3
WALL_TARGET, CPU_TARGET, WALL_TARGET_WITH_API = 10.0, 10.0, 5.0
SPEEDUP_TARGET = 50.0
# Metadata, key read, Posts append, analysis update, Archive append, row deletion, cursor write (issue 16).
SHEETS_FLOOR = 7


@dataclass(frozen=True)
class Command:
    wall: float
    command_cpu: float  # the command and its children
    server_cpu: float  # the background server meanwhile

    @property
    def cpu(self) -> float:
        return self.command_cpu + self.server_cpu


@dataclass
class OneShotResults:
    first: Command  # a new PREFECT_HOME: the background server starts
    reused: list[Command] = field(default_factory=list)
    no_op: list[Command] = field(default_factory=list)
    with_api_url: list[Command] = field(default_factory=list)
    big_day: list[Command] = field(default_factory=list)
    naive_seconds: float = 0.0  # the naive baseline's wall on the 200-post day, its sleeps included
    sheets_requests: int = 0  # Sheets API requests of one 200-post day (Google's token endpoint excluded)
    token_requests: int = 0  # OAuth token fetches of that day
    load: float = field(default_factory=lambda: os.getloadavg()[0])  # 1-minute load average as it ended

    def markdown(self) -> str:
        """The section RESULTS.md gets."""
        title = f"## Item 7: one-shot `guildflow run daily` (1-minute load average {self.load:.1f} as it ended)"
        return "\n".join([title, "", *self.table()])

    def table(self) -> list[str]:
        def row(name: str, commands: list[Command], wall_target: float | None, cpu_target: float | None) -> str:
            wall, cpu = median(c.wall for c in commands), median(c.cpu for c in commands)
            server = median(c.server_cpu for c in commands)
            return (
                f"| {name} | {len(commands)} | {wall:.1f} s{_verdict(wall, wall_target)} | "
                f"{cpu:.1f} s{_verdict(cpu, cpu_target)} | {server:.1f} s |"
            )

        speedup = self.naive_seconds / median(c.wall for c in self.big_day) if self.big_day else 0.0
        return [
            "| `guildflow run daily`, a new process each time | runs | wall (median) | CPU incl. server | "
            "of which server |",
            "| --- | --- | --- | --- | --- |",
            row("28-post day, first command on a new PREFECT_HOME (starts the server)", [self.first], None, None),
            row("28-post day, background server reused", self.reused, WALL_TARGET, CPU_TARGET),
            row("the same day again (nothing new)", self.no_op, WALL_TARGET, CPU_TARGET),
            row("28-post day, PREFECT_API_URL set", self.with_api_url, WALL_TARGET_WITH_API, None),
            row("200-post day, real clients on the emulators, server reused", self.big_day, None, None),
            "",
            f"200-post day: the naive baseline takes {self.naive_seconds:.0f} s (its sleeps included); the one-shot "
            f"command is {speedup:.0f}x faster (target >= {SPEEDUP_TARGET:g}x"
            f"{' ok' if speedup >= SPEEDUP_TARGET else ' MISSED'}). It made {self.sheets_requests} Sheets requests "
            f"(floor {SHEETS_FLOOR}: the four more are the header read, the draft noted on its rows, the receipt, "
            f"and a fresh key read before deleting rows) with {self.token_requests} OAuth token.",
        ]


def _verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return f" (<= {target:g} {'ok' if value <= target else 'MISSED'})"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_cpu(prefect_home: Path) -> float:
    import psutil

    try:
        pid = int((prefect_home / "server.pid").read_text().strip())
        process = psutil.Process(pid)
        times = [process.cpu_times(), *(child.cpu_times() for child in process.children(recursive=True))]
    except (OSError, ValueError, psutil.Error):
        return 0.0
    return sum(t.user + t.system for t in times)


def run_command(env: dict[str, str], cwd: Path) -> Command:
    prefect_home = Path(env["PREFECT_HOME"])
    server_before = _server_cpu(prefect_home)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(COMMAND, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"`guildflow run daily` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    command_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Command(wall, command_cpu, _server_cpu(prefect_home) - server_before)


def _embedded_day(folder: Path) -> dict[str, str]:
    """The embedded defaults on the sample exports, everything they write in `folder`."""
    return {
        "GUILDFLOW_DISCORD_EXPORT": SAMPLE_EXPORTS,
        "GUILDFLOW_WORKBOOK": str(folder / "workbook.sqlite"),
        "GUILDFLOW_OUTBOX": str(folder / "outbox"),
        "GUILDFLOW_LEDGER": str(folder / "ledger.sqlite"),
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(folder / "results"),  # a new day: no analysis cached
    }


@contextmanager
def prefect_home() -> Iterator[dict[str, str]]:
    """The environment of a user with a new PREFECT_HOME and no PREFECT_API_URL; its server stopped after."""
    with tempfile.TemporaryDirectory(prefix="guildflow-oneshot-") as home:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("PREFECT_", "GUILDFLOW_")) or name in ("PREFECT_SERVER_ANALYTICS_ENABLED",)
        }
        env |= {
            "PREFECT_HOME": home,
            "PREFECT_SERVER_API_PORT": str(_free_port()),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        try:
            yield env
        finally:
            prefect = str(REPO / ".venv" / "bin" / "prefect")
            subprocess.run([prefect, "server", "stop"], env=env, capture_output=True, timeout=120)


def run(runs: int = RUNS, big_day_runs: int = BIG_DAY_RUNS) -> OneShotResults:
    with prefect_home() as env, tempfile.TemporaryDirectory(prefix="guildflow-oneshot-days-") as days:
        day = Path(days)

        def new_day(name: str) -> tuple[dict[str, str], Path]:
            folder = day / name
            folder.mkdir()
            return env | _embedded_day(folder), folder

        _progress("one-shot: the first command on a new PREFECT_HOME ...")
        results = OneShotResults(first=run_command(*new_day("first")))
        _progress(f"one-shot: {runs} days reusing the background server, then the same day again ...")
        for index in range(runs):
            day_env, folder = new_day(f"reused-{index}")
            results.reused.append(run_command(day_env, folder))
            results.no_op.append(run_command(day_env, folder))
        pid = (Path(env["PREFECT_HOME"]) / "server.pid").read_text().strip()
        api_url = f"http://127.0.0.1:{env['PREFECT_SERVER_API_PORT']}/api"
        _progress(f"one-shot: {runs} days with PREFECT_API_URL={api_url} (server pid {pid}) ...")
        for index in range(runs):
            day_env, folder = new_day(f"api-url-{index}")
            results.with_api_url.append(run_command(day_env | {"PREFECT_API_URL": api_url}, folder))
        _progress(f"one-shot: the 200-post day ({big_day_runs} runs) and the naive baseline ...")
        big_day = _big_day(env, api_url, big_day_runs)
        results.big_day, results.naive_seconds, results.sheets_requests, results.token_requests = big_day
    results.load = os.getloadavg()[0]
    return results


def _big_day(env: dict[str, str], api_url: str, runs: int) -> tuple[list[Command], float, int, int]:
    """The 200-post day of item 3 as a one-shot command (fresh emulators, no cached analysis, fresh Gemini
    rate-limit buckets each run), and the naive baseline once on the same emulators."""
    from prefect.settings import temporary_settings

    from benchmarks import naive
    from benchmarks.common import discord_messages, first_message_id, fresh_prefect_state, services, timed
    from benchmarks.pipeline import MESSAGES, POSTS

    messages = discord_messages(MESSAGES, POSTS)
    cursor = first_message_id(messages) - 1
    commands = []
    for _ in range(runs):
        with (
            services(messages, cursor=cursor) as emulated,
            temporary_settings(updates={"api.url": api_url}),  # fresh_prefect_state's calls: the same server
            fresh_prefect_state(),
            tempfile.TemporaryDirectory() as storage,
        ):
            guildflow = {name: value for name, value in os.environ.items() if name.startswith("GUILDFLOW_")}
            results = {"PREFECT_RESULTS_LOCAL_STORAGE_PATH": storage}  # no analysis cached
            commands.append(run_command(env | guildflow | results, Path(storage)))
            tokens = emulated.sheets.calls("POST", r"^/token$")
            sheets_requests = len(emulated.sheets.requests) - tokens
    with services(messages, cursor=cursor):
        naive_run = naive.NaiveRun()
        archived, elapsed = timed(partial(naive.pipeline, naive_run))
        assert 0 < archived <= POSTS, archived
    return commands, elapsed + naive_run.delay_seconds, sheets_requests, tokens


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    sys.path.insert(0, str(REPO))
    results = run()
    print(results.markdown())


if __name__ == "__main__":
    main()
