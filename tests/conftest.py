"""Test-wide setup: an isolated Prefect home, and one Prefect test harness for the session."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before Prefect is imported anywhere: never touch the developer's ~/.prefect or send telemetry.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="guildflow-tests-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"

REPO = Path(__file__).resolve().parent.parent
SAMPLE_EXPORTS = str(REPO / "examples" / "discord" / "*.json")


@pytest.fixture(scope="session", autouse=True)
def no_background_server_left() -> Iterator[None]:
    """No test may leave a background Prefect server (guildflow/prefect_api.py) running in the tests' PREFECT_HOME."""
    yield
    pid_file = Path(os.environ["PREFECT_HOME"]) / "server.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        pytest.fail("a test started the background Prefect server and left it running (stopped now)")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        # The heartbeat thread makes every flow call wait ~1 s; tests need no crash detection.
        with temporary_settings(updates={"flows.heartbeat_frequency": None}):
            yield


@pytest.fixture
def guildflow_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every GUILDFLOW_* path in a fresh folder, the sample exports as the source; returns the folder."""
    for name in [name for name in os.environ if name.startswith("GUILDFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", SAMPLE_EXPORTS)
    monkeypatch.setenv("GUILDFLOW_WORKBOOK", str(tmp_path / "workbook.sqlite"))
    monkeypatch.setenv("GUILDFLOW_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("GUILDFLOW_LEDGER", str(tmp_path / "ledger.sqlite"))
    # A command run in-process without a Prefect API never leaves a background server behind.
    monkeypatch.setenv("GUILDFLOW_PREFECT_SERVER", "temporary")
    # The sample day's 13 projects in one daily post (7 tweets), so one run finishes the day; the budget's
    # own tests set a smaller one (the default, 5, leaves 4 of its 27 posts for the next day).
    monkeypatch.setenv("GUILDFLOW_DAILY_POST_MAX_TWEETS", "25")
    monkeypatch.chdir(tmp_path)  # so a developer's .env in the repo cannot leak in
    return tmp_path
