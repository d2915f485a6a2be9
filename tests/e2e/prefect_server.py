"""Helpers for end-to-end tests against a real Prefect server: the server, workers and CLI calls run as
subprocesses on 127.0.0.1 with a throwaway PREFECT_HOME and throwaway GUILDFLOW_* paths, so the repo's
.guildflow/ folder is never touched. Every subprocess writes its output to a file in the test's tmp dir;
failures quote the tail of the server and worker logs.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.conftest import REPO, SAMPLE_EXPORTS

PREFECT = str(Path(sys.executable).parent / "prefect")  # the venv's CLI, next to the running python
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

SERVER_HEALTHY_WITHIN = 120  # s; healthy in 8-20 s on a fresh database (migrations)
STOP_WITHIN = 20  # s after SIGINT before SIGKILL
CLI_WITHIN = 180  # s for one `prefect ...` command
POLL_SECONDS = 0.5

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    server: Service,
    diagnostics: Callable[[], str] = str,
) -> T:
    """Poll predicate until it returns something truthy (and return that); fail after timeout seconds.

    Between two polls it waits on the server process, so a server that dies fails the test at once."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except httpx.HTTPError as error:  # the server may be starting or briefly busy (SQLite locks)
            value, last_error = None, error
        if value:
            return value
        if server.exited_within(POLL_SECONDS):
            server.check_alive()
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
    stopped: bool = False

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- last {lines} lines of {self.name} log ({self.log}) ---\n{tail(text, lines)}"

    def exited_within(self, seconds: float) -> bool:
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

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
    if service.stopped:  # once only: the group id may be reused afterwards
        return
    group = service.process.pid
    if service.process.poll() is None:
        _signal_group(group, signal.SIGINT)
        try:
            service.process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            print(f"\n{service.name} did not stop within {STOP_WITHIN} s of SIGINT; killing it")
    _signal_group(group, signal.SIGKILL)  # leftovers of the group, if any
    service.process.wait(timeout=STOP_WITHIN)
    service.stopped = True


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        pass


def run_cli(args: list[str], env: dict[str, str], logs: Path, diagnostics: Callable[[], str] = str) -> str:
    """Run one `prefect ...` command from the repo root; fail with its output unless it exits 0."""
    result = subprocess.run(
        [PREFECT, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CLI_WITHIN,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    name = re.sub(r"[^a-z0-9]+", "-", " ".join(args).lower()).strip("-")[:60]
    (logs / f"cli-{name}.log").write_text(output)
    assert result.returncode == 0, (
        f"`prefect {' '.join(args)}` exited {result.returncode}:\n{tail(output, 60)}\n{diagnostics()}"
    )
    return output


@dataclass
class PrefectStack:
    """A healthy `prefect server start` and the workers started on it (see running_server)."""

    api_url: str
    logs: Path
    env: dict[str, str]  # PREFECT_* for every subprocess
    guildflow_env: dict[str, str]  # GUILDFLOW_* for deploy and workers (hence the flow runs)
    server: Service
    workers: list[Service] = field(default_factory=list)

    def diagnostics(self) -> str:
        return "\n".join(service.tail() for service in [self.server, *self.workers])

    def cli(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        return run_cli(list(args), {**self.env, **(extra_env or {})}, self.logs, self.diagnostics)

    def deploy(self, pool: str, extra_env: dict[str, str] | None = None) -> str:
        """A process work pool, then `prefect --no-prompt deploy --all` from the repo root; returns its output."""
        self.cli("work-pool", "create", pool, "--type", "process")
        return self.cli("--no-prompt", "deploy", "--all", extra_env={**self.guildflow_env, **(extra_env or {})})

    def start_worker(self, name: str, pool: str, extra_env: dict[str, str] | None = None) -> Service:
        """`prefect worker start --pool POOL --name NAME`, polling every 2 s, with the tmp GUILDFLOW_* paths;
        stopped when the server context exits."""
        env = {**self.env, **self.guildflow_env, "PREFECT_WORKER_QUERY_SECONDS": "2", **(extra_env or {})}
        worker = start_service(name, [PREFECT, "worker", "start", "--pool", pool, "--name", name], env, self.logs)
        self.workers.append(worker)
        return worker


@contextmanager
def running_server(
    root: Path, database_url: str | None = None, server_env: dict[str, str] | None = None
) -> Iterator[PrefectStack]:
    """A real `prefect server start` on a free port, healthy, its database at database_url (default: SQLite
    in a fresh PREFECT_HOME under root). Stops its workers, then the server, on exit."""
    home, logs, data = root / "prefect-home", root / "logs", root / "guildflow"
    for folder in (home, logs, data):
        folder.mkdir()
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "GUILDFLOW_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_DATABASE_CONNECTION_URL=database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PYTHONUNBUFFERED="1",
        COLUMNS="200",  # keep rich from wrapping the flow run id in CLI output
    )
    guildflow_env = {
        "GUILDFLOW_WORKBOOK": str(data / "workbook.sqlite"),
        "GUILDFLOW_OUTBOX": str(data / "outbox"),
        "GUILDFLOW_LEDGER": str(data / "publish-ledger.sqlite"),
        "GUILDFLOW_DISCORD_EXPORT": SAMPLE_EXPORTS,
    }
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = start_service("server", command, {**env, **(server_env or {})}, logs)
    stack = PrefectStack(api_url, logs, env, guildflow_env, server)
    try:
        started = time.monotonic()

        def healthy() -> bool:
            server.check_alive()
            return httpx.get(f"{api_url}/health", timeout=5).status_code == 200

        wait_until(healthy, SERVER_HEALTHY_WITHIN, "the Prefect server to be healthy", server, stack.diagnostics)
        print(f"\nprefect server healthy after {time.monotonic() - started:.1f} s at {api_url}")
        yield stack
    finally:
        for service in [*reversed(stack.workers), server]:
            stop_service(service)
