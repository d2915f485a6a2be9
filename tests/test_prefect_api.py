"""The local Prefect server guildflow starts when PREFECT_API_URL is not set: what it refuses and how a failed
start cleans up (the happy path, a real start and reuse, is tests/e2e/test_local_server.py)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_SERVER_API_PORT, temporary_settings

from guildflow.prefect_api import (
    DEFAULT_STARTUP_TIMEOUT,
    STARTUP_TIMEOUT_SETTING,
    PrefectUnavailable,
    ensure_local_server,
    startup_timeout,
    use_prefect_api,
)
from tests.e2e.prefect_server import free_port


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(
        updates={PREFECT_HOME: tmp_path, PREFECT_SERVER_API_PORT: free_port()}, restore_defaults={PREFECT_API_URL}
    ):
        yield tmp_path


def test_a_configured_api_is_used_as_it_is(home: Path) -> None:
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert use_prefect_api("background", say=print) == "http://127.0.0.1:9/api"
    assert not (home / "server.pid").exists()


def test_a_port_held_by_another_program_is_named(home: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        with temporary_settings(updates={PREFECT_SERVER_API_PORT: other.getsockname()[1]}):
            with pytest.raises(PrefectUnavailable, match="PREFECT_SERVER_API_PORT"):
                ensure_local_server(say=print)
    assert not (home / "server.pid").exists()


def test_a_start_that_times_out_leaves_no_server(home: Path) -> None:
    said: list[str] = []
    with pytest.raises(PrefectUnavailable, match=f"did not answer within 0 s.*{STARTUP_TIMEOUT_SETTING}"):
        ensure_local_server(say=said.append, timeout=0.0)
    assert said and "Starting a local Prefect server" in said[0]
    assert not (home / "server.pid").exists()
    assert not servers_on(PREFECT_SERVER_API_PORT.value()), "the half-started server was stopped"


def servers_on(port: int) -> list[str]:
    """Processes whose command line starts a Prefect server on this port."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:  # it exited meanwhile
            continue
        if b"server" in args and str(port).encode() in args:
            found.append(cmdline.parent.name)
    return found


def test_startup_timeout_is_the_users_prefect_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STARTUP_TIMEOUT_SETTING, raising=False)
    assert startup_timeout() == DEFAULT_STARTUP_TIMEOUT
    monkeypatch.setenv(STARTUP_TIMEOUT_SETTING, "42")
    assert startup_timeout() == 42
    monkeypatch.setenv(STARTUP_TIMEOUT_SETTING, "soon")
    with pytest.raises(PrefectUnavailable, match="not a number of seconds"):
        startup_timeout()
    assert os.environ[STARTUP_TIMEOUT_SETTING] == "soon"
