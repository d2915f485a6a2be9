"""`guildflow export`: now, schedule, status, disable and restore, invoked as a user would (the sub-app alone)."""

from __future__ import annotations

import errno
import json
import re
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from prefect.settings import temporary_settings
from typer.testing import CliRunner

from core.playerdata import guild_ids
from core.playerdata_export import DEPLOYMENT
from flows.playerdata import playerdata_export
from guildflow.export_cli import export_app
from tests.conftest import REPO
from tests.emulators.discord import DiscordEmulator

runner = CliRunner()
SAMPLE = (REPO / "examples" / "playerData.json").read_bytes()
GUILD = guild_ids(json.loads(SAMPLE))[0]
CHANNEL, ADMIN_CHANNEL = "1300000000000000111", "1300000000000000333"
SLUG = f"playerdata-server-{GUILD}-{CHANNEL}"


@pytest.fixture
def discord() -> Iterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    emulator.add_channel(int(CHANNEL), "backups", guild_id=int(GUILD))
    with emulator.running():
        yield emulator


@pytest.fixture
def source(prefect_harness: None, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = guildflow_env / "playerData.json"
    path.write_bytes(SAMPLE)
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA", str(path))
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_ALL_CHANNELS", ADMIN_CHANNEL)
    return path


@pytest.fixture
def with_discord(source: Path, discord: DiscordEmulator, monkeypatch: pytest.MonkeyPatch) -> DiscordEmulator:
    monkeypatch.setenv("GUILDFLOW_DISCORD_TOKEN", discord.token)
    monkeypatch.setenv("GUILDFLOW_DISCORD_API_BASE", discord.api_base)
    return discord


@pytest.fixture
def deployment_id(source: Path, monkeypatch: pytest.MonkeyPatch) -> UUID:
    """A fresh playerdata-export/scheduled deployment, as `prefect deploy` leaves it (no schedules), and a bot
    token, so that schedules can post."""
    monkeypatch.setenv("GUILDFLOW_DISCORD_TOKEN", "the-bot-token")
    with get_client(sync_client=True) as client:
        try:
            client.delete_deployment(client.read_deployment_by_name(DEPLOYMENT).id)
        except Exception:  # not there yet
            pass
    return playerdata_export.to_deployment(name=DEPLOYMENT.split("/")[1]).apply()


def now() -> datetime:
    return datetime.now(timezone.utc)


def invoke(*args: str):  # noqa: ANN201
    return runner.invoke(export_app, list(args))


# export now


def test_now_with_only_a_copy_folder_needs_no_discord(source: Path, tmp_path: Path) -> None:
    result = invoke("now", "--type", "all", "--copy-to", str(tmp_path / "copies"))
    assert result.exit_code == 0, result.output
    [copy] = (tmp_path / "copies").glob("playerdata-scheduled-*")
    assert copy.read_bytes() == SAMPLE
    assert f"exported all guilds: not posted, copied to 1 file(s): {copy.name}" in result.output


def test_now_warns_when_the_export_has_fewer_guilds_than_the_previous_copy(source: Path, tmp_path: Path) -> None:
    folder = str(tmp_path / "copies")
    assert invoke("now", "--type", "all", "--copy-to", folder).exit_code == 0
    source.write_text(json.dumps({GUILD: json.loads(SAMPLE)[GUILD]}))
    result = invoke("now", "--type", "all", "--copy-to", folder)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("⚠️ Degraded export? 1 guild(s) where the previous export had 5")


def test_now_posts_to_the_channel(with_discord: DiscordEmulator) -> None:
    result = invoke("now", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    assert result.exit_code == 0, result.output
    assert f"exported guild {GUILD} to channel {CHANNEL}: posted 1 file(s)" in result.output
    assert len(with_discord.posts) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--type", "server", "--guild", GUILD], "give --channel to post the export, --copy-to"),
        (["--type", "all", "--channel", CHANNEL], f"channel {CHANNEL} may not receive `all` exports"),
        (["--type", "server", "--channel", CHANNEL], "a server export needs the guild id (--guild)"),
    ],
)
def test_now_refuses_before_running(source: Path, args: list[str], expected: str) -> None:
    result = invoke("now", *args)
    assert result.exit_code == 2 and expected in result.output


