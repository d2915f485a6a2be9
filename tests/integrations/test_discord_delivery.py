"""DiscordDelivery: the real discord.py client posting messages in channels of the Discord emulator, as the bot or
through a webhook, split within Discord's limits (the emulator refuses what Discord refuses)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.delivery import Attachment, Message, MessageField
from integrations.delivery import DeliveryError, DestinationUnusable
from integrations.delivery_ledger import DeliveryLedger
from integrations.discord_api import DiscordDelivery, UploadTooLarge
from tests.emulators.base import Fault, Response
from tests.emulators.discord import GUILD_ID, DiscordEmulator, rate_limited

BACKUPS, OTHER = 1_300_000_000_000_000_111, 1_300_000_000_000_000_222
OTHER_GUILD = 1_300_000_000_000_000_999
FILES = (Attachment("playerdata-scheduled-ALL-2026-11-22T00-41-05-123Z.json", b'{\n  "a": 1\n}\n'),)
CREATE = r"^/api/v10/channels/\d+/messages$"
EXECUTE = r"^/api/v10/webhooks/\d+/[^/]+$"
SUMMARY = Message(
    "Weekly summary",
    "Five new projects.",
    (MessageField("Posts", "42", inline=True),),
    url="https://example.com/s",
    footer="guildflow",
)


@pytest.fixture
def discord() -> Iterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    emulator.add_channel(BACKUPS, "backups")
    emulator.add_channel(OTHER, "elsewhere", guild_id=OTHER_GUILD)
    with emulator.running():
        yield emulator


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(tmp_path / "deliveries.sqlite")


def delivery(
    discord: DiscordEmulator,
    channel_id: int | None = BACKUPS,
    *,
    token: str | None = "",
    webhook_url: str | None = None,
    format: str = "embed",
    upload_cap: int = 10 << 20,
) -> DiscordDelivery:
    return DiscordDelivery(
        discord.api_base,
        channel_id=channel_id,
        token=SecretStr(token or discord.token) if token is not None else None,
        webhook_url=SecretStr(webhook_url) if webhook_url else None,
        format=format,
        upload_cap=upload_cap,
        max_ratelimit_timeout=30,
    )


def test_the_bot_posts_an_embed(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    progress = ledger.progress("run-1", "discord-x", SUMMARY.digest)
    receipt = delivery(discord).deliver(SUMMARY, progress)

    [post] = discord.posts
    assert (post.channel_id, post.webhook_id, post.content) == (BACKUPS, None, "")
    [embed] = post.embeds
    assert (embed["title"], embed["url"], embed["description"]) == ("Weekly summary", SUMMARY.url, SUMMARY.body)
    assert embed["fields"] == [{"name": "Posts", "value": "42", "inline": True}]
    assert embed["footer"]["text"] == "guildflow"
    assert receipt.part_ids == [str(post.message_id)] == progress.delivered_parts()
    assert receipt.destination == f"Discord channel {BACKUPS}"
    assert discord.messages[BACKUPS][post.message_id]["nonce"] == progress.part_key(0)


def test_markdown_with_files_is_one_message(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    gzipped = bytes(range(256)) * 4 + b"\r\n--\r\n"  # binary, with bytes that look like multipart syntax
    message = Message("", "📦 export", attachments=(*FILES, Attachment("part.json.gz", gzipped)))
    delivery(discord, format="markdown").deliver(message, ledger.progress("run-1", "d", message.digest))

    [post] = discord.posts
    assert (post.content, post.embeds, post.webhook_id) == ("📦 export", [], None)
    assert post.files == {item.name: item.content for item in message.attachments}


def test_a_long_message_is_split_within_every_limit(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    paragraphs = "\n\n".join(f"Paragraph {n}: " + "word " * 180 for n in range(30))  # ~27,000 characters
    fields = tuple(MessageField(f"field {n}", "v" * 1500) for n in range(30))
    message = Message("t" * 300, paragraphs, fields, footer="f" * 100)
    for form in ("embed", "markdown"):
        receipt = delivery(discord, format=form).deliver(message, ledger.progress("run-1", form, message.digest))
        assert len(receipt.part_ids) > 3  # the emulator refused none of them (400 otherwise)
    assert discord.calls("POST", CREATE) == len(discord.posts)


def test_the_configured_webhook_of_the_channel_needs_no_bot(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    url = discord.add_webhook(BACKUPS)
    posting = delivery(discord, token=None, webhook_url=url, format="markdown")

    channel = posting.channel()
    posting.deliver(Message("", "export", attachments=FILES), ledger.progress("run-1", "d", "x"))

    assert (channel.channel_id, channel.guild_id) == (BACKUPS, GUILD_ID)
    [post] = discord.posts
    assert post.webhook_id is not None and post.files == {FILES[0].name: FILES[0].content}
    assert discord.calls(path_pattern=r"/channels/") == 0  # no bot involved


def test_another_channel_than_the_configured_webhooks_gets_the_bot(
    discord: DiscordEmulator, ledger: DeliveryLedger
) -> None:
    url = discord.add_webhook(BACKUPS)
    delivery(discord, OTHER, webhook_url=url).deliver(SUMMARY, ledger.progress("run-1", "d", SUMMARY.digest))
    assert discord.posts[0].channel_id == OTHER and discord.posts[0].webhook_id is None

    with pytest.raises(DeliveryError, match=f"posts to channel {BACKUPS}, not {OTHER}: set GUILDFLOW_DISCORD_TOKEN"):
        delivery(discord, OTHER, token=None, webhook_url=url).deliver(SUMMARY, ledger.progress("run-2", "d", "x"))
    assert len(discord.posts) == 1


def test_a_discord_webhook_destination_posts_embeds_through_it(
    discord: DiscordEmulator, ledger: DeliveryLedger
) -> None:
    url = discord.add_webhook(OTHER).replace("/api/webhooks/", "/api/v10/webhooks/")  # either form works
    posting = delivery(discord, None, token=None, webhook_url=url)
    receipt = posting.deliver(SUMMARY, ledger.progress("run-1", "d", SUMMARY.digest))

    [post] = discord.posts
    assert post.channel_id == OTHER and post.embeds[0]["title"] == "Weekly summary"
    assert receipt.destination == "webhook at discord.com" and url.split("/")[-1] not in posting.check()


def test_the_channels_guild_comes_from_discord(discord: DiscordEmulator) -> None:
    channel = delivery(discord, OTHER).channel()
    assert (channel.guild_id, channel.name) == (OTHER_GUILD, "#elsewhere")


def test_a_retry_posts_only_the_parts_not_yet_posted(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    message = Message("", "\n\n".join(letter * 1900 for letter in "abc"), attachments=FILES)  # three posts
    unavailable = Response.json({"message": "Service Unavailable", "code": 0}, 503)
    discord.fail_next(Fault(unavailable, method="POST", path_pattern=CREATE, skip=1))  # the second post fails
    posting = delivery(discord, format="markdown")

    with pytest.raises(DeliveryError, match="Discord answered 503") as raised:
        posting.deliver(message, ledger.progress("run-1", "d", message.digest))
    assert raised.value.transient and [post.content[0] for post in discord.posts] == ["a"]

    receipt = posting.deliver(message, ledger.progress("run-1", "d", message.digest))  # the task's retry
    assert [post.content[0] for post in discord.posts] == ["a", "b", "c"] and discord.posts[2].files
    assert receipt.part_ids == [str(post.message_id) for post in discord.posts]


def test_a_post_whose_record_was_lost_is_not_made_twice(discord: DiscordEmulator) -> None:
    """Discord keeps the bot's nonce: the same part posted again answers the message already made."""

    class Forgetful:
        def delivered_parts(self) -> list[str]:
            return []

        def record_part(self, index: int, part_id: str) -> None:
            pass  # a crash right after posting: never recorded

        def part_key(self, index: int) -> str:
            return f"run-1-part-{index}"

    posting = delivery(discord)
    first = posting.deliver(SUMMARY, Forgetful())
    again = posting.deliver(SUMMARY, Forgetful())
    assert len(discord.posts) == 1 and first.part_ids == again.part_ids


