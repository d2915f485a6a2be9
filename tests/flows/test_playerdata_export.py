"""The playerdata-export flow against the Discord emulator and the harness's Prefect server: what is posted,
what is refused before anything is posted, local copies, and what failed scheduled runs do to their schedule."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest
import yaml
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterCreatedBy
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.flow_engine import run_flow
from prefect.states import State

from bookkeeping.history import ScheduleStatus, schedule_statuses
from bookkeeping.schedules import ScheduleDefinition, save_schedule
from core.playerdata import guild_ids
from core.playerdata_export import DEPLOYMENT, FLOW_NAME, ExportTarget
from core.schedule_spec import spec_from_words
from flows.playerdata import playerdata_export
from tasks.playerdata import plan_player_data_restore, restore_player_data
from tests.conftest import REPO
from tests.emulators.discord import DiscordEmulator

SAMPLE = (REPO / "examples" / "playerData.json").read_bytes()
GUILDS = guild_ids(json.loads(SAMPLE))
GUILD, OTHER_GUILD = GUILDS[0], GUILDS[1]
GUILD_CHANNEL, OTHER_GUILD_CHANNEL, ADMIN_CHANNEL = "1300000000000000111", "1300000000000000222", "1300000000000000333"
STAMP = r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z"
GZIP_CAP_MB, SPLIT_CAP_MB = 8 / 1024, 5 / 1024  # the sample is 64 KiB of JSON, 6.7 KiB gzipped, ~2.1 KiB per guild


@pytest.fixture
def discord() -> Iterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    emulator.add_channel(int(GUILD_CHANNEL), "backups", guild_id=int(GUILD), guild_name="Dragon's Rest")
    emulator.add_channel(int(OTHER_GUILD_CHANNEL), "general", guild_id=int(OTHER_GUILD))
    emulator.add_channel(int(ADMIN_CHANNEL), "admin-backups", guild_id=int(GUILD))
    with emulator.running():
        yield emulator


@pytest.fixture
def source(guildflow_env: Path, discord: DiscordEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample playerData, the bot token and the emulator's URL in the environment."""
    path = guildflow_env / "playerData.json"
    path.write_bytes(SAMPLE)
    for name, value in {
        "PLAYERDATA": str(path),
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_BASE": discord.api_base,
        "PLAYERDATA_ALL_CHANNELS": ADMIN_CHANNEL,
    }.items():
        monkeypatch.setenv(f"GUILDFLOW_{name}", value)
    return path


def export(**parameters: str) -> State:
    return playerdata_export(**parameters, return_state=True)


def failure(state: State) -> str:
    assert state.is_failed(), state
    return str(state.result(raise_on_failure=False))


def restored_bytes(tmp: Path, files: dict[str, bytes], guild: str | None = None) -> bytes:
    """Restore the downloaded export file(s) into a copy of the source, as an admin would."""
    target, folder = tmp / "restore-target.json", tmp / "downloads"
    target.write_bytes(SAMPLE)
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    restore_player_data(plan_player_data_restore([folder / name for name in files], target, guild), [])
    return target.read_bytes()


# Exports


def test_a_server_export_posts_the_wrapped_guild(source: Path, discord: DiscordEmulator, tmp_path: Path) -> None:
    state = export(export_type="server", guild_id=GUILD, channel_id=GUILD_CHANNEL)

    assert state.is_completed(), state
    [post] = discord.posts
    [(name, content)] = post.files.items()
    assert re.fullmatch(f"playerdata-scheduled-{GUILD}-{STAMP}\\.json", name)
    wrapper = json.loads(content)
    assert (wrapper["exportVersion"], wrapper["dataType"], wrapper["guildId"]) == ("1.0", "playerData", GUILD)
    assert wrapper["guildName"] == "Dragon's Rest" and wrapper["data"] == json.loads(SAMPLE)[GUILD]
    assert restored_bytes(tmp_path, post.files) == SAMPLE  # restoring the backup gives the same file back
    assert post.channel_id == int(GUILD_CHANNEL)
    assert post.webhook_id is None and discord.webhooks == {}  # posted by the bot: no webhook made