def test_now_reports_a_failed_export(source: Path, tmp_path: Path) -> None:
    source.write_text("{oops")
    result = invoke("now", "--type", "all", "--copy-to", str(tmp_path))
    assert result.exit_code == 1 and "export failed: " in result.output and "is not valid JSON" in result.output


# schedules


def test_schedule_status_and_disable(deployment_id: UUID, source: Path) -> None:
    created = invoke("schedule", "--every", "30", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    assert created.exit_code == 0, created.output
    assert f"created schedule {SLUG}: guild {GUILD} to channel {CHANNEL} every 30 min" in created.output
    assert re.search(r"first run \S+ starts now", created.output)

    replaced = invoke("schedule", "--every", "120", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    assert replaced.exit_code == 0 and f"replaced schedule {SLUG}" in replaced.output
    with get_client(sync_client=True) as client:
        [schedule] = client.read_deployment_schedules(deployment_id)
        first_runs = client.read_flow_runs()
    assert schedule.slug == SLUG and schedule.schedule.interval.total_seconds() == 7200
    assert schedule.parameters == {"export_type": "server", "guild_id": GUILD, "channel_id": CHANNEL}
    due_now = [run for run in first_runs if run.deployment_id == deployment_id and run.expected_start_time <= now()]
    assert len(due_now) == 1 and due_now[0].created_by.id == schedule.id  # the replaced one's first run gave way

    status = invoke("status")
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert lines[0] == f"{SLUG}  active"
    assert lines[1] == f"  type server  guild {GUILD}  channel {CHANNEL}"
    assert lines[2] == "  every 2 h  consecutive failures 0"
    assert lines[3] == "  last run: none yet"  # the first runs wait for a worker
    assert re.fullmatch(r"  next run: \d{4}-\d\d-\d\d \d\d:\d\d UTC \(due, waiting for a worker\)", lines[4])
    assert lines[5] == "  last 30 days: no finished runs"

    disabled = invoke("schedule", "--every", "0", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    assert disabled.exit_code == 0 and f"disabled schedule {SLUG}" in disabled.output
    lines = invoke("status").output.splitlines()
    assert lines[0].startswith(f"{SLUG}  paused: disabled with `guildflow export disable` or `--every 0` (since ")
    assert lines[4] == "  next run: none scheduled"

    again = invoke("disable", "--type", "server", "--guild", GUILD, "--channel", CHANNEL)
    assert again.exit_code == 0
    unknown = invoke("disable", "--type", "all", "--channel", ADMIN_CHANNEL)
    assert unknown.exit_code == 1 and f"no export schedule for all guilds to channel {ADMIN_CHANNEL}" in unknown.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--every", "10081", "--type", "all", "--channel", ADMIN_CHANNEL], "give 1 to 10080 minutes"),
        (["--every", "-5", "--type", "all", "--channel", ADMIN_CHANNEL], "give 1 to 10080 minutes"),
        (["--every", "60", "--type", "all", "--channel", CHANNEL], "GUILDFLOW_PLAYERDATA_ALL_CHANNELS"),
    ],
)
def test_schedule_refuses_bad_options(deployment_id: UUID, args: list[str], expected: str) -> None:
    result = invoke("schedule", *args)
    assert result.exit_code == 2 and expected in result.output
    with get_client(sync_client=True) as client:
        assert client.read_deployment_schedules(deployment_id) == []


def test_a_schedule_that_cannot_post_is_refused_unless_asked_for(
    deployment_id: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUILDFLOW_DISCORD_TOKEN")
    args = ["schedule", "--every", "60", "--type", "server", "--guild", GUILD, "--channel", CHANNEL]
    refused = invoke(*args)
    assert refused.exit_code == 2 and "every run of this schedule would fail here: Discord channel" in refused.output
    assert "GUILDFLOW_DISCORD_TOKEN" in refused.output and "--anyway" in refused.output
    with get_client(sync_client=True) as client:
        assert client.read_deployment_schedules(deployment_id) == []

    anyway = invoke(*args, "--anyway")
    assert anyway.exit_code == 0 and anyway.output.startswith("warning: Discord channel")
    assert f"created schedule {SLUG}" in anyway.output


def test_schedules_need_the_deployment_and_a_server(source: Path) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.delete_deployment(client.read_deployment_by_name(DEPLOYMENT).id)
        except Exception:
            pass
    result = invoke("status")
    assert result.exit_code == 2 and "prefect deploy --name scheduled" in result.output
    with temporary_settings(restore_defaults={"api.url"}):
        result = invoke("schedule", "--every", "60", "--type", "all", "--channel", ADMIN_CHANNEL)
    assert result.exit_code == 2 and "PREFECT_API_URL is not set" in result.output


# restore


def exported_copy(tmp_path: Path, *args: str) -> Path:
    folder = tmp_path / "backups"
    result = invoke("now", *args, "--copy-to", str(folder))
    assert result.exit_code == 0, result.output
    return max(folder.glob("playerdata-scheduled-*"))


def test_restore_dry_run_writes_nothing_then_restore_round_trips(source: Path, tmp_path: Path) -> None:
    backup = exported_copy(tmp_path, "--type", "server", "--guild", GUILD)
    damaged = json.loads(SAMPLE)
    removed = sorted(damaged[GUILD]["players"])[0]
    del damaged[GUILD]["players"][removed]
    damaged[GUILD]["prefix"] = "?"
    source.write_text(json.dumps(damaged, indent=2, ensure_ascii=False) + "\n")
    before, listing = source.read_bytes(), sorted(source.parent.iterdir())

    dry = invoke("restore", str(backup), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"guild {GUILD}: players +1 -0 ~0; keys changed: prefix" in dry.output
    assert "dry run: " in dry.output
    assert source.read_bytes() == before and sorted(source.parent.iterdir()) == listing

    restored = invoke("restore", str(backup), "--guild", GUILD)
    assert restored.exit_code == 0, restored.output
    assert source.read_bytes() == SAMPLE  # byte for byte: the bot's own layout is kept
    [kept] = [path for path in source.parent.iterdir() if path.name.endswith(".bak")]
    assert re.fullmatch(r"playerData\.json\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.bak", kept.name)
    assert kept.read_bytes() == before and f"backup of the previous file: {kept}" in restored.output


def test_restore_an_all_export_into_another_target(source: Path, tmp_path: Path) -> None:
    backup = exported_copy(tmp_path, "--type", "all")
    target = tmp_path / "fresh" / "playerData.json"
    result = invoke("restore", str(backup), "--target", str(target))
    assert result.exit_code == 0, result.output
    assert "does not exist: the restore creates it" in result.output and target.read_bytes() == SAMPLE


@pytest.mark.parametrize(
    ("content", "guild", "expected"),
    [
        (b'{"exportVersion": "2.0", "dataType": "playerData"}', None, "has export version '2.0'"),
        (b'{"exportVersion": "1.0", "dataType": "sheet"}', None, "is not a playerData export"),
        (None, "1227553073217360256", "the export is of guild"),
    ],
)
def test_restore_refuses_a_bad_export(
    source: Path, tmp_path: Path, content: bytes | None, guild: str | None, expected: str
) -> None:
    backup = exported_copy(tmp_path, "--type", "server", "--guild", GUILD)
    if content is not None:
        backup.write_bytes(content)
    result = invoke("restore", str(backup), *(["--guild", guild] if guild else []))
    assert result.exit_code == 2 and expected in result.output
    assert source.read_bytes() == SAMPLE and not list(source.parent.glob("*.bak"))


def unchanged(source: Path, before: bytes) -> bool:
    """Nothing written: the file as it was, and no backup next to it."""
    return source.read_bytes() == before and not list(source.parent.glob("*.bak"))


def test_a_restore_that_removes_guilds_is_refused_without_the_flag(source: Path, tmp_path: Path) -> None:
    """The issue's case: a damaged `all` export (one guild left) restored over the whole file."""
    data = json.loads(SAMPLE)
    damaged = tmp_path / "damaged-all.json"
    damaged.write_text(json.dumps({GUILD: data[GUILD]}))
    players = sum(len(data[guild]["players"]) for guild in guild_ids(data))

    dry = invoke("restore", str(damaged), "--dry-run")
    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    assert lines[0] == f"removes 4 guilds, 2 non-guild keys, {players - 12} players"
    assert lines[2] == "  non-guild keys removed: /* Server ID */, environmentConfig"
    assert lines[-1] == f"dry run: {source} was not changed; a real run needs --allow-removals"

    refused = invoke("restore", str(damaged))
    assert refused.exit_code == 2 and unchanged(source, SAMPLE)
    assert refused.output.startswith(lines[0] + "\n")  # the same summary first
    assert f"refusing to restore into {source}: it removes 4 guilds and the non-guild key(s) " in refused.output
    assert "Traceback" not in refused.output

    allowed = invoke("restore", str(damaged), "--allow-removals")
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(source.read_bytes()) == {GUILD: data[GUILD]}
    [kept] = source.parent.glob("*.bak")
    assert kept.read_bytes() == SAMPLE


@pytest.mark.parametrize("broken", [b"", b'{"579805515301131997": {"players": {', b"[]"])
def test_a_corrupt_or_empty_target_is_restored_over_only_with_the_flag(
    source: Path, tmp_path: Path, broken: bytes
) -> None:
    backup = exported_copy(tmp_path, "--type", "all")
    source.write_bytes(broken)

    dry = invoke("restore", str(backup), "--dry-run")
    assert dry.exit_code == 0 and dry.output.splitlines()[-1].endswith("a real run needs --replace-unreadable")
    refused = invoke("restore", str(backup))
    assert refused.exit_code == 2 and unchanged(source, broken)
    assert f"{source} " in refused.output and "to restore over it, pass --replace-unreadable" in refused.output

    restored = invoke("restore", str(backup), "--replace-unreadable")
    assert restored.exit_code == 0, restored.output
    assert source.read_bytes() == SAMPLE
    [kept] = source.parent.glob("*.bak")
    assert kept.read_bytes() == broken  # the broken file is kept


def test_a_restore_through_a_symlink_writes_the_bots_real_file(source: Path, tmp_path: Path) -> None:
    backup = exported_copy(tmp_path, "--type", "server", "--guild", GUILD)
    bot = tmp_path / "bot"
    bot.mkdir()
    real = bot / "playerData.json"
    damaged = json.loads(SAMPLE)
    damaged[GUILD]["prefix"] = "?"
    real.write_text(json.dumps(damaged, indent=2, ensure_ascii=False) + "\n")
    real.chmod(0o640)
    link = tmp_path / "links" / "playerData.json"
    link.parent.mkdir()
    link.symlink_to(real)

    result = invoke("restore", str(backup), "--target", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == real
    assert real.read_bytes() == SAMPLE and stat.S_IMODE(real.stat().st_mode) == 0o640
    [kept] = bot.glob("*.bak")  # next to the real file, not next to the link
    assert json.loads(kept.read_bytes()) == damaged and list(link.parent.iterdir()) == [link]
    assert f"restored {link} (through the link, into {real})" in result.output


def test_a_server_export_with_a_damaged_guild_is_refused(source: Path, tmp_path: Path) -> None:
    backup = exported_copy(tmp_path, "--type", "server", "--guild", GUILD)
    backup.write_text(json.dumps({**json.loads(backup.read_bytes()), "data": {"players": "oops"}}))
    result = invoke("restore", str(backup))
    assert result.exit_code == 2 and unchanged(source, SAMPLE)
    assert f"guild {GUILD} has players as a string, not an object of players keyed by user id" in result.output


def test_a_folder_that_cannot_be_written_is_a_clear_error(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = exported_copy(tmp_path, "--type", "all")

    def refused(*args: object, **kwargs: object) -> None:  # as the OS answers a folder without write permission
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)  # root may write anywhere, so chmod cannot show it
    result = invoke("restore", str(backup), "--target", str(source))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)  # no traceback
    assert f"cannot write {source} (Permission denied): the restore writes a new file in {source.parent}" in (
        result.output
    )
    assert "--target" in result.output and unchanged(source, SAMPLE)


def test_a_target_in_a_folder_that_is_a_file_is_a_clear_error(source: Path, tmp_path: Path) -> None:
    backup = exported_copy(tmp_path, "--type", "all")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    result = invoke("restore", str(backup), "--target", str(blocker / "playerData.json"))
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"cannot write {blocker / 'playerData.json'} (" in result.output and blocker.read_text() == "a file"