def test_gone_or_forbidden_makes_the_destination_unusable(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    progress = ledger.progress("run-1", "d", SUMMARY.digest)
    discord.deny(BACKUPS, "send_messages")
    with pytest.raises(DestinationUnusable, match="lacks a permission .*View Channel, Send Messages and Embed Links"):
        delivery(discord).deliver(SUMMARY, progress)
    discord.deny(OTHER, "attach_files")
    with pytest.raises(DestinationUnusable, match="Send Messages and Attach Files there") as files:
        delivery(discord, OTHER, format="markdown").deliver(Message("", "x", attachments=FILES), progress)
    assert files.value.reason == "missing permission (403)"

    url = discord.add_webhook(BACKUPS)
    discord.delete_channel(BACKUPS)  # its webhooks go with it
    with pytest.raises(DestinationUnusable, match="PLAYERDATA_WEBHOOK_URL was deleted .*404 Unknown Webhook") as gone:
        delivery(discord, webhook_url=url).deliver(SUMMARY, progress)
    assert gone.value.reason == "webhook deleted (404)" and url.split("/")[-1] not in str(gone.value)
    with pytest.raises(DestinationUnusable, match=f"channel {BACKUPS} not found .*Unknown Channel") as missing:
        delivery(discord).deliver(SUMMARY, progress)
    assert missing.value.reason == "channel not found (404)"
    with pytest.raises(DestinationUnusable, match="the destination's Discord webhook was deleted"):
        delivery(discord, None, token=None, webhook_url=url).deliver(SUMMARY, progress)
    assert discord.posts == [] and progress.delivered_parts() == []


def test_uploads_over_the_cap(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    message = Message("", "export", attachments=FILES)
    with pytest.raises(DeliveryError, match=r"attachment playerdata-.*\.json is 0\.0 MiB, over Discord's upload cap"):
        delivery(discord, upload_cap=8).deliver(message, ledger.progress("run-1", "d", message.digest))
    assert discord.requests == []  # refused before anything was sent
    discord.upload_cap = 8  # the server's cap is lower than ours
    with pytest.raises(UploadTooLarge, match="413 Request entity too large.*GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB"):
        delivery(discord).deliver(message, ledger.progress("run-1", "d", message.digest))


def test_rate_limits(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    discord.fail_next(Fault(rate_limited(0.05), method="POST", path_pattern=CREATE))
    delivery(discord).deliver(SUMMARY, ledger.progress("run-1", "d", SUMMARY.digest))
    assert len(discord.posts) == 1 and discord.calls("POST", CREATE) == 2  # waited out retry_after

    discord.fail_next(Fault(rate_limited(120), method="POST", path_pattern=CREATE))
    with pytest.raises(DeliveryError, match="asked to wait 120 s") as raised:
        delivery(discord).deliver(SUMMARY, ledger.progress("run-2", "d", SUMMARY.digest))
    assert raised.value.transient and len(discord.posts) == 1


def test_bad_credentials_name_the_fix_and_never_the_secret(discord: DiscordEmulator, ledger: DeliveryLedger) -> None:
    progress = ledger.progress("run-1", "d", SUMMARY.digest)
    with pytest.raises(DeliveryError, match="GUILDFLOW_DISCORD_TOKEN") as token:
        delivery(discord, token="wrong.token.value").deliver(SUMMARY, progress)
    assert "wrong.token.value" not in str(token.value)

    not_a_webhook = "https://example.com/hooks/secret-value"
    with pytest.raises(DeliveryError, match="GUILDFLOW_PLAYERDATA_WEBHOOK_URL is not a Discord webhook URL") as url:
        delivery(discord, webhook_url=not_a_webhook).channel()
    assert "secret-value" not in str(url.value)

    with pytest.raises(DeliveryError, match="needs the bot token"):
        DiscordDelivery(discord.api_base, channel_id=BACKUPS)


def test_check_posts_nothing(discord: DiscordEmulator) -> None:
    url = discord.add_webhook(BACKUPS)
    assert f"PLAYERDATA_WEBHOOK_URL posts to channel {BACKUPS}" in delivery(discord, webhook_url=url).check()
    assert "bot Guildflow posts in #elsewhere (it needs View Channel" in delivery(discord, OTHER).check()
    assert discord.calls("POST") == 0


def test_an_unusable_destination_survives_a_result_store() -> None:
    """Prefect pickles a failed run's exception; the schedule hook reads its reason back."""
    error = pickle.loads(pickle.dumps(DestinationUnusable("channel 1 is gone", "unknown channel")))
    assert (str(error), error.reason) == ("channel 1 is gone", "unknown channel")
