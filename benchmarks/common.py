"""What every benchmark shares: timing, sample data, and the emulated services with their settings."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from discord.utils import time_snowflake

from core.models import Post
from core.sheet import ARCHIVE_COLUMNS, POST_COLUMNS, discord_user_link, post_to_row
from integrations.google_sheets import CURSOR_COLUMNS
from tests.emulators.discord import GUILD_ID, DiscordEmulator, api_message, api_user
from tests.emulators.environment import real_clients_env
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.google_sheets import SheetsEmulator, Spreadsheet
from tests.emulators.x import XEmulator

T = TypeVar("T")

CHANNEL_ID = 1_300_000_000_000_000_100
SPREADSHEET_ID = "1GuildflowBenchmarkSpreadsheet"
NAIVE_MODEL_DELAY_SECONDS = 6.0  # what a hand-written script sleeps between model calls (10 requests/minute)
PROJECT_EVERY = 10  # one X post in ten announces a crypto project (so the daily draft is a ~10-tweet thread)
_FIRST_MESSAGE_AT = datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """os.environ with these variables set (and every other GUILDFLOW_* one removed), restored afterwards."""
    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("GUILDFLOW_")]:
        del os.environ[name]
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --- sample data ----------------------------------------------------------------------------------


def _tweet(index: int) -> tuple[str, str, str]:
    """(handle, what the member wrote, the tweet's text as Discord embeds it) for the index-th X post."""
    if index % PROJECT_EVERY == 0:
        name = f"Nova{index}"
        return (
            f"nova{index}_xyz",
            f"Found this one early, {name} looks interesting",
            f"Introducing {name}: our L2 mainnet is live today. $NV{chr(65 + index % 26)}Q token airdrop for early "
            "testnet users, claim opens next week. Thread on tokenomics and the roadmap below.",
        )
    handle = f"member_pick_{index % 97}"
    return (
        handle,
        f"Good read on team rituals #{index}",
        f"Thread {index}: what we learned running a remote team for three years. Short standups, written "
        "decisions, and one long lunch together every quarter. Details in the replies.",
    )


def status_id(index: int) -> int:
    return 1_990_000_000_000_000_000 + index


def discord_messages(total: int, with_links: int, channel_id: int = CHANNEL_ID) -> list[dict[str, Any]]:
    """API-shaped messages, one every 7 s; every (total / with_links)-th links to a distinct X post."""
    every = total // with_links
    messages = []
    for number in range(total):
        message_id = time_snowflake(_FIRST_MESSAGE_AT + timedelta(seconds=7 * number))
        author = api_user(10_000 + number % 40, f"member{number % 40}")
        if number % every == 0 and number // every < with_links:
            index = number // every
            handle, content, text = _tweet(index)
            link = f"https://x.com/{handle}/status/{status_id(index)}"
            embed = {"type": "rich", "url": link, "description": text, "author": {"name": handle, "url": link}}
            messages.append(api_message(message_id, channel_id, f"{content} {link}", author=author, embeds=[embed]))
        else:
            messages.append(api_message(message_id, channel_id, f"gm everyone, chat line {number}", author=author))
    return messages


def sample_posts(count: int) -> list[Post]:
    """Unanalysed Posts rows as collection writes them."""
    posts = []
    for index in range(count):
        handle, content, text = _tweet(index)
        posts.append(
            Post(
                message_id=time_snowflake(_FIRST_MESSAGE_AT + timedelta(seconds=7 * index)),
                channel_id=CHANNEL_ID,
                posted_at=_FIRST_MESSAGE_AT + timedelta(seconds=7 * index),
                author=f"member{index % 40}",
                author_link=discord_user_link(10_000 + index % 40),
                content=f"{content} https://x.com/{handle}/status/{status_id(index)}\n\n{text}",
                post_link=f"https://x.com/{handle}/status/{status_id(index)}",
                x_handle=handle,
            )
        )
    return posts


# --- the emulated services ------------------------------------------------------------------------


@dataclass
class Services:
    discord: DiscordEmulator
    sheets: SheetsEmulator
    gemini: GeminiEmulator
    x: XEmulator
    folder: Path  # for the ledger, outbox and workbook paths the settings name

    def settings_env(self) -> dict[str, str]:
        """GUILDFLOW_* variables putting every backend on its real client, pointed at the emulators
        (the spreadsheet is shared with the new service account as Editor)."""
        key = self.sheets.service_account()
        self.sheets.spreadsheets[SPREADSHEET_ID].shared_with[key["client_email"]] = "writer"
        emulators = real_clients_env(self.discord, self.sheets, self.gemini, self.x, [CHANNEL_ID], SPREADSHEET_ID, key)
        local = {"LEDGER": "ledger.sqlite", "OUTBOX": "outbox", "WORKBOOK": "workbook.sqlite"}
        return emulators | {f"GUILDFLOW_{name}": str(self.folder / path) for name, path in local.items()}

    def refill_spreadsheet(self, posts: Sequence[Post]) -> None:
        """The spreadsheet anew with these unanalysed posts (to run the same posts again), still shared."""
        shared_with = self.sheets.spreadsheets[SPREADSHEET_ID].shared_with
        _create_spreadsheet(self.sheets, posts, None).shared_with.update(shared_with)

    def api_calls(self) -> int:
        """Requests to every service's API (Google's token endpoint excluded: it is not the Sheets API)."""
        every = sum(len(emulator.requests) for emulator in (self.discord, self.sheets, self.gemini, self.x))
        return every - self.sheets.calls("POST", r"^/token$")


@contextmanager
def services(
    messages: Sequence[dict[str, Any]] = (),
    posts: Sequence[Post] = (),
    cursor: int | None = None,
    latency: dict[str, float] | None = None,
) -> Iterator[Services]:
    """Fresh emulators: the channel holds `messages`; the spreadsheet has the worksheets a previous run
    left (headers, the channel's cursor at `cursor`) and `posts` as unanalysed rows. Settings in os.environ.
    latency: seconds each answer of a service (discord, sheets, gemini, x) waits; none by default."""
    discord, sheets, gemini, x = DiscordEmulator(), SheetsEmulator(), GeminiEmulator(), XEmulator()
    for name, emulator in {"discord": discord, "sheets": sheets, "gemini": gemini, "x": x}.items():
        emulator.latency_seconds = (latency or {}).get(name, 0.0)
    discord.add_channel(CHANNEL_ID, "web3-alpha", guild_id=GUILD_ID)
    discord.add_messages(CHANNEL_ID, messages)
    _create_spreadsheet(sheets, posts, cursor)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="guildflow-bench-") as folder:
        for emulator in (discord, sheets, gemini, x):
            stack.enter_context(emulator.running())
        emulated = Services(discord, sheets, gemini, x, Path(folder))
        with environment(emulated.settings_env()):
            yield emulated


