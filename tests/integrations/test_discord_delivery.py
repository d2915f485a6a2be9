"""DiscordExportDelivery: the real discord.py client posting export files through webhooks of the Discord emulator."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Iterator

import pytest
from discord.http import Route
from pydantic import SecretStr

from integrations.discord_api import (
    CONFIGURED,
    TEMPORARY,
    Delivered,
    DeliveryError,
    DestinationUnusable,
    DiscordExportDelivery,
    UploadTooLarge,
)
from tests.emulators.base import Fault
from tests.emulators.discord import GUILD_ID, DiscordEmulator, rate_limited

BACKUPS, OTHER = 1_300_000_000_000_000_111, 1_300_000_000_000_000_222
OTHER_GUILD = 1_300_000_000_000_000_999
FILES = [("playerdata-scheduled-ALL-2026-11-22T00-41-05-123Z.json", b'{\n  "a": 1\n}\n')]
EXECUTE = r"^/api/v10/webhooks/\d+/[^/]+$"


@pytest.fixture
def discord() -> Iterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    emulator.add_channel(BACKUPS, "backups")
    emulator.add_channel(OTHER, "elsewhere", guild_id=OTHER_GUILD)
    with emulator.running():
        yield emulator


def delivery(
    discord: DiscordEmulator, *, token: str | None = "", webhook_url: str | None = None, upload_cap: int = 10 << 20
) -> DiscordExportDelivery:
    return DiscordExportDelivery(
        SecretStr(token or discord.token) if token is not None else None,
        discord.api_base,
        SecretStr(webhook_url) if webhook_url else None,
        upload_cap=upload_cap,
        max_ratelimit_timeout=30,
    )


def test_a_temporary_webhook_posts_the_files_once_and_is_deleted(discord: DiscordEmulator) -> None:
    gzipped = bytes(range(256)) * 4 + b"\r\n--\r\n"  # binary, with bytes that look like multipart syntax
    files = [*FILES, ("part.json.gz", gzipped)]
    delivered = delivery(discord).deliver(BACKUPS, "📦 export", files)

    [post] = discord.posts
    assert (post.channel_id, post.content, post.files) == (BACKUPS, "📦 export", dict(files))
    assert delivered.message_ids == [post.message_id] and delivered.via == TEMPORARY
    assert delivered.attachments == [name for name, _ in files] and delivered.warnings == []
    assert discord.webhooks == {} and discord.deleted_webhooks == [post.webhook_id]
    execute = next(request for request in discord.requests if request.method == "POST" and "/webhooks/" in request.path)
    assert execute.arg("wait") == "1"  # discord.py's spelling of wait=true: Discord answers the saved message


def test_the_configured_webhook_needs_no_bot_token(discord: DiscordEmulator) -> None:
    url = discord.add_webhook(BACKUPS)
    export = delivery(discord, token=None, webhook_url=url)

    destination = export.destination(BACKUPS)
    delivered = export.deliver(BACKUPS, "export", FILES)

    assert (destination.channel_id, destination.guild_id) == (BACKUPS, GUILD_ID)
    assert delivered.via == CONFIGURED and discord.posts[0].files == dict(FILES)
    assert len(discord.webhooks) == 1 and discord.deleted_webhooks == []  # an admin's webhook is kept
    assert discord.calls(path_pattern=r"/channels/") == 0  # no bot involved


def test_a_channel_other_than_the_configured_webhooks_uses_a_temporary_webhook(discord: DiscordEmulator) -> None:
    url = discord.add_webhook(BACKUPS)
    delivered = delivery(discord, webhook_url=url).deliver(OTHER, "export", FILES)
    assert delivered.via == TEMPORARY and discord.posts[0].channel_id == OTHER


def test_without_a_token_only_the_configured_webhooks_channel_works(discord: DiscordEmulator) -> None:
    url = discord.add_webhook(BACKUPS)
    with pytest.raises(DeliveryError, match=f"posts to channel {BACKUPS}, not {OTHER}: set GUILDFLOW_DISCORD_TOKEN"):
        delivery(discord, token=None, webhook_url=url).deliver(OTHER, "export", FILES)
    assert discord.posts == []


def test_destination_reports_the_channels_guild(discord: DiscordEmulator) -> None:
    destination = delivery(discord).destination(OTHER)
    assert (destination.guild_id, destination.name) == (OTHER_GUILD, "#elsewhere")


def test_a_failed_post_still_deletes_the_temporary_webhook(discord: DiscordEmulator) -> None:
    discord.deny(BACKUPS, "attach_files")
    with pytest.raises(DestinationUnusable, match="lacks Attach Files") as raised:
        delivery(discord).deliver(BACKUPS, "export", FILES)
    assert raised.value.reason == "missing permission (403)"
    assert discord.posts == [] and discord.webhooks == {} and len(discord.deleted_webhooks) == 1


def test_missing_manage_webhooks_is_a_destination_problem(discord: DiscordEmulator) -> None:
    discord.deny(BACKUPS, "manage_webhooks")
    with pytest.raises(DestinationUnusable, match="lacks Manage Webhooks") as raised:
        delivery(discord).deliver(BACKUPS, "export", FILES)
    assert raised.value.reason == "missing permission (403)" and discord.posts == []


def test_a_deleted_channel_and_a_deleted_webhook_are_told_apart(discord: DiscordEmulator) -> None:
    url = discord.add_webhook(BACKUPS)
    discord.delete_channel(BACKUPS)  # its webhooks go with it
    with pytest.raises(DestinationUnusable, match="was deleted .*404 Unknown Webhook.*create a new one") as gone:
        delivery(discord, webhook_url=url).deliver(BACKUPS, "export", FILES)
    assert gone.value.reason == "webhook deleted (404)"
    with pytest.raises(DestinationUnusable, match=f"channel {BACKUPS} not found .*Unknown Channel") as missing:
        delivery(discord).destination(BACKUPS)
    assert missing.value.reason == "channel not found (404)"
    assert url.split("/")[-1] not in str(gone.value)  # the webhook token is a secret


def test_an_upload_over_discords_cap_names_the_setting(discord: DiscordEmulator) -> None:
    discord.upload_cap = 8
    with pytest.raises(UploadTooLarge, match="413 Request entity too large.*GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB"):
        delivery(discord).deliver(BACKUPS, "export", FILES)
    assert discord.webhooks == {} and discord.posts == []


def test_files_are_grouped_within_the_cap_and_ten_per_message(discord: DiscordEmulator) -> None:
    small = [(f"part-{n}.json.gz", b"x" * 10) for n in range(12)]
    delivered = delivery(discord, upload_cap=1000).deliver(BACKUPS, "export", small)
    assert [len(post.files) for post in discord.posts] == [10, 2]
    assert discord.posts[0].content == "export" and discord.posts[1].content.startswith("(continued: part-10")
    assert len(delivered.message_ids) == 2 and len(discord.deleted_webhooks) == 1

    discord.posts.clear()
    large = [(f"part-{n}.json.gz", b"x" * 600) for n in range(3)]
    delivery(discord, upload_cap=1000).deliver(BACKUPS, "export", large)
    assert [list(post.files) for post in discord.posts] == [[name] for name, _ in large]


def test_a_short_rate_limit_is_waited_out(discord: DiscordEmulator) -> None:
    discord.fail_next(Fault(rate_limited(0.05), method="POST", path_pattern=EXECUTE))
    delivery(discord).deliver(BACKUPS, "export", FILES)
    assert len(discord.posts) == 1 and discord.calls("POST", EXECUTE) == 2


def test_bad_credentials_name_the_fix_and_never_the_secret(discord: DiscordEmulator) -> None:
    with pytest.raises(DeliveryError, match="GUILDFLOW_DISCORD_TOKEN") as token:
        delivery(discord, token="wrong.token.value").deliver(BACKUPS, "export", FILES)
    assert "wrong.token.value" not in str(token.value)

    not_a_webhook = "https://example.com/hooks/secret-value"
    with pytest.raises(DeliveryError, match="GUILDFLOW_PLAYERDATA_WEBHOOK_URL is not a Discord webhook URL") as url:
        delivery(discord, webhook_url=not_a_webhook).destination(BACKUPS)
    assert "secret-value" not in str(url.value)

    with pytest.raises(DeliveryError, match="needs the bot token"):
        DiscordExportDelivery(None, discord.api_base, None)


def test_check_writes_nothing(discord: DiscordEmulator) -> None:
    url = discord.add_webhook(BACKUPS)
    summary = delivery(discord, webhook_url=url).check()
    assert f"posts to channel {BACKUPS}" in summary and "bot Guildflow may create temporary webhooks" in summary
    assert discord.calls("POST") == discord.calls("DELETE") == 0


def test_an_unusable_destination_survives_a_result_store() -> None:
    """Prefect pickles a failed run's exception; the schedule hook reads its reason back."""
    error = pickle.loads(pickle.dumps(DestinationUnusable("channel 1 is gone", "unknown channel")))
    assert (str(error), error.reason) == ("channel 1 is gone", "unknown channel")


