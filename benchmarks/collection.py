"""Item 1: collecting 10,000 Discord messages (2,000 with X links) into the Google Sheets emulator.

guildflow: the collect task's function (DiscordApiSource + GoogleSheet, exactly as the task uses them),
without Prefect around it (the orchestration cost is item 3's). Baseline: benchmarks.naive.collect.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from statistics import median

from benchmarks import naive
from benchmarks.common import CHANNEL_ID, Services, discord_messages, first_message_id, services, timed
from guildflow.settings import load_settings
from tasks.collect import collect_posts
from tests.emulators.base import Request
from tests.emulators.google_sheets import MAX_PAYLOAD_BYTES, SheetsEmulator

MESSAGES, WITH_LINKS = 10_000, 2_000
HISTORY = r"/channels/\d+/messages$"


@dataclass
class CollectionResult:
    history_calls: int  # Discord GET .../messages
    other_discord_calls: int  # logging in
    history_page_sizes: list[int]  # messages per history page, in order (explains the call count)
    sheets_calls: Counter[str]  # by kind, Sheets API only
    append_bytes: int  # the appended rows' request bodies
    seconds: float
    naive_history_calls: int
    naive_sheets_calls: int
    naive_seconds: float
    history_calls_one_less: int  # the same collection of MESSAGES - 1 messages

    @property
    def target_history_calls(self) -> int:
        return math.ceil(MESSAGES / 100)

    @property
    def floor_history_calls(self) -> int:
        """The fewest history pages that can tell a channel's N new messages are all there are: N, plus
        the knowledge that nothing follows (Discord's history API has no "more" flag)."""
        return math.ceil((MESSAGES + 1) / 100)

    @property
    def target_appends(self) -> int:
        return math.ceil(self.append_bytes / MAX_PAYLOAD_BYTES)


def sheets_calls_by_kind(sheets: SheetsEmulator) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for request in sheets.requests:
        path, method = request.path, request.method
        if path == "/token":
            continue
        if path.endswith(":append"):
            kinds["append"] += 1
        elif path.endswith("values:batchUpdate"):
            kinds["values update"] += 1
        elif path.endswith(":batchUpdate"):
            kinds["structure update"] += 1
        elif path.endswith("values:batchGet"):
            # The key read takes a key column (Archive's) with the Posts table; the layout read takes header rows.
            key_read = any(re.search(r"![A-Z]+2:", value) for value in request.query.get("ranges", []))
            kinds["key read" if key_read else "layout read (headers, cursors)"] += 1
        elif method == "GET" and re.fullmatch(r"/v4/spreadsheets/[^/]+", path):
            kinds["metadata read"] += 1
        else:
            kinds[f"other {method}"] += 1
    return kinds


def run(repeats: int) -> CollectionResult:
    messages = discord_messages(MESSAGES, WITH_LINKS)
    cursor = first_message_id(messages) - 1  # yesterday's run stopped just before these messages
    seconds, naive_seconds = [], []
    for _ in range(repeats):
        with services(messages, cursor=cursor) as emulated:
            result, elapsed = timed(lambda: collect_posts.fn(load_settings(), datetime.now(timezone.utc)))
            seconds.append(elapsed)
            ours = emulated
        with services(messages, cursor=cursor) as emulated:
            rows, elapsed = timed(lambda: naive.collect(datetime.now(timezone.utc)))
            naive_seconds.append(elapsed)
            theirs = emulated
    assert result.new_posts == WITH_LINKS == rows, (result, rows)
    with services(messages[:-1], cursor=cursor) as emulated:
        collect_posts.fn(load_settings(), datetime.now(timezone.utc))
        history_calls_one_less = emulated.discord.calls("GET", HISTORY)
    history = [request for request in ours.discord.requests if re.search(HISTORY, request.path)]
    appends = [request for request in ours.sheets.requests if request.path.endswith(":append")]
    kinds = sheets_calls_by_kind(ours.sheets)
    return CollectionResult(
        history_calls=len(history),
        other_discord_calls=len(ours.discord.requests) - len(history),
        history_page_sizes=[_page_size(ours, request) for request in history],
        sheets_calls=kinds,
        append_bytes=sum(len(request.body) for request in appends if "Posts" in request.path),
        seconds=median(seconds),
        naive_history_calls=theirs.discord.calls("GET", HISTORY),
        naive_sheets_calls=sum(sheets_calls_by_kind(theirs.sheets).values()),
        naive_seconds=median(naive_seconds),
        history_calls_one_less=history_calls_one_less,
    )


def _page_size(emulated: Services, request: Request) -> int:
    """How many messages the emulator answered to this history request (an `after` page)."""
    after, limit = int(request.arg("after") or 0), int(request.arg("limit") or 50)
    return min(limit, sum(1 for message_id in emulated.discord.messages[CHANNEL_ID] if message_id > after))
