"""The channel-summary flow under the harness, with the offline summariser: the since-last cursor across runs,
min_messages, bots, lengths, action items and terms, map-reduce call counts, delivery to every kind of destination
with one failing, and a re-run after a failed delivery that costs no model call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from prefect.artifacts import Artifact

from core.models import DiscordMessage
from core.summaries import KEY_POINTS, SummaryRun, chunk_messages, messages_to_summarise
from flows.summary import channel_summary
from integrations.discord_source import parse_export
from tasks.deliver import DeliveriesFailed
from tests.emulators.discord import DiscordEmulator
from tests.emulators.smtp import HOST, SmtpServer
from tests.emulators.webhook_receiver import WebhookReceiver

GUILD = "1200000000000000001"
CHANNEL = 1300000000000000001
OTHER_CHANNEL = 1300000000000000002
START = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
LINES = [
    ("alice", "Morning! The indexer backfill is slow again, the RPC node keeps timing out."),
    ("bob", "The RPC provider rate limits us at 50 requests per second, the indexer backfill needs more."),
    ("carol", "We decided to move the indexer backfill to a dedicated RPC node next week."),
    ("bob", "I'll write the migration plan for the RPC node by Friday."),
    ("alice", "@carol can you review the `reorg_depth` setting before the deploy?"),
    ("carol", "TVL is the total value locked in the pools, it feeds the dashboard."),
    ("bob", "The dashboard shows TVL per pool, the indexer backfill fills the history."),
    ("dave", "Agreed, the dashboard can wait until the RPC node migration is done."),
]


def export_message(number: int, author: str, content: str, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(1400000000000000000 + number),
        "timestamp": (START + timedelta(minutes=number)).isoformat(),
        "author": {"id": str(1000 + sum(map(ord, author))), "name": author, "isBot": bot},
        "content": content,
    }


def write_export(path: Path, messages: list[dict[str, Any]], channel: int = CHANNEL) -> Path:
    path.write_text(json.dumps({"channel": {"id": str(channel)}, "messages": messages}))
    return path


def conversation(first: int = 1, rounds: int = 1) -> list[dict[str, Any]]:
    lines = [line for _ in range(rounds) for line in LINES]
    return [export_message(first + index, author, text) for index, (author, text) in enumerate(lines)]


@pytest.fixture
def export(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_export(guildflow_env / "dev.json", conversation())
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(path))
    return path


def summarise(out: Path, **options: Any) -> SummaryRun:
    parameters: dict[str, Any] = {
        "guild_id": GUILD,
        "channel_ids": [str(CHANNEL)],
        "destinations": [f"file:{out}"],
        "schedule": "weekly-dev",
    }
    result: SummaryRun = channel_summary(**(parameters | options))
    return result


def written(folder: Path) -> list[str]:
    return [path.read_text() for path in sorted(folder.glob("*.md"))]


def test_since_last_summarises_each_message_once_across_runs(export: Path, guildflow_env: Path) -> None:
    out = guildflow_env / "out"
    first = summarise(out)
    assert first.message_count == len(LINES) and not first.skipped
    [document] = written(out)
    assert f"{len(LINES)} messages, 2026-11-23 09:01 to 2026-11-23 09:08 UTC" in document
    assert f"https://discord.com/channels/{GUILD}/{CHANNEL}/" in document

    again = summarise(out)
    assert again.skipped.startswith("no messages since the last summary") and len(written(out)) == 1

    write_export(export, [*conversation(), *conversation(first=len(LINES) + 1)])
    third = summarise(out)
    assert third.message_count == len(LINES)  # only the new ones
    assert len(written(out)) == 2
    assert summarise(out, schedule="another-schedule").message_count == 2 * len(LINES)  # its own cursor


def test_below_min_messages_the_run_skips_delivers_nothing_and_keeps_the_cursor(
    export: Path, guildflow_env: Path
) -> None:
    out = guildflow_env / "out"
    skipped = summarise(out, min_messages=len(LINES) + 1)
    assert skipped.skipped == (
        f"only {len(LINES)} messages since the last summary, fewer than min_messages ({len(LINES) + 1}); "
        "nothing was delivered"
    )
    assert not out.exists()
    report = Artifact.get("channel-summary")
    assert report is not None and "Skipped: only 8 messages" in str(report.data)
    assert summarise(out).message_count == len(LINES)  # the cursor had not moved


def test_bots_are_summarised_only_when_asked(export: Path, guildflow_env: Path) -> None:
    bots = [export_message(100 + n, "statusbot", f"Deploy {n} finished: indexer healthy", bot=True) for n in range(5)]
    write_export(export, [*conversation(), *bots])
    assert summarise(guildflow_env / "a").message_count == len(LINES)
    with_bots = summarise(guildflow_env / "b", include_bots=True, schedule="with-bots")
    assert with_bots.message_count == len(LINES) + 5 and "statusbot (5)" in written(guildflow_env / "b")[0]


@pytest.mark.parametrize("length", ["brief", "detailed", "comprehensive"])
def test_each_length_keeps_at_most_its_key_points(export: Path, guildflow_env: Path, length: str) -> None:
    write_export(export, conversation(rounds=3))
    summarise(guildflow_env / "out", length=length)
    [document] = written(guildflow_env / "out")
    points = document.split("**Key points**\n\n")[1].split("\n\n")[0].splitlines()
    assert all(point.startswith("- ") for point in points) and 0 < len(points) <= KEY_POINTS[length]


def test_action_items_and_terms_are_there_only_when_asked(export: Path, guildflow_env: Path) -> None:
    summarise(guildflow_env / "with", extract_action_items=True, extract_technical_terms=True)
    [document] = written(guildflow_env / "with")
    assert "**Action items**" in document and "owner: bob, due: Friday" in document
    assert "**Technical terms**" in document and "**TVL**: the total value locked in the pools" in document
    summarise(guildflow_env / "without", extract_action_items=False, extract_technical_terms=False, schedule="plain")
    [plain] = written(guildflow_env / "without")
    assert "**Action items**" not in plain and "**Technical terms**" not in plain and "**Key points**" in plain


def test_a_tiny_token_budget_maps_and_reduces_and_a_rerun_calls_no_model(
    export: Path, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_export(export, conversation(rounds=4))
    budget = 150
    monkeypatch.setenv("GUILDFLOW_SUMMARY_TOKEN_BUDGET", str(budget))
    messages: list[DiscordMessage] = messages_to_summarise(parse_export(export), include_bots=False)
    expected_chunks = len(chunk_messages(messages, budget))
    assert expected_chunks >= 4

    run = summarise(guildflow_env / "out", window="30d")
    assert run.chunks == expected_chunks and run.combines >= 2  # more than one level of combining
    assert run.model_calls == run.chunks + run.combines

    rerun = summarise(guildflow_env / "out", window="30d")
    assert (rerun.chunks, rerun.combines, rerun.model_calls) == (run.chunks, run.combines, 0)


def test_unknown_channels_and_bad_options_fail_with_one_clear_message(export: Path, guildflow_env: Path) -> None:
    state = channel_summary(GUILD, [str(OTHER_CHANNEL)], [f"file:{guildflow_env}"], return_state=True)
    assert state.is_failed()
    assert str(state.result(raise_on_failure=False)).startswith(f"channel(s) {OTHER_CHANNEL} are in none of the")
    for bad, says in (
        ({"length": "long"}, "length: Input should be 'brief', 'detailed' or 'comprehensive'"),  # Prefect's check
        ({"window": "soon"}, "window 'soon' is not 'since-last' or the last N hours or days"),
        ({"min_messages": 0}, "min_messages 0 is not a whole number from 1"),
        ({"destinations": ["ftp:x"]}, "destination 'ftp:x' is not one of"),
    ):
        arguments: dict[str, Any] = {"destinations": [f"file:{guildflow_env}"]} | bad
        failed = channel_summary(GUILD, [str(CHANNEL)], return_state=True, **arguments)
        assert failed.is_failed() and says in str(failed.result(raise_on_failure=False))


# Every kind of destination, one failing; then the re-run


DISCORD_CHANNEL = 1_300_000_000_000_000_111


@pytest.fixture
def services(export: Path, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    discord, receiver = DiscordEmulator(), WebhookReceiver()
    discord.add_channel(DISCORD_CHANNEL, "summaries")
    smtp = SmtpServer(guildflow_env, user="bot", password="pw")
    with discord.running(), receiver.running(), smtp.running():
        for name, value in {
            "DISCORD_TOKEN": discord.token,
            "DISCORD_API_BASE": discord.api_base,
            "WEBHOOK_SIGNING_SECRET": receiver.secret,
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(smtp.port),
            "SMTP_USER": "bot",
            "SMTP_PASSWORD": "pw",
            "SMTP_FROM": "guildflow@example.org",
        }.items():
            monkeypatch.setenv(f"GUILDFLOW_{name}", value)
        monkeypatch.setenv("SSL_CERT_FILE", str(smtp.cert_file))
        yield discord, receiver, smtp


def test_four_destinations_one_failing_then_the_next_run_delivers_the_rest_without_a_model_call(
    services: Any, guildflow_env: Path
) -> None:
    discord, receiver, smtp = services
    blocked = guildflow_env / "blocked"
    blocked.write_text("a file where the folder should be")
    destinations = [
        f"discord:{DISCORD_CHANNEL}",
        f"webhook:{receiver.hook_url('summaries')}",
        "email:admins@example.org",
        f"file:{blocked}",
    ]
    asked = {"extract_action_items": True, "extract_technical_terms": True, "schedule": "weekly-dev"}
    state = channel_summary(GUILD, [str(CHANNEL)], destinations, return_state=True, **asked)

    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, DeliveriesFailed)
    assert [outcome.status for outcome in error.outcomes] == ["delivered", "delivered", "delivered", "failed"]
    embed = discord.posts[0].embeds[0]
    assert embed["title"] == f"Summary of #{CHANNEL}"
    names = [field["name"] for field in embed["fields"] if field["name"] != "\u200b"]  # a long value continues
    assert names == ["Key points", "Action items", "Technical terms", "Participants"]
    assert f"https://discord.com/channels/{GUILD}/{CHANNEL}/14000000000000000" in embed["fields"][0]["value"]
    document = receiver.received[0].document
    assert document["title"] == f"Summary of #{CHANNEL}" and document["fields"][0]["name"] == "Key points"
    email = smtp.messages[0]
    assert email["Subject"] == f"Summary of #{CHANNEL}"
    html = next(part for part in email.walk() if part.get_content_type() == "text/html").get_content()
    assert "<strong>Key points</strong>" in html
    report = Artifact.get("channel-summary")
    assert report is not None and "failed" in str(report.data) and "Key points" in str(report.data)

    blocked.unlink()  # fixed; the next run of the schedule
    rerun = channel_summary(GUILD, [str(CHANNEL)], destinations, **asked)
    assert rerun.message_count == len(LINES) and rerun.model_calls == 0  # same window, from the cache
    assert (len(discord.posts), len(receiver.received), len(smtp.messages)) == (1, 1, 1)  # not twice
    assert len(written(blocked)) == 1
    assert summarise(guildflow_env / "x").skipped.startswith("no messages")  # the cursor moved at last
