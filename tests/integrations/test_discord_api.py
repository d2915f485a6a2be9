"""DiscordApiSource: the real discord.py client against the Discord emulator."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from discord.http import Route
from discord.utils import time_snowflake
from pydantic import SecretStr

from core.collection import CollectionWindow, posts_in_messages
from core.models import DiscordMessage
from integrations.discord_api import DiscordApiSource
from integrations.discord_source import ExportFileSource
from integrations.errors import SourceError
from tests.conftest import REPO, SAMPLE_EXPORTS
from tests.emulators.base import Fault, Response
from tests.emulators.discord import DiscordEmulator, api_message, api_user, rate_limited

SINCE_LAST = CollectionWindow("since-last")
HISTORY = r"^/api/v10/channels/\d+/messages$"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
GENERAL, ALPHA = 111, 222


@pytest.fixture
def discord() -> Iterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    emulator.add_channel(GENERAL, "general")
    emulator.add_channel(ALPHA, "web3-alpha")
    with emulator.running():
        yield emulator


def source(discord: DiscordEmulator, *channel_ids: int, token: str | None = None) -> DiscordApiSource:
    return DiscordApiSource(
        SecretStr(token or discord.token), list(channel_ids or (GENERAL,)), discord.api_base, max_ratelimit_timeout=30
    )


def snowflake(at: datetime, increment: int = 0) -> int:
    return time_snowflake(at) + increment


def messages_every_minute(channel_id: int, count: int, start: datetime = T0) -> list[dict]:
    return [api_message(snowflake(start + timedelta(minutes=n)), channel_id, f"message {n}") for n in range(count)]


def test_messages_are_mapped_like_the_export(discord: DiscordEmulator) -> None:
    edited = T0 + timedelta(hours=1)
    tweet = {
        "type": "rich",
        "url": "https://twitter.com/novaswap_xyz/status/2122",
        "title": "NovaSwap on X",
        "description": "Mainnet Nov 25",
        "author": {"name": "NovaSwap (@novaswap_xyz)", "url": "https://twitter.com/novaswap_xyz"},
    }
    discord.add_messages(
        GENERAL,
        [
            api_message(
                snowflake(T0),
                GENERAL,
                "look https://x.com/novaswap_xyz/status/2122",
                author=api_user(7, "cryptokate", global_name="Kate"),
                embeds=[tweet],
                edited_at=edited,
            ),
            api_message(snowflake(T0, 1), GENERAL, "reminder", author=api_user(8, "GuildBot", bot=True)),
        ],
    )
    first, second = source(discord).read_messages(SINCE_LAST, {})
    assert (first.id, first.channel_id, first.author_id, first.author_name, first.author_is_bot) == (
        snowflake(T0),
        GENERAL,
        7,
        "cryptokate",
        False,
    )
    assert first.timestamp == T0 and first.timestamp.tzinfo is not None
    assert first.edited_timestamp == edited
    assert first.content == "look https://x.com/novaswap_xyz/status/2122"
    [embed] = first.embeds
    assert (embed.url, embed.title, embed.description, embed.author_name, embed.author_url) == (
        tweet["url"],
        "NovaSwap on X",
        "Mainnet Nov 25",
        "NovaSwap (@novaswap_xyz)",
        "https://twitter.com/novaswap_xyz",
    )
    assert second.author_is_bot and second.embeds == () and second.edited_timestamp is None


def test_250_messages_take_exactly_three_history_pages(discord: DiscordEmulator) -> None:
    discord.add_messages(GENERAL, messages_every_minute(GENERAL, 250))
    messages = source(discord).read_messages(SINCE_LAST, {})
    assert [m.content for m in messages] == [f"message {n}" for n in range(250)]
    assert discord.calls("GET", HISTORY) == 3


def test_each_channel_is_read_after_its_own_cursor(discord: DiscordEmulator) -> None:
    general = messages_every_minute(GENERAL, 5)
    alpha = messages_every_minute(ALPHA, 5, start=T0 + timedelta(seconds=30))
    discord.add_messages(GENERAL, general)
    discord.add_messages(ALPHA, alpha)
    cursors = {GENERAL: int(general[2]["id"]), ALPHA: int(alpha[0]["id"])}
    messages = source(discord, GENERAL, ALPHA).read_messages(SINCE_LAST, cursors)
    expected = [int(m["id"]) for m in general[3:] + alpha[1:]]
    assert [m.id for m in messages] == sorted(expected)  # oldest first across channels, each once
    assert {m.channel_id for m in messages} == {GENERAL, ALPHA}
    assert [m.id for m in source(discord, GENERAL, ALPHA).read_messages(SINCE_LAST, {})] == sorted(
        int(m["id"]) for m in general + alpha
    )


def test_hours_window_reads_only_since_its_start(discord: DiscordEmulator) -> None:
    discord.add_messages(GENERAL, messages_every_minute(GENERAL, 10))
    window = CollectionWindow("hours", since=T0 + timedelta(minutes=7))
    messages = source(discord).read_messages(window, {GENERAL: 10**30})  # cursors do not apply to time windows
    assert [m.content for m in messages] == ["message 7", "message 8", "message 9"]


def test_a_429_is_waited_out_and_retried(discord: DiscordEmulator) -> None:
    discord.add_messages(GENERAL, messages_every_minute(GENERAL, 3))
    discord.fail_next(Fault(rate_limited(0.05), path_pattern=HISTORY))
    assert len(source(discord).read_messages(SINCE_LAST, {})) == 3
    assert discord.calls("GET", HISTORY) == 2


def test_a_429_longer_than_the_limit_is_a_transient_error(discord: DiscordEmulator) -> None:
    discord.fail_next(Fault(rate_limited(120), path_pattern=HISTORY))
    with pytest.raises(SourceError, match="wait 120 s") as raised:
        source(discord).read_messages(SINCE_LAST, {})
    assert raised.value.transient
    assert discord.calls("GET", HISTORY) == 1


def test_a_server_error_is_transient(discord: DiscordEmulator) -> None:
    # 503 is not among the statuses discord.py retries itself (500/502/504 with 1-9 s pauses).
    discord.fail_next(Fault(Response.json({"message": "Service Unavailable", "code": 0}, status=503)))
    with pytest.raises(SourceError, match="503") as raised:
        source(discord).read_messages(SINCE_LAST, {})
    assert raised.value.transient


def test_a_bad_token_says_which_setting_to_fix(discord: DiscordEmulator) -> None:
    wrong = "wrong.token-value.secret123"
    with pytest.raises(SourceError, match="check GUILDFLOW_DISCORD_TOKEN") as raised:
        source(discord, token=wrong).read_messages(SINCE_LAST, {})
    assert "401" in str(raised.value) and not raised.value.transient
    assert wrong not in str(raised.value) and discord.token not in str(raised.value)


def test_an_unknown_channel_asks_about_the_id_and_the_server(discord: DiscordEmulator) -> None:
    with pytest.raises(SourceError, match="channel 999 not found") as raised:
        source(discord, GENERAL, 999).check()
    assert "id right" in str(raised.value) and "bot in that server" in str(raised.value)
    assert discord.token not in str(raised.value) and not raised.value.transient


def test_a_forbidden_channel_names_the_permissions(discord: DiscordEmulator) -> None:
    discord.add_channel(333, "mods-only", access="none")
    with pytest.raises(SourceError, match="channel 333") as raised:
        source(discord, 333).read_messages(SINCE_LAST, {})
    message = str(raised.value)
    assert "View Channel" in message and "Read Message History" in message and "Message Content" in message
    assert discord.token not in message and not raised.value.transient


def test_check_reports_the_bot_and_channels_and_writes_nothing(discord: DiscordEmulator) -> None:
    discord.add_messages(GENERAL, messages_every_minute(GENERAL, 1))
    discord.add_channel(444, "announcements", access="view")
    summary = source(discord, GENERAL, 444).check()
    assert "Guildflow" in summary and "#general" in summary and "#announcements" in summary
    assert "Read Message History" in summary  # announcements shows nothing: empty, or no permission
    assert "WARNING" not in summary and discord.token not in summary
    assert {request.method for request in discord.requests} == {"GET"}


def test_check_warns_when_the_message_content_intent_is_off() -> None:
    emulator = DiscordEmulator(message_content=False)
    emulator.add_channel(GENERAL, "general")
    with emulator.running():
        summary = source(emulator).check()
    assert "WARNING" in summary and "Message Content Intent" in summary


def test_works_from_a_thread_and_from_async_code(discord: DiscordEmulator) -> None:
    discord.add_messages(GENERAL, messages_every_minute(GENERAL, 2))
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(len(source(discord).read_messages(SINCE_LAST, {}))))
    thread.start()
    thread.join()

    async def from_a_coroutine() -> int:
        return len(source(discord).read_messages(SINCE_LAST, {}))

    results.append(asyncio.run(from_a_coroutine()))
    assert results == [2, 2]


def test_two_clients_in_one_process_each_reach_their_own_api_base() -> None:
    """Interleaved on one event loop (each request yields to the other client), as two flows in one worker
    could be: each client logs in to, and reads from, its own Discord; discord.py's Route.BASE stays as is."""
    first, second = DiscordEmulator("first.bot-token"), DiscordEmulator("second.bot-token")
    for emulator, channel_id, text in [(first, GENERAL, "in the first"), (second, ALPHA, "in the second")]:
        emulator.add_channel(channel_id, "chat")
        emulator.add_messages(channel_id, [api_message(snowflake(T0), channel_id, text)])

    async def read_both() -> list[list[DiscordMessage]]:
        sources = [source(first, GENERAL), source(second, ALPHA)]
        return await asyncio.gather(*(each._read_messages(SINCE_LAST, {}) for each in sources))

    with first.running(), second.running():
        [from_first], [from_second] = asyncio.run(read_both())

    assert (from_first.channel_id, from_first.content) == (GENERAL, "in the first")
    assert (from_second.channel_id, from_second.content) == (ALPHA, "in the second")
    for emulator in (first, second):
        assert {request.headers["authorization"] for request in emulator.requests} == {f"Bot {emulator.token}"}
    assert Route.BASE == "https://discord.com/api/v10"