def test_the_message_says_when_what_how_big_and_when_next(source: Path, discord: DiscordEmulator) -> None:
    before = datetime.now(timezone.utc)
    export(export_type="server", guild_id=GUILD, channel_id=GUILD_CHANNEL)

    lines = discord.posts[0].content.splitlines()
    assert lines[0] == f"📦 **playerData export**: server **Dragon's Rest** (`{GUILD}`)"
    unix = int(re.fullmatch(r"Exported: <t:(\d+):F> \(`\d{4}-.*Z`\)", lines[1])[1])
    assert int(before.timestamp()) <= unix <= int(datetime.now(timezone.utc).timestamp())
    assert lines[2] == "Type: server · Guilds included: 1"
    assert re.fullmatch(r"Size: \d+\.\d KiB", lines[3])
    assert lines[-1] == "Next export: none scheduled"  # no schedule for this target


def test_an_all_export_is_the_file_unchanged(source: Path, discord: DiscordEmulator, tmp_path: Path) -> None:
    state = export(export_type="all", channel_id=ADMIN_CHANNEL)

    assert state.is_completed(), state
    [post] = discord.posts
    [(name, content)] = post.files.items()
    assert re.fullmatch(f"playerdata-scheduled-ALL-{STAMP}\\.json", name) and content == SAMPLE
    assert "Type: all · Guilds included: 5" in post.content and "Dragon's Rest, Pixel Tavern" in post.content
    assert restored_bytes(tmp_path, post.files) == SAMPLE


