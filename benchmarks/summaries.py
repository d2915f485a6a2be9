"""Summaries (issue 13): a summary of 10,000 messages on the emulators (Discord API, Gemini): Discord history
calls against the API's floor, model calls against chunks + combine steps, the re-run after a failed delivery (no
model call), wall seconds and peak RSS; and the naive approach (one model call per batch of 100, no cache)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from discord.utils import time_snowflake

from benchmarks.common import CHANNEL_ID, fresh_prefect_state, services
from core.collection import CollectionWindow
from core.summaries import SummaryOptions, chunk_messages, messages_to_summarise
from tests.emulators.discord import GUILD_ID, api_message, api_user

MESSAGES = 10_000
PAGE = 100  # Discord returns at most 100 messages per history request
# The floor: the full pages, and the one (short or empty) page that tells the history has ended.
HISTORY_FLOOR = MESSAGES // PAGE + 1
NAIVE_BATCH = 100
TOKEN_BUDGET = 6000  # GUILDFLOW_SUMMARY_TOKEN_BUDGET's default
_TOPICS = [
    "the indexer backfill on the dedicated RPC node is at block {n}, about {p}% done",
    "we decided to ship release v2.{n} on Monday after the freeze",
    "I'll review the migration plan PR #{n} before Friday",
    "p99 latency on the gateway is {p} ms since deploy {n}",
    "TVL for pool {n} looks off by {p}%, probably the missing join",
    "can you check why CI build {n} failed on the websocket test?",
    "the reorg at block {n} was {p} blocks deep, within reorg_depth",
    "lunch in {p} minutes? the usual place",
]


@dataclass
class SummaryBenchResult:
    messages: int
    summarised: int
    token_budget: int
    chunks: int
    combines: int
    model_calls: int  # first run
    rerun_model_calls: int  # the run after the failed delivery
    history_calls: int  # first run's GET .../messages
    history_floor: int
    seconds: float
    rerun_seconds: float
    peak_rss: int  # bytes, the whole benchmark process during the first run
    naive_model_calls: int  # per run; its re-run costs the same again
    naive_seconds: float


def _messages() -> list[dict[str, object]]:
    # One every 50 s, ending now: all within a first since-last run's GUILDFLOW_SUMMARY_FIRST_LOOKBACK_DAYS (7).
    start = datetime.now(timezone.utc) - timedelta(seconds=50 * MESSAGES)
    return [
        api_message(
            time_snowflake(start + timedelta(seconds=50 * number)),
            CHANNEL_ID,
            _TOPICS[number % len(_TOPICS)].format(n=number, p=number % 97),
            author=api_user(20_000 + number % 25, f"dev{number % 25}"),
        )
        for number in range(MESSAGES)
    ]


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak restarts from the current RSS
    except OSError:
        pass


def run() -> SummaryBenchResult:
    """Under a running Prefect server (the benchmark's harness)."""
    from flows.summary import channel_summary
    from guildflow.settings import load_settings
    from tasks import clients

    with services(messages=_messages()) as emulated, fresh_prefect_state():
        os.environ["GUILDFLOW_GEMINI_REQUESTS_PER_MINUTE"] = "1000"  # the benchmark measures us, not the quota
        os.environ["GUILDFLOW_GEMINI_REQUESTS_PER_DAY"] = "1000"
        os.environ["GUILDFLOW_SUMMARY_CURSORS"] = str(emulated.folder / "cursors.sqlite")
        os.environ["GUILDFLOW_DELIVERY_LEDGER"] = str(emulated.folder / "deliveries.sqlite")
        blocked = emulated.folder / "blocked"
        blocked.write_text("a file where the folder should be")
        parameters = {
            "guild_id": str(GUILD_ID),
            "channel_ids": [str(CHANNEL_ID)],
            "destinations": [f"file:{emulated.folder / 'summaries'}", f"file:{blocked}"],
            "length": "detailed",
            "extract_action_items": True,
            "extract_technical_terms": True,
            "schedule": "bench",
        }
        _reset_peak_rss()
        started = time.perf_counter()
        failed = channel_summary(**parameters, return_state=True)
        seconds = time.perf_counter() - started
        peak = _peak_rss()
        first_error = failed.result(raise_on_failure=False)
        history_calls = emulated.discord.calls("GET", r"/channels/\d+/messages")
        model_calls = emulated.gemini.generate_calls()

        blocked.unlink()
        started = time.perf_counter()
        rerun = channel_summary(**parameters)
        rerun_seconds = time.perf_counter() - started
        rerun_calls = emulated.gemini.generate_calls() - model_calls

        settings = load_settings()
        source = clients.message_source(settings, [CHANNEL_ID])
        read = messages_to_summarise(source.read_messages(CollectionWindow("since-last"), {}), include_bots=False)
        naive = clients.summariser(settings)
        before = emulated.gemini.generate_calls()
        started = time.perf_counter()
        for batch in range(0, len(read), NAIVE_BATCH):
            naive.summarise(read[batch : batch + NAIVE_BATCH], SummaryOptions("detailed", True, True))
        naive_seconds = time.perf_counter() - started
        naive_calls = emulated.gemini.generate_calls() - before

    assert first_error is not None and rerun.model_calls == rerun_calls
    assert len(chunk_messages(read, TOKEN_BUDGET)) == rerun.chunks
    return SummaryBenchResult(
        MESSAGES,
        rerun.message_count,
        TOKEN_BUDGET,
        rerun.chunks,
        rerun.combines,
        model_calls,
        rerun_calls,
        history_calls,
        HISTORY_FLOOR,
        seconds,
        rerun_seconds,
        peak,
        naive_calls,
        naive_seconds,
    )


def markdown(result: SummaryBenchResult) -> str:
    r = result
    return f"""
## Summaries: one summary of {r.messages:,} messages

| measure | guildflow | naive (batch of {NAIVE_BATCH}, no cache) |
|---|---|---|
| Discord history calls (first run) | {r.history_calls} (floor {r.history_floor}) | - |
| model calls, first run | {r.model_calls} = {r.chunks} chunks + {r.combines} combine steps | {r.naive_model_calls} |
| model calls, re-run after a failed delivery | {r.rerun_model_calls} | {r.naive_model_calls} |
| wall s, first run | {r.seconds:.1f} | {r.naive_seconds:.1f} (model calls only) |
| wall s, re-run | {r.rerun_seconds:.1f} | - |
| peak RSS of the process, first run | {r.peak_rss / 1e6:.0f} MB | - |

`benchmarks/summaries.py`: {r.messages:,} messages in one channel of the Discord emulator, read through the API
(DiscordApiSource), {r.summarised:,} summarised (no bots) by Gemini's emulator with a token budget of
{r.token_budget:,} (`GUILDFLOW_SUMMARY_TOKEN_BUDGET`); the rate limits are raised to 1,000 requests a minute and a
day so the figures measure guildflow, not the quota. The first run delivers to two folders, one of them a file
(it fails); the second run, after the folder is fixed, reads Discord again (the cursor did not move) and answers
every chunk and combine step from Prefect's cache. The naive approach summarises each batch of {NAIVE_BATCH}
messages with one model call and has no cache, so a re-run costs the same again (and it never combines).
"""


def append_to_results(path: Path, result: SummaryBenchResult) -> None:
    """The summaries section at the end of RESULTS.md (written by benchmarks.report just before)."""
    with path.open("a", encoding="utf-8") as results:
        results.write(markdown(result))
