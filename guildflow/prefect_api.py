"""Which Prefect API a `guildflow` command talks to, and the local server it starts when there is none.

With PREFECT_API_URL set (environment or Prefect profile), that server. Without it, Prefect itself would start
a temporary server inside every command: 15-30 s and 14-28 CPU-seconds each time, with a 20 s start timeout
that a first start (database migrations) on a busy machine overruns. So guildflow starts Prefect's own server
once, in the background, the way `prefect server start --background` does (recorded in
PREFECT_HOME/server.pid, so `prefect server stop` stops it), and later commands reuse it while it is healthy.
Its run history and UI are those of PREFECT_HOME, at http://<PREFECT_SERVER_API_HOST>:<PREFECT_SERVER_API_PORT>.

GUILDFLOW_PREFECT_SERVER=temporary keeps Prefect's temporary server per command instead, with a start timeout
long enough for a first start.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx

from guildflow.settings import ConfigurationError

# Prefect's own start timeout for its temporary server (20 s) is too short for a first start on a busy machine.
STARTUP_TIMEOUT_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULT_STARTUP_TIMEOUT = 300.0
PID_FILE = "server.pid"  # the name `prefect server start --background` and `prefect server stop` use
LOG_FILE = "guildflow-server.log"
LOCK_FILE = "guildflow-server.lock"
POLL_SECONDS = 0.25
PROGRESS_EVERY = 10.0  # seconds between "still starting" lines
STOP_FIX = "stop it with `prefect server stop`"
DRAIN_TIMEOUT = 30.0  # seconds for Prefect's workers to send what they hold when a command ends


class PrefectUnavailable(ConfigurationError):
    """No Prefect API to run flows against; the message says why and what to do."""


@dataclass(frozen=True)
class LocalServer:
    url: str  # the API URL, .../api
    started: bool  # started by this command (else reused)


def configured_api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def startup_timeout() -> float:
    """The user's own PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, else a generous default."""
    given = os.environ.get(STARTUP_TIMEOUT_SETTING)
    try:
        return float(given) if given else DEFAULT_STARTUP_TIMEOUT
    except ValueError:
        raise PrefectUnavailable(f"{STARTUP_TIMEOUT_SETTING}={given!r} is not a number of seconds") from None


def use_prefect_api(mode: str, say: Callable[[str], None]) -> str:
    """Make this process's Prefect client talk to a server: the configured one, else the local one (mode
    'background', started on demand) or Prefect's temporary one (mode 'temporary'). Returns a description."""
    configured = configured_api_url()
    if configured:
        return configured
    if mode == "temporary":
        os.environ.setdefault(STARTUP_TIMEOUT_SETTING, str(int(DEFAULT_STARTUP_TIMEOUT)))
        _refresh_prefect_settings()
        return "a temporary local Prefect server for this command"
    server = ensure_local_server(say)
    os.environ["PREFECT_API_URL"] = server.url
    _refresh_prefect_settings()
    return f"{server.url} ({'started' if server.started else 'running'} in the background; {STOP_FIX})"


def finish_with_prefect(flow_run_id: UUID | None = None, timeout: float = DRAIN_TIMEOUT) -> None:
    """Call before a command prints its last line: send the logs and events Prefect's background workers still
    hold and, on Prefect's temporary server, stop it now instead of at interpreter exit, so that whatever Prefect
    prints on its way out ("Stopping temporary server ...") comes before that line.

    The temporary server records a task run's states from the events the client sent; stopped while it still
    works through them, it prints "Error flushing ... CancelledError" tracebacks (Prefect 3.9.1 cancels its own
    last flush). So it is stopped only once it shows every task run of flow_run_id finished (or after timeout)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    deadline = time.monotonic() + timeout
    APILogWorker.drain_all(timeout=timeout)
    EventsWorker.drain_all(timeout=timeout)
    if configured_api_url():  # a server that outlives this command
        return
    from prefect.server.api.server import SubprocessASGIServer

    if flow_run_id is not None:
        _wait_for_task_runs_recorded(flow_run_id, deadline)
    SubprocessASGIServer().stop()  # the temporary server Prefect's client started (its default instance)


def _wait_for_task_runs_recorded(flow_run_id: UUID, deadline: float) -> None:
    """Until two polls in a row show the same task runs of the flow run, all in final states (the server records
    events in the order they were sent, so by then it has recorded the last), or the deadline passes."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    finished_before: set[UUID] | None = None
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            finished = all(task_run.state is not None and task_run.state.is_final() for task_run in task_runs)
            ids = {task_run.id for task_run in task_runs}
            if finished and ids == finished_before:
                return
            finished_before = ids if finished else None
            time.sleep(POLL_SECONDS)