def test_describe_names_the_backend_without_the_token(discord: DiscordEmulator) -> None:
    text = source(discord, GENERAL, ALPHA).describe() + repr(source(discord))
    assert discord.api_base in text and str(ALPHA) in text and discord.token not in text


def test_the_sample_served_by_the_api_gives_the_same_posts_as_the_export() -> None:
    emulator = DiscordEmulator()
    channel_ids = [emulator.load_export(path) for path in sorted((REPO / "examples" / "discord").glob("*.json"))]
    with emulator.running():
        from_api = source(emulator, *channel_ids).read_messages(SINCE_LAST, {})
    from_export = ExportFileSource(SAMPLE_EXPORTS).read_messages(SINCE_LAST, {})
    assert from_api == from_export
    posts = posts_in_messages(from_api, include_bots=True)
    assert posts and posts == posts_in_messages(from_export, include_bots=True)


def test_both_sources_unescape_discords_markdown_in_embed_text(tmp_path: Path) -> None:
    tweet = {
        "url": "https://x.com/orbit_fi/status/2124",
        "title": r"Orbit \(@orbit\_fi\)",
        "description": r"Orbit Protocol\. Mainnet Update\! 1\.5x \*points\*",
        "author": {"name": "Orbit (@orbit_fi)", "url": "https://x.com/orbit_fi"},
    }
    feed = {"id": "8", "name": "TweetShift", "isBot": True}
    message = {"id": str(snowflake(T0)), "timestamp": T0.isoformat(), "content": "", "author": feed, "embeds": [tweet]}
    export = tmp_path / "feed.json"
    export.write_text(json.dumps({"channel": {"id": str(GENERAL), "name": "feed"}, "messages": [message]}))
    emulator = DiscordEmulator()
    emulator.load_export(export)
    with emulator.running():
        from_api = source(emulator).read_messages(SINCE_LAST, {})
    from_export = ExportFileSource(str(export)).read_messages(SINCE_LAST, {})
    assert from_api == from_export
    [embed] = from_api[0].embeds
    assert (embed.title, embed.description) == ("Orbit (@orbit_fi)", "Orbit Protocol. Mainnet Update! 1.5x *points*")