def test_above_the_cap_the_export_is_gzipped_with_a_warning(
    source: Path, discord: DiscordEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB", str(GZIP_CAP_MB))
    export(export_type="all", channel_id=ADMIN_CHANNEL)

    [post] = discord.posts
    [name] = post.files
    assert name.endswith(".json.gz") and "⚠️" in post.content and "of the 8.0 KiB upload cap" in post.content
    assert re.search(r"Size: \d+\.\d KiB gzipped \(63\.9 KiB of JSON\)", post.content)
    assert restored_bytes(tmp_path, post.files) == SAMPLE


def test_still_above_the_cap_an_all_export_is_split_by_guild(
    source: Path, discord: DiscordEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB", str(SPLIT_CAP_MB))
    export(export_type="all", channel_id=ADMIN_CHANNEL)

    files = {name: content for post in discord.posts for name, content in post.files.items()}
    assert [re.sub(STAMP, "T", name) for name in files] == [
        "playerdata-scheduled-ALL-T-part-1-of-2.json.gz",
        "playerdata-scheduled-ALL-T-part-2-of-2.json.gz",
    ]
    assert all(len(content) <= 5 * 1024 for content in files.values())
    assert "Restore with every part: `guildflow export restore playerdata-scheduled-ALL-" in discord.posts[0].content
    assert restored_bytes(tmp_path, files) == SAMPLE
    assert discord.posts[1].content.startswith("(continued: playerdata-scheduled-ALL-")  # together over the cap
    assert all(post.webhook_id is None for post in discord.posts)  # posted by the bot


def test_a_local_copy_needs_no_discord_and_keeps_the_last_n(
    source: Path, discord: DiscordEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GUILDFLOW_DISCORD_TOKEN")
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_KEEP", "2")
    folder = tmp_path / "copies"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an export")
    for _ in range(3):
        assert export(export_type="all", copy_to=str(folder)).is_completed()
    export(export_type="server", guild_id=GUILD, copy_to=str(folder))

    names = sorted(path.name for path in folder.iterdir())
    assert len([n for n in names if "-ALL-" in n]) == 2 and len([n for n in names if f"-{GUILD}-" in n]) == 1
    assert "notes.txt" in names and not [n for n in names if n.endswith(".tmp")]  # no temporary files left
    assert (folder / max(n for n in names if "-ALL-" in n)).read_bytes() == SAMPLE
    assert discord.requests == []


def write_guilds(source: Path, count: int) -> None:
    """The source with only its first `count` guilds: a damaged playerData.json."""
    data = json.loads(SAMPLE)
    source.write_text(json.dumps({key: value for key, value in data.items() if key not in GUILDS[count:]}))


def test_degraded_exports_are_flagged_and_never_push_out_the_last_good_one(
    source: Path,
    discord: DiscordEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The issue's case: the file's guild count fell (here 5 -> 3 -> 1); keeping 2, rotation kept only the bad."""
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_KEEP", "2")
    folder = tmp_path / "copies"
    good = export(export_type="all", copy_to=str(folder)).result()
    assert good.warning == ""
    write_guilds(source, 3)
    with caplog.at_level(logging.WARNING):
        worse = export(export_type="all", copy_to=str(folder), channel_id=ADMIN_CHANNEL).result()
    assert worse.warning.startswith("⚠️ Degraded export? 3 guild(s) where the previous export had 5")
    assert worse.warning in discord.posts[-1].content.splitlines()  # in the posted message
    assert worse.warning in caplog.text  # and in the run's log
    write_guilds(source, 1)
    worst = export(export_type="all", copy_to=str(folder)).result()
    assert "1 guild(s) where the previous export had 3" in worst.warning

    kept = sorted(path.name for path in folder.glob("playerdata-scheduled-*"))
    assert kept == sorted([*good.files, *worse.files, *worst.files])  # the 5-guild export is still there

    source.write_bytes(SAMPLE)  # repaired: a new complete export lets the old good one go
    repaired = export(export_type="all", copy_to=str(folder)).result()
    assert repaired.warning == ""
    kept = sorted(path.name for path in folder.glob("playerdata-scheduled-*"))
    assert kept == sorted([*worst.files, *repaired.files])


def test_the_last_good_export_goes_too_when_told_to(
    source: Path, discord: DiscordEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_KEEP", "1")
    monkeypatch.setenv("GUILDFLOW_PLAYERDATA_KEEP_LAST_GOOD", "false")
    folder = tmp_path / "copies"
    export(export_type="all", copy_to=str(folder))
    write_guilds(source, 1)
    worst = export(export_type="all", copy_to=str(folder)).result()
    assert [path.name for path in folder.glob("playerdata-scheduled-*")] == worst.files


# Refusals: nothing is posted


def test_an_all_export_goes_only_to_allow_listed_channels(source: Path, discord: DiscordEmulator) -> None:
    message = failure(export(export_type="all", channel_id=GUILD_CHANNEL))
    assert f"channel {GUILD_CHANNEL} may not receive `all` exports" in message
    assert "GUILDFLOW_PLAYERDATA_ALL_CHANNELS" in message
    assert discord.requests == []


def test_a_server_export_goes_only_to_its_own_guilds_channels(source: Path, discord: DiscordEmulator) -> None:
    message = failure(export(export_type="server", guild_id=GUILD, channel_id=OTHER_GUILD_CHANNEL))
    assert f"channel {OTHER_GUILD_CHANNEL} is in guild {OTHER_GUILD}, not in guild {GUILD}" in message
    assert discord.posts == [] and discord.calls("POST") == 0


@pytest.mark.parametrize(
    ("content", "guild", "expected"),
    [
        (b'{"broken', GUILD, "is not valid JSON"),
        (b"[1, 2]", GUILD, "must hold a JSON object keyed by guild id, not a list"),
        (SAMPLE, "1234567890123456789", "guild 1234567890123456789 is not in playerData (5 guilds"),
    ],
)
def test_bad_input_fails_clearly_before_discord(
    source: Path, discord: DiscordEmulator, content: bytes, guild: str, expected: str
) -> None:
    source.write_bytes(content)
    message = failure(export(export_type="server", guild_id=guild, channel_id=GUILD_CHANNEL))
    assert expected in message
    assert discord.requests == []


def test_bad_parameters_name_the_option(source: Path, discord: DiscordEmulator) -> None:
    assert "needs the guild id (--guild)" in failure(export(export_type="server", channel_id=GUILD_CHANNEL))
    assert "nothing to do" in failure(export(export_type="server", guild_id=GUILD))
    assert "not a Discord id" in failure(export(export_type="server", guild_id=GUILD, channel_id="general"))


# Scheduled runs


@pytest.fixture
def deployment_id(source: Path) -> UUID:
    """A fresh playerdata-export/scheduled deployment: no schedules or runs from other tests."""
    with get_client(sync_client=True) as client:
        try:
            client.delete_deployment(client.read_deployment_by_name(DEPLOYMENT).id)
        except Exception:  # not there yet
            pass
    return playerdata_export.to_deployment(name=DEPLOYMENT.split("/")[1]).apply()


def scheduled(target: ExportTarget, minutes: int = 60) -> FlowRun:
    """Set the target's schedule as `guildflow export schedule --every` does; returns its first run."""
    spec = spec_from_words("every", str(minutes), now=datetime.now(timezone.utc))
    saved = save_schedule(ScheduleDefinition(target.slug, DEPLOYMENT, spec, target.parameters), start_now=True)
    assert saved.first_run is not None
    return saved.first_run


def late_runs(target: ExportTarget, count: int) -> list[FlowRun]:
    """An hourly schedule of the target that started now, and `count` runs of it from the hours before (as if a
    worker had been away), oldest first: runs the schedule made, as the scheduler makes them."""
    first = scheduled(target)
    start = first.expected_start_time - timedelta(hours=count)
    with get_client(sync_client=True) as client:
        client.request(
            "POST",
            "/deployments/{id}/schedule",
            path_params={"id": first.deployment_id},
            json={  # min_time: every run up to end_time, not just the scheduler's minimum
                "start_time": start.isoformat(),
                "end_time": (first.expected_start_time - timedelta(seconds=1)).isoformat(),
                "min_time": timedelta(hours=count).total_seconds(),
            },
        ).raise_for_status()
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(created_by=FlowRunFilterCreatedBy(id_=[first.created_by.id])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )
    late = [run for run in runs if run.expected_start_time < first.expected_start_time]
    assert len(late) == count
    return late


def execute(flow_run: FlowRun) -> FlowRun:
    """Run a created flow run here, as a worker would, and read back how it ended."""
    run_flow(playerdata_export, flow_run=flow_run, return_type="state")
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run.id)


def status_of(target: ExportTarget) -> ScheduleStatus:
    return next(status for status in schedule_statuses() if status.schedule.slug == target.slug)


SERVER_TARGET = ExportTarget("server", GUILD_CHANNEL, GUILD)


def test_a_new_schedule_runs_at_once_and_its_message_gives_the_next_run(
    deployment_id: UUID, discord: DiscordEmulator
) -> None:
    first = scheduled(SERVER_TARGET, minutes=60)
    assert first.deployment_id == deployment_id and first.parameters == SERVER_TARGET.parameters
    assert first.state_type == StateType.SCHEDULED
    assert abs((first.expected_start_time - datetime.now(timezone.utc)).total_seconds()) < 30  # due now

    assert execute(first).state_type == StateType.COMPLETED
    status = status_of(SERVER_TARGET)
    assert status.next_run is not None and timedelta(minutes=59) < status.next_run - first.expected_start_time
    assert discord.posts[0].content.endswith(f"Next export: <t:{int(status.next_run.timestamp())}:R>")
    assert status.schedule.active and status.stats.last_run.name == first.name
    assert status.stats.consecutive_failures == 0


def test_five_consecutive_failures_pause_the_schedule_with_a_notice(
    deployment_id: UUID, discord: DiscordEmulator, source: Path
) -> None:
    runs = iter(late_runs(SERVER_TARGET, 11))
    assert execute(next(runs)).state_type == StateType.COMPLETED
    source.write_bytes(b"{corrupt")
    for _ in range(4):
        assert execute(next(runs)).state_type == StateType.FAILED
    assert status_of(SERVER_TARGET).schedule.active and status_of(SERVER_TARGET).stats.consecutive_failures == 4

    source.write_bytes(SAMPLE)
    execute(next(runs))  # a success in between starts the count again
    source.write_bytes(b"{corrupt")
    for _ in range(4):
        execute(next(runs))
    assert status_of(SERVER_TARGET).schedule.active
    execute(next(runs))

    status = status_of(SERVER_TARGET)
    assert not status.schedule.active and status.stats.consecutive_failures == 5 and status.next_run is None
    assert status.schedule.pause.reason.startswith("5 consecutive failed runs; the last: ")
    assert "is not valid JSON" in status.schedule.pause.reason
    assert status.stats.last_run.failed and "is not valid JSON" in status.stats.last_run.message
    notice = discord.posts[-1]  # posted by the bot as an embed
    [embed] = notice.embeds
    assert notice.files == {} and embed["title"] == f"⏸️ Schedule {SERVER_TARGET.slug} is paused"
    assert status.schedule.pause.reason in embed["description"] and "guildflow schedules resume" in embed["description"]


@pytest.mark.parametrize(
    ("break_it", "reason", "notice_posted"),
    [
        (lambda discord: discord.delete_channel(int(GUILD_CHANNEL)), "channel not found (404)", False),
        (lambda discord: discord.deny(int(GUILD_CHANNEL), "send_messages"), "missing permission (403)", False),
        # the channel still takes a message without a file: the notice says why exports stopped
        (lambda discord: discord.deny(int(GUILD_CHANNEL), "attach_files"), "missing permission (403)", True),
    ],
)
def test_a_gone_channel_or_missing_permission_pauses_at_once(
    deployment_id: UUID, discord: DiscordEmulator, break_it, reason: str, notice_posted: bool
) -> None:
    first = scheduled(SERVER_TARGET)
    break_it(discord)

    assert execute(first).state_type == StateType.FAILED
    status = status_of(SERVER_TARGET)
    assert not status.schedule.active and status.stats.consecutive_failures == 1
    assert status.schedule.pause.reason.startswith(f"{reason}: ")
    assert [post.embeds[0]["title"][:20] for post in discord.posts] == (
        ["⏸️ Schedule playerda"] if notice_posted else []
    )
    assert ExportTarget.from_parameters(status.schedule.definition.parameters) == SERVER_TARGET
    assert status.schedule.problems == ()  # pausing kept its parameters


def test_a_run_started_by_hand_does_not_pause_anything(deployment_id: UUID, discord: DiscordEmulator) -> None:
    scheduled(SERVER_TARGET)
    discord.delete_channel(int(GUILD_CHANNEL))
    assert export(export_type="server", guild_id=GUILD, channel_id=GUILD_CHANNEL).is_failed()
    assert status_of(SERVER_TARGET).schedule.active


def test_prefect_yaml_deploys_the_export_without_schedules() -> None:
    """Its schedules are made by `guildflow export schedule`; `schedules: []` leaves them alone on redeploy."""
    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    [deployment] = [d for d in config["deployments"] if d["entrypoint"] == "flows/playerdata.py:playerdata_export"]
    assert f"{playerdata_export.name}/{deployment['name']}" == DEPLOYMENT and playerdata_export.name == FLOW_NAME
    assert deployment["work_pool"]["name"] == "guildflow" and deployment["schedules"] == []
