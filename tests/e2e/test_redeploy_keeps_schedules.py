"""End to end: schedules made with `guildflow export schedule` (one of them disabled) survive a redeploy with
`prefect --no-prompt deploy --all` on Prefect 3.9.1: the same schedules, parameters and paused state, and guildflow
still reads them as it wrote them. No worker is needed: nothing here runs a flow."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.e2e.prefect_server import PrefectStack, running_server, tail

POOL = "guildflow"
DEPLOYMENT = "playerdata-export/scheduled"
GUILD, CHANNEL, ADMIN_CHANNEL = "579805515301131997", "1300000000000000111", "1300000000000000333"
GUILDFLOW = str(Path(sys.executable).parent / "guildflow")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectStack]:
    with running_server(tmp_path_factory.mktemp("e2e-redeploy")) as stack:
        yield stack


def guildflow(stack: PrefectStack, *args: str) -> str:
    env = {
        **stack.env,
        **stack.guildflow_env,
        "GUILDFLOW_PLAYERDATA_ALL_CHANNELS": ADMIN_CHANNEL,
        "GUILDFLOW_DISCORD_TOKEN": "the-bot-token",
    }
    result = subprocess.run(
        [GUILDFLOW, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"`guildflow {' '.join(args)}` exited {result.returncode}:\n{tail(output)}"
    return output


def schedules(api: httpx.Client) -> dict[str, dict[str, Any]]:
    response = api.get(f"/deployments/name/{DEPLOYMENT}")
    response.raise_for_status()
    return {schedule["slug"]: schedule for schedule in response.json()["schedules"]}


def test_a_redeploy_keeps_api_made_schedules_and_their_paused_state(stack: PrefectStack, api: httpx.Client) -> None:
    stack.deploy(POOL)
    guildflow(stack, "export", "schedule", "--every", "60", "--type", "all", "--channel", ADMIN_CHANNEL)
    guildflow(
        stack,
        "export",
        "schedule",
        "--type",
        "server",
        "--guild",
        GUILD,
        "--channel",
        CHANNEL,
        "--monthly",
        "31",
        "03:00",
        "--timezone",
        "Europe/Berlin",
    )  # noqa: E501
    guildflow(stack, "export", "disable", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    before = schedules(api)
    listed_before = guildflow(stack, "schedules", "list")
    assert set(before) == {f"playerdata-all-{ADMIN_CHANNEL}", f"playerdata-server-{GUILD}-{CHANNEL}"}

    stack.cli("--no-prompt", "deploy", "--all", extra_env=stack.guildflow_env)

    after = schedules(api)
    assert after == before, f"before the redeploy: {before}\nafter: {after}"
    assert after[f"playerdata-server-{GUILD}-{CHANNEL}"]["active"] is False
    assert after[f"playerdata-server-{GUILD}-{CHANNEL}"]["parameters"] == {
        "export_type": "server",
        "guild_id": GUILD,
        "channel_id": CHANNEL,
    }
    listed = guildflow(stack, "schedules", "list")
    assert listed == listed_before
    assert f"playerdata-server-{GUILD}-{CHANNEL}  paused: disabled with `guildflow export disable`" in listed
    assert "monthly on day 31 (or the month's last day) at 03:00 (Europe/Berlin)" in listed