def _create_spreadsheet(sheets: SheetsEmulator, posts: Sequence[Post], cursor: int | None) -> Spreadsheet:
    cursor_rows = [[str(CHANNEL_ID), str(cursor)]] if cursor is not None else []
    return sheets.create_spreadsheet(
        SPREADSHEET_ID,
        worksheets={
            "Posts": [list(POST_COLUMNS), *(post_to_row(post) for post in posts)],
            "Archive": [list(ARCHIVE_COLUMNS)],
            "Cursors": [list(CURSOR_COLUMNS), *cursor_rows],
        },
    )


@contextmanager
def fresh_prefect_state() -> Iterator[None]:
    """An empty result store (so no analysis is cached yet) and fresh Gemini rate-limit buckets."""
    from prefect.settings import temporary_settings

    from tasks.analyse import GEMINI_PER_DAY_LIMIT, GEMINI_PER_MINUTE_LIMIT
    from tests.prefect_state import delete_concurrency_limits

    delete_concurrency_limits(GEMINI_PER_MINUTE_LIMIT, GEMINI_PER_DAY_LIMIT)
    with tempfile.TemporaryDirectory(prefix="guildflow-bench-results-") as storage:
        with temporary_settings(updates={"results.local_storage_path": Path(storage)}):
            yield


def first_message_id(messages: list[dict[str, Any]]) -> int:
    return int(messages[0]["id"])
