"""core.summaries and the offline summariser: windows, options, chunking, the message a summary becomes."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from discord.utils import snowflake_time

from core.models import DiscordMessage
from core.offline_summary import combine_offline, summarise_offline
from core.summaries import (
    KEY_POINTS,
    ChannelSummary,
    KeyPoint,
    SummaryContext,
    SummaryError,
    SummaryOptions,
    SummaryWindow,
    chunk_messages,
    combine_groups,
    estimated_tokens,
    first_cursors,
    messages_digest,
    messages_to_summarise,
    summary_message,
    validated_channel_ids,
)
from integrations.discord_source import parse_export

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
CHANNEL = 1300000000000000001
GUILD = "1200000000000000001"


def message(number: int, author: str, content: str, *, bot: bool = False) -> DiscordMessage:
    return DiscordMessage(
        id=1400000000000000000 + number,
        channel_id=CHANNEL,
        timestamp=START + timedelta(minutes=number),
        author_id=1000 + sum(map(ord, author)),
        author_name=author,
        author_is_bot=bot,
        content=content,
    )


CONVERSATION = [
    message(1, "alice", "Morning! The indexer backfill is slow again, the RPC node keeps timing out."),
    message(2, "bob", "The RPC provider rate limits us at 50 requests per second, the indexer backfill needs more."),
    message(3, "carol", "We decided to move the indexer backfill to a dedicated RPC node next week."),
    message(4, "dave", "lol"),
    message(5, "bob", "I'll write the migration plan for the RPC node by Friday."),
    message(6, "alice", "@carol can you review the `reorg_depth` setting before the deploy?"),
    message(7, "carol", "TVL is the total value locked in the pools, it feeds the dashboard."),
    message(8, "statusbot", "Deploy 481 finished: indexer backfill RPC node healthy", bot=True),
    message(9, "bob", "The dashboard shows TVL per pool, the indexer backfill fills the history."),
]


@pytest.mark.parametrize(
    ("text", "hours"), [("since-last", 0), ("", 0), ("6h", 6), ("24 hours", 24), ("7d", 168), ("1 day", 24)]
)
def test_windows_parse(text: str, hours: int) -> None:
    assert SummaryWindow.parse(text).hours == hours


@pytest.mark.parametrize("text", ["yesterday", "0h", "-3d", "400d", "5 weeks"])
def test_bad_windows_name_the_forms_that_work(text: str) -> None:
    with pytest.raises(SummaryError, match="since-last"):
        SummaryWindow.parse(text)


def test_window_round_trips_and_reads_from_now() -> None:
    assert str(SummaryWindow.parse("48h")) == "2d" and str(SummaryWindow.parse("5h")) == "5h"
    assert SummaryWindow.parse("6h").collection_window(START).since == START - timedelta(hours=6)
    assert SummaryWindow().collection_window(START).since is None


def test_options_and_channels_are_validated() -> None:
    with pytest.raises(SummaryError, match="brief, detailed, comprehensive"):
        SummaryOptions.validated("short", True, True)
    with pytest.raises(SummaryError, match="not a Discord channel id"):
        validated_channel_ids(["general"])
    with pytest.raises(SummaryError, match="at least one channel"):
        validated_channel_ids([])
    assert validated_channel_ids([str(CHANNEL), CHANNEL]) == [CHANNEL]


def test_bots_are_left_out_unless_asked() -> None:
    assert "statusbot" not in {m.author_name for m in messages_to_summarise(CONVERSATION, include_bots=False)}
    assert "statusbot" in {m.author_name for m in messages_to_summarise(CONVERSATION, include_bots=True)}


def test_chunks_stay_within_the_budget_and_keep_every_message_in_order() -> None:
    budget = 60
    chunks = chunk_messages(CONVERSATION, budget)
    assert len(chunks) > 1
    assert [m for chunk in chunks for m in chunk] == CONVERSATION
    assert all(sum(estimated_tokens(m) for m in chunk) <= budget or len(chunk) == 1 for chunk in chunks)


def test_combine_groups_always_shrink() -> None:
    summaries = [summarise_offline([m], SummaryOptions()) for m in CONVERSATION]
    groups = combine_groups(summaries, 1)
    assert all(len(group) >= 2 for group in groups) and len(groups) < len(summaries)
    assert [s for group in groups for s in group] == summaries


def test_digest_changes_with_an_edit() -> None:
    edited = [*CONVERSATION[:-1], message(9, "bob", "edited")]
    assert messages_digest(CONVERSATION) != messages_digest(edited)
    assert messages_digest(CONVERSATION) == messages_digest(list(CONVERSATION))


def test_offline_summary_finds_points_actions_terms_and_participants() -> None:
    messages = messages_to_summarise(CONVERSATION, include_bots=False)
    summary = summarise_offline(messages, SummaryOptions("detailed", True, True))
    assert summary == summarise_offline(messages, SummaryOptions("detailed", True, True))  # deterministic
    assert summary.participants[0].name == "bob" and summary.message_count == len(messages)
    assert "indexer" in summary.overview and "backfill" in summary.overview
    decision = next(point for point in summary.key_points if "decided" in point.text)
    assert decision.message_ids == [str(CONVERSATION[2].id)]
    owners = {item.owner: item for item in summary.action_items}
    assert owners["bob"].due == "Friday" and owners["carol"].message_id == str(CONVERSATION[5].id)
    terms = {term.term: term.definition for term in summary.technical_terms}
    assert terms["TVL"].startswith("the total value locked") and "reorg_depth" in terms and "RPC" in terms


@pytest.mark.parametrize("length", ["brief", "detailed", "comprehensive"])
def test_each_length_keeps_at_most_its_key_points(length: str) -> None:
    summary = summarise_offline(CONVERSATION, SummaryOptions.validated(length, False, False))
    assert 0 < len(summary.key_points) <= KEY_POINTS[length]
    assert summary.action_items == [] and summary.technical_terms == []
    assert ("Highlight:" in summary.overview) == (length != "brief")


def test_combining_adds_up_participants_and_keeps_points_from_every_part() -> None:
    options = SummaryOptions("brief", True, True)
    parts = [summarise_offline(CONVERSATION[:5], options), summarise_offline(CONVERSATION[5:], options)]
    combined = combine_offline(parts, options)
    assert combined.message_count == len(CONVERSATION)
    ids = {point.message_ids[0] for point in combined.key_points}
    assert ids & {str(m.id) for m in CONVERSATION[:5]} and ids & {str(m.id) for m in CONVERSATION[5:]}
    assert len(combined.key_points) <= KEY_POINTS["brief"]


def test_the_message_links_each_point_to_its_message() -> None:
    summary = ChannelSummary(
        overview="Talked about the indexer.",
        key_points=[KeyPoint(text="Move the backfill", message_ids=[str(CONVERSATION[2].id), "999"])],
    )
    context = SummaryContext.of(GUILD, [CHANNEL], CONVERSATION)
    sent = summary_message(summary, context, title="")
    link = f"https://discord.com/channels/{GUILD}/{CHANNEL}/{CONVERSATION[2].id}"
    assert sent.title == f"Summary of #{CHANNEL}" and sent.body == "Talked about the indexer."
    assert [f.name for f in sent.fields] == ["Key points"]
    assert sent.fields[0].value == f"- Move the backfill [1]({link})"  # an unknown id gets no link
    assert sent.footer.startswith(f"{len(CONVERSATION)} messages, 2026-11-23 09:01 to 2026-11-23 09:09 UTC")
    assert summary_message(summary, context, title="Weekly").title == "Weekly"


def test_the_sample_channel_export_is_what_its_script_writes_and_summarises_well(tmp_path: Path) -> None:
    """examples/summaries/dev-core.json: regenerated byte for byte, and the offline summary finds its decisions,
    action items (with owners and due dates), defined jargon, and leaves the bots out."""
    script = REPO / "examples" / "make_summary_export.py"
    spec = importlib.util.spec_from_file_location("make_summary_export", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.OUT = tmp_path / "dev-core.json"
    module.main()
    sample = REPO / "examples" / "summaries" / "dev-core.json"
    assert module.OUT.read_bytes() == sample.read_bytes()

    everything = parse_export(sample)
    messages = messages_to_summarise(everything, include_bots=False)
    assert 250 <= len(everything) <= 400 and 100 <= len(everything) - len(messages)
    assert (everything[-1].timestamp - everything[0].timestamp).days == 6
    summary = summarise_offline(messages, SummaryOptions("detailed", True, True))
    assert sum("decided" in point.text.lower() or "decision" in point.text.lower() for point in summary.key_points) >= 2
    actions = {(item.owner, item.due) for item in summary.action_items}
    assert {("bob", "Friday"), ("dave", "Monday"), ("carol", "Thursday"), ("erin", "Tuesday")} <= actions
    defined = {term.term.lower(): term.definition for term in summary.technical_terms}
    assert defined["tvl"] == "the total value locked in a pool" and defined["reorg"].startswith("when the chain")
    assert {person.name for person in summary.participants} == {"alice", "bob", "carol", "dave", "erin"}


def test_a_channel_without_a_cursor_starts_at_the_first_lookback() -> None:
    since = datetime(2026, 11, 24, tzinfo=timezone.utc)
    cursors = first_cursors({CHANNEL: 1400000000000000009}, [CHANNEL, 1300000000000000002], since)
    assert cursors[CHANNEL] == 1400000000000000009  # a cursor is kept
    assert snowflake_time(cursors[1300000000000000002]) == since  # Discord's own id of that moment
