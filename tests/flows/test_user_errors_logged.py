"""A mistake the user can fix is logged as its message, without Prefect's traceback, in the terminal and in the
run's logs on the server; a bug keeps its traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from prefect import flow, get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler

from flows.playerdata import playerdata_export
from guildflow.logs import hide_tracebacks_of_user_errors
from tests.conftest import REPO

UNKNOWN_GUILD = "123456789012345678"


def run_logs(flow_run_id: UUID) -> list[str]:
    APILogHandler().flush()  # send what is queued, and wait
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs]


@pytest.fixture
def terminal() -> Iterator[io.StringIO]:
    """What a console handler on the flow- and task-run loggers prints, tracebacks included (filtered like
    Prefect's own handlers)."""
    output = io.StringIO()
    console = logging.StreamHandler(output)
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    for logger in loggers:
        logger.addHandler(console)
    hide_tracebacks_of_user_errors()
    yield output
    for logger in loggers:
        logger.removeHandler(console)


def test_a_user_error_is_one_line_everywhere(guildflow_env: Path, terminal: io.StringIO) -> None:
    state = playerdata_export(
        export_type="server",
        guild_id=UNKNOWN_GUILD,
        source=str(REPO / "examples" / "playerData.json"),
        copy_to=str(guildflow_env / "copies"),
        return_state=True,
    )
    assert state.is_failed()
    printed = terminal.getvalue()
    assert f"guild {UNKNOWN_GUILD} is not in playerData" in printed
    assert "Traceback" not in printed
    logged = run_logs(state.state_details.flow_run_id)
    assert any(f"guild {UNKNOWN_GUILD} is not in playerData" in message for message in logged)
    assert not any("Traceback" in message for message in logged)


@flow(persist_result=False)
def buggy() -> None:
    raise RuntimeError("a bug in our code")


def test_a_bug_keeps_its_traceback(terminal: io.StringIO) -> None:
    state = buggy(return_state=True)
    assert state.is_failed()
    printed = terminal.getvalue()
    assert "Traceback" in printed and "a bug in our code" in printed
    assert any("Traceback" in message for message in run_logs(state.state_details.flow_run_id))