def _refresh_prefect_settings() -> None:
    """Prefect reads its settings once, at import: have it read the environment again."""
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()


def ensure_local_server(say: Callable[[str], None], timeout: float | None = None) -> LocalServer:
    """The local server at PREFECT_SERVER_API_HOST:PORT: reused when it answers, else started in the background
    and waited for. One command starts it while others wait (a lock in PREFECT_HOME)."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    home = Path(settings.home).expanduser()
    host, port = settings.server.api.host, settings.server.api.port
    url = f"http://{_url_host(host)}:{port}/api"
    home.mkdir(parents=True, exist_ok=True)
    with _lock(home / LOCK_FILE):
        if _healthy(url):
            return LocalServer(url, started=False)
        if _port_in_use(host, port):
            raise PrefectUnavailable(
                f"port {port} on {host} is taken by a program that is not a healthy Prefect server: set "
                "PREFECT_SERVER_API_PORT to a free port, or PREFECT_API_URL to your Prefect server's API"
            )
        _start(home, host, port, url, timeout if timeout is not None else startup_timeout(), say)
    return LocalServer(url, started=True)


def _start(home: Path, host: str, port: int, url: str, timeout: float, say: Callable[[str], None]) -> None:
    pid_file, log = home / PID_FILE, home / LOG_FILE
    pid_file.unlink(missing_ok=True)  # nothing answers on the port, so a recorded server is gone
    say(
        f"Starting a local Prefect server in the background at {url.removesuffix('/api')} (the first start sets up "
        f"its database and can take a minute; later commands reuse it; {STOP_FIX})"
    )
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*command, "--analytics-off"],
            env={**os.environ, "PREFECT_HOME": str(home)},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command and its terminal's Ctrl-C
        )
    pid_file.write_text(str(process.pid))
    started, reported = time.monotonic(), time.monotonic()
    try:
        while not _healthy(url):
            if process.poll() is not None:
                raise PrefectUnavailable(
                    f"the local Prefect server stopped while starting (exit code {process.returncode}); its log is "
                    f"{log}:\n{_tail(log)}\nFix what it says, or run your own (`prefect server start`) and set "
                    "PREFECT_API_URL"
                )
            waited = time.monotonic() - started
            if waited > timeout:
                raise PrefectUnavailable(
                    f"the local Prefect server did not answer within {timeout:.0f} s (log: {log}). On a slow or busy "
                    f"machine allow longer with {STARTUP_TIMEOUT_SETTING}=600, or start it yourself "
                    "(`prefect server start`) and set PREFECT_API_URL=http://127.0.0.1:4200/api"
                )
            if time.monotonic() - reported >= PROGRESS_EVERY:
                say(f"  still starting ({waited:.0f} s)")
                reported = time.monotonic()
            time.sleep(POLL_SECONDS)
    except BaseException:  # a failed start (or Ctrl-C) leaves no server behind
        _stop(process)
        pid_file.unlink(missing_ok=True)
        raise


def stop_local_server() -> bool:
    """Stop the background server recorded in PREFECT_HOME/server.pid; False when none is running."""
    from prefect.settings import get_current_settings

    pid_file = Path(get_current_settings().home).expanduser() / PID_FILE
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return False
    pid_file.unlink(missing_ok=True)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _port_in_use(host: str, port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def _url_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


def _tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