def test_two_deliveries_in_one_process_each_post_to_their_own_api_base() -> None:
    """Interleaved on one event loop: one posts through its configured webhook, the other through a temporary
    webhook its bot creates; each reaches only its own Discord, and discord.py's Route.BASE stays as is."""
    first, second = DiscordEmulator("first.bot-token"), DiscordEmulator("second.bot-token")
    first.add_channel(BACKUPS, "backups")
    second.add_channel(OTHER, "backups", guild_id=OTHER_GUILD)
    with first.running(), second.running():
        configured = delivery(first, token=None, webhook_url=first.add_webhook(BACKUPS))
        temporary = delivery(second)

        async def deliver_both() -> list[Delivered]:
            return await asyncio.gather(
                configured._deliver(BACKUPS, "to the first", FILES), temporary._deliver(OTHER, "to the second", FILES)
            )

        to_first, to_second = asyncio.run(deliver_both())

    assert (to_first.via, to_second.via) == (CONFIGURED, TEMPORARY)
    assert [(post.channel_id, post.content) for post in first.posts] == [(BACKUPS, "to the first")]
    assert [(post.channel_id, post.content) for post in second.posts] == [(OTHER, "to the second")]
    assert second.webhooks == {} and len(second.deleted_webhooks) == 1
    assert Route.BASE == "https://discord.com/api/v10"
