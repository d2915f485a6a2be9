"""`guildflow job` as a user types it, against the session's Prefect server (the test harness)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.jobs import post_message, reminder
from guildflow.job_cli import job_app

runner = CliRunner()
GUILD = "579805515301131997"


@pytest.fixture
def out(prefect_harness: None, guildflow_env: Path) -> Path:
    post_message.to_deployment(name="jobs").apply()
    reminder.to_deployment(name="jobs").apply()
    return guildflow_env / "out"


def job(*args: str, code: int = 0) -> str:
    result = runner.invoke(job_app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_schedule_list_show_and_cancel_a_job(out: Path) -> None:
    schedule = ["schedule", "post-message", "--at", "2099-12-24 18:00", "--timezone", "Europe/Berlin",
                "--payload", '{"text": "round 1 results"}', "--reminders", "30m,5m,1m", "--to", f"file:{out}",
                "--description", "Round 1 results", "--guild", GUILD]  # fmt: skip
    printed = job(*schedule)
    job_id = re.search(r"job ([0-9a-f]{12}) scheduled: Round 1 results", printed)
    assert job_id, printed
    assert "runs post-message at 2099-12-24 17:00 UTC (2099-12-24 18:00 Europe/Berlin), in " in printed
    assert "reminder 30m before, at 2099-12-24 16:30 UTC (2099-12-24 17:30 Europe/Berlin)" in printed
    assert printed.count("reminder ") == 3

    assert f"job {job_id[1]} already scheduled (nothing new made)" in job(*schedule)
    listed = job("list", "--guild", GUILD)
    assert re.search(rf"{job_id[1]}  post-message  in \d+d \d+h  reminders left: 30m,5m,1m  to: file:{out}", listed)
    assert job("list", "--guild", "111111111111111111") == "no pending jobs\n"
    assert "reminder 5m before" in job("show", job_id[1])

    assert f"job {job_id[1]} cancelled" in job("cancel", job_id[1])
    assert job_id[1] not in job("list", "--guild", GUILD)
    assert f"{job_id[1]}  post-message  Cancelled: cancelled with guildflow job cancel" in job("list", "--all")
    assert "has finished already (Cancelled" in job("cancel", job_id[1], code=1)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["launch", "--in", "1h"], "'launch' is not an action"),
        (["post-message", "--at", "2020-01-01 10:00"], "is in the past"),
        (["post-message", "--in", "10m", "--reminders", "30m"], "a reminder 30m before is not possible"),
        (["post-message", "--in", "10m", "--payload", "{text"], "--payload is not JSON"),
        (["post-message", "--in", "soon"], "'soon' is not a duration such as 2h30m"),
    ],
)
def test_bad_input_is_one_clear_line_and_makes_nothing(out: Path, args: list[str], problem: str) -> None:
    printed = job("schedule", *args, "--to", f"file:{out}", code=2)
    assert problem in printed and "Traceback" not in printed
