"""One `guildflow` command as a subprocess, SIGKILLed (if asked) a given time after its flow run began."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

GUILDFLOW = str(Path(sys.executable).parent / "guildflow")  # the venv's command, next to the running python
# Prefect's console lines for the flow run entering Running, and for its final state.
FLOW_BEGAN = re.compile(r"Flow run '[^']+' - Beginning flow run")
FLOW_ENDED = re.compile(r"Flow run '[^']+' - Finished in state")
_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class CliRun:
    exit_code: int  # negative: killed by that signal
    output: str
    killed_mid_flow: bool  # SIGKILLed after the flow run began and before it reached a final state
    killed_after_flow: bool  # the kill came after the flow's final state, while the command was ending
    hung: bool  # still running at the timeout, then killed
    flow_seconds: float | None  # from the flow run's start to its final state (None: it did not get there)

    @property
    def completed(self) -> bool:
        return self.exit_code == 0

    def last_line(self) -> str:
        return next((line for line in reversed(self.output.splitlines()) if line.strip()), "")


class _Watcher(threading.Thread):
    """Reads the command's output as it comes, noting when the flow run began and ended."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(daemon=True, name="guildflow-output")
        self.stream = stream
        self.lines: list[str] = []
        self.began_at: float | None = None
        self.ended_at: float | None = None
        self.began = threading.Event()
        self.ended = threading.Event()

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line)
            if self.began_at is None and FLOW_BEGAN.search(line):
                self.began_at = time.monotonic()
                self.began.set()
            elif FLOW_ENDED.search(line):
                self.ended_at = time.monotonic()
                self.ended.set()

    def flow_seconds(self) -> float | None:
        return self.ended_at - self.began_at if self.began_at and self.ended_at else None


def run_guildflow(args: list[str], env: dict[str, str], cwd: Path, kill_after: float | None, timeout: float) -> CliRun:
    """`guildflow ARGS`; with kill_after, SIGKILL its process group that many seconds after the flow run began
    (not after the process started: imports and server checks vary). Killed at `timeout` if still running."""
    process = subprocess.Popen(
        [GUILDFLOW, *args],
        env={**env, "PYTHONUNBUFFERED": "1"},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill reaches anything it started
    )
    assert process.stdout is not None
    watcher = _Watcher(process.stdout)
    watcher.start()
    deadline = time.monotonic() + timeout
    killed_mid_flow = killed_after_flow = hung = False
    if kill_after is not None:
        while not watcher.began.wait(_POLL_SECONDS) and process.poll() is None and time.monotonic() < deadline:
            pass
        if watcher.began_at is not None and _still_running(process, watcher.began_at + kill_after):
            killed_mid_flow = not watcher.ended.is_set()
            killed_after_flow = not killed_mid_flow
            _kill(process)
    if _still_running(process, deadline):
        hung = True
        _kill(process)
    process.wait()
    watcher.join(timeout=10)
    output = "".join(watcher.lines)
    return CliRun(process.returncode, output, killed_mid_flow, killed_after_flow, hung, watcher.flow_seconds())


def _still_running(process: subprocess.Popen[str], until: float) -> bool:
    """Wait for the process to end until the monotonic time `until`; True if it is still running then."""
    try:
        process.wait(timeout=max(until - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        return True
    return False


def _kill(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
