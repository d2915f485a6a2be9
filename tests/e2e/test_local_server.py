"""Without PREFECT_API_URL, `guildflow` starts Prefect's server once in the background and later commands
reuse it (the one-shot command costs seconds, not a temporary server's half minute); `prefect server stop`
stops it. With GUILDFLOW_PREFECT_SERVER=temporary, Prefect's temporary server lives inside the command. Either
way the terminal's last line is ours. Real subprocesses, a fresh PREFECT_HOME and a free port."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, SAMPLE_EXPORTS
from tests.e2e.prefect_server import CLI_WITHIN, STOP_WITHIN, free_port

GUILDFLOW = str(Path(sys.executable).parent / "guildflow")
PREFECT = str(Path(sys.executable).parent / "prefect")


@pytest.fixture
def local_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "GUILDFLOW_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_API_PORT=str(free_port()),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        GUILDFLOW_DISCORD_EXPORT=SAMPLE_EXPORTS,
        GUILDFLOW_WORKBOOK=str(tmp_path / "workbook.sqlite"),
        GUILDFLOW_OUTBOX=str(tmp_path / "outbox"),
        GUILDFLOW_LEDGER=str(tmp_path / "ledger.sqlite"),
    )
    yield env
    pid_file = tmp_path / "prefect-home" / "server.pid"
    if pid_file.exists():  # the test failed before stopping it: leave nothing running
        try:
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)
        except ProcessLookupError:
            pass


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=REPO, capture_output=True, text=True, timeout=CLI_WITHIN, stdin=subprocess.DEVNULL
    )


def terminal(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command's output as a terminal shows it: stdout and stderr interleaved, in result.stdout."""
    return subprocess.run(
        command,
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=CLI_WITHIN,
        stdin=subprocess.DEVNULL,
    )


def last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_started_once_reused_then_stopped(local_env: dict[str, str]) -> None:
    api = f"http://127.0.0.1:{local_env['PREFECT_SERVER_API_PORT']}/api"
    pid_file = Path(local_env["PREFECT_HOME"]) / "server.pid"

    checked = run([GUILDFLOW, "check"], local_env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Starting a local Prefect server" in checked.stderr
    assert f"ok   prefect    {api}" in checked.stdout
    assert answers(api) and pid_file.exists()

    first = terminal([GUILDFLOW, "run", "daily"], local_env)
    assert first.returncode == 0, first.stdout
    assert "Starting a local Prefect server" not in first.stdout  # reused
    assert last_line(first.stdout).startswith("daily pipeline completed in "), first.stdout
    runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=10).json()
    assert [run["name"] for run in runs if run["state_type"] == "COMPLETED"], "the run's history is on the server"

    server = os.pidfd_open(int(pid_file.read_text()))  # to wait for its exit itself, not poll with sleeps
    stopped = run([PREFECT, "server", "stop"], local_env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not pid_file.exists()
    exited, _, _ = select.select([server], [], [], STOP_WITHIN)
    os.close(server)
    assert exited, f"the server did not exit within {STOP_WITHIN} s of `prefect server stop`"
    assert not answers(api)


def test_on_a_temporary_server_the_last_line_is_ours(local_env: dict[str, str]) -> None:
    """Prefect stops its temporary server as the command ends, logging that it does, and a server stopped while it
    still records the run's task runs prints "Error flushing ... CancelledError" tracebacks: both before our
    report's last line, or our error's, and the second not at all."""
    env = {**local_env, "GUILDFLOW_PREFECT_SERVER": "temporary"}
    done = terminal([GUILDFLOW, "run", "daily"], env)
    assert done.returncode == 0, done.stdout
    assert "Stopping temporary server" in done.stdout and "Traceback" not in done.stdout, done.stdout
    assert last_line(done.stdout).startswith("daily pipeline completed in "), done.stdout

    failed = terminal([GUILDFLOW, "run", "daily"], {**env, "GUILDFLOW_DISCORD_EXPORT": "nowhere/*.json"})
    assert failed.returncode == 1, failed.stdout
    assert "Traceback" not in failed.stdout, failed.stdout
    assert last_line(failed.stdout).startswith("daily pipeline failed in: collect (no Discord export matches"), (
        failed.stdout
    )
    assert not (Path(local_env["PREFECT_HOME"]) / "server.pid").exists()  # no background server was started
