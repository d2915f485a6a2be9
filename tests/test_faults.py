"""The fault campaign (faults/, `make faults`): its invariant checks catch what they are for, its plans are
reproducible from the seed, and a short seeded campaign breaks no invariant."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence

from faults.campaign import run_campaign
from faults.invariants import (
    ExpectedPost,
    LedgerDraft,
    SheetState,
    export_violations,
    publish_violations,
    sheet_violations,
)
from faults.plan import MAX_FAULTS, MAX_KILLS, plan_trial
from tests.emulators.discord import Post as WebhookPost
from tests.emulators.x import Tweet

CHANNEL = 1_300_000_000_000_000_100
A, B = "https://x.com/alice/status/1900000000000000001", "https://x.com/bob/status/1900000000000000002"
EXPECTED = [ExpectedPost(A, CHANNEL, 10), ExpectedPost(B, CHANNEL, 20)]
SHORT_CAMPAIGN_SEED = 14  # trials 1-3: two daily trials and an export trial, every kill early in its flow


def row(link: str, project: bool = False, receipt: str = "") -> dict[str, str]:
    return {"Post Link": link, "AI Project": "TRUE" if project else "FALSE", "Publication Receipt": receipt}


def sheet(posts: Sequence[str] = (), archive: Sequence[str] = (), cursor: int = 0) -> SheetState:
    return SheetState([row(link) for link in posts], [row(link) for link in archive], {CHANNEL: cursor})


def test_sheet_checks_catch_a_cursor_ahead_and_posts_lost_or_doubled() -> None:
    assert sheet_violations(sheet(posts=[A], archive=[B], cursor=20), EXPECTED, finished=True) == []
    # A crash between archiving's copy and delete leaves a row in both: fine until the work is done.
    assert sheet_violations(sheet(posts=[A, B], archive=[B], cursor=20), EXPECTED, finished=False) == []
    [ahead] = sheet_violations(sheet(posts=[A], cursor=20), EXPECTED, finished=False)
    assert "past message 20" in ahead and B in ahead
    [twice] = sheet_violations(sheet(posts=[A, A], cursor=10), EXPECTED, finished=False)
    assert f"{A} is in Posts 2 times" == twice
    [lost] = sheet_violations(sheet(posts=[A], cursor=10), EXPECTED, finished=True)
    assert B in lost and "0 times" in lost
    [both] = sheet_violations(sheet(posts=[A, B], archive=[B], cursor=20), EXPECTED, finished=True)
    assert B in both and "2 times" in both
    stranger = "https://x.com/carol/status/1900000000000000003"
    assert sheet_violations(sheet(posts=[A, B, stranger], cursor=20), EXPECTED, finished=False) == [
        f"{stranger} is in the sheet but in no message"
    ]


def tweet(number: int, text: str, reply_to: int | None = None) -> Tweet:
    return Tweet(str(number), text, str(reply_to) if reply_to else None, 0.0)


RECEIPT = "x:https://x.com/guildflow_bot/status/1"
DRAFT = LedgerDraft("d1", [f"Projects: {A} (1/2)", f"{B} (2/2)"], RECEIPT)


def test_publish_checks_catch_a_post_twice_and_a_thread_half_out() -> None:
    archived = SheetState([], [row(A, True, RECEIPT), row(B, True, RECEIPT)], {})
    thread = [tweet(1, DRAFT.tweets[0]), tweet(2, DRAFT.tweets[1], reply_to=1)]
    assert publish_violations(thread, [DRAFT], archived, finished=True) == []

    again = [*thread, tweet(3, f"Projects again: {A}")]
    assert publish_violations(again, [DRAFT], archived, finished=False) == [f"{A} was published in 2 tweets (1, 3)"]
    forked = [*thread, tweet(3, "(2/2) once more", reply_to=1)]
    assert publish_violations(forked, [DRAFT], archived, finished=False) == [
        "tweet 1 has 2 replies: a part was posted twice"
    ]
    half = thread[:1]
    assert publish_violations(half, [DRAFT], archived, finished=False) == []  # the next run finishes it
    [differs] = publish_violations(half, [DRAFT], archived, finished=True)
    assert "thread of 1" in differs
    [begun] = publish_violations([], [LedgerDraft("d1", DRAFT.tweets, None)], SheetState([], [], {}), finished=True)
    assert "never published" in begun
    [orphan] = publish_violations([*thread, tweet(7, "stray")], [DRAFT], archived, finished=True)
    assert orphan.startswith("tweet 7") and "no published draft" in orphan
    unpublished = SheetState([], [row(A, True, RECEIPT), row(B, True, "")], {})
    [archived_early] = publish_violations(thread, [DRAFT], unpublished, finished=True)
    assert B in archived_early


def part(
    number: int, total: int, data: dict[str, object], stamp: str = "2026-11-30T20-00-00-000Z"
) -> tuple[str, bytes]:
    return f"playerdata-scheduled-ALL-{stamp}-part-{number}-of-{total}.json.gz", gzip.compress(
        json.dumps(data).encode()
    )


GUILD_1, GUILD_2 = "1300000000000000001", "1300000000000000002"
SOURCE = {GUILD_1: {"players": {}}, GUILD_2: {"players": {"7": {"level": 3}}}}


def posted(*files: tuple[str, bytes]) -> WebhookPost:
    return WebhookPost(channel_id=1, webhook_id=2, message_id=3, content="", files=dict(files))


def test_export_checks_catch_a_partial_file_and_a_wrong_export() -> None:
    first, second = part(1, 2, {GUILD_1: SOURCE[GUILD_1]}), part(2, 2, {GUILD_2: SOURCE[GUILD_2]})
    assert export_violations([posted(first), posted(second)], SOURCE, finished=True) == []
    # A run killed between its two messages: restore refuses the lone part, so it is no violation...
    assert export_violations([posted(first)], SOURCE, finished=False) == []
    # ...but the work is not done until a complete export is posted.
    assert export_violations([posted(first)], SOURCE, finished=True) == ["no complete export was posted"]
    cut = (second[0], second[1][:-8])
    partial, unrestorable = export_violations([posted(first), posted(cut)], SOURCE, finished=False)
    assert partial.startswith(f"message 3 has a partial export file {cut[0]}")
    assert "cannot be restored" in unrestorable and "damaged gzip" in unrestorable
    other = part(2, 2, {GUILD_2: {"players": {}}})
    [wrong] = export_violations([posted(first), posted(other)], SOURCE, finished=False)
    assert "restores to something other" in wrong


def test_a_trial_plan_follows_from_the_seed_and_the_trial_number() -> None:
    calls = {"discord": 4, "sheets": 35, "gemini": 2, "x": 8}
    plan = plan_trial(7, 12, calls)
    assert plan == plan_trial(7, 12, calls)
    assert plan != plan_trial(7, 13, calls) and plan != plan_trial(8, 12, calls)
    plans = [plan_trial(7, number, calls) for number in range(1, 41)]
    assert {plan.kind for plan in plans} == {"daily", "export"}
    for plan in plans:
        assert 1 <= len(plan.faults) <= MAX_FAULTS and 1 <= len(plan.kill_points) <= MAX_KILLS
        assert all(1 <= fault.call <= 1.5 * calls[fault.service] for fault in plan.faults)
    kinds = {fault.kind for plan in plans for fault in plan.faults}
    assert kinds == {"429", "5xx", "timeout", "malformed"}


def test_a_short_seeded_campaign_breaks_no_invariant() -> None:
    """`make faults` in small: real `guildflow` processes against the emulators and a real Prefect server."""
    result = run_campaign(range(1, 4), SHORT_CAMPAIGN_SEED, say=print)
    assert result.violations() == []
    assert {outcome.plan.kind for outcome in result.outcomes} == {"daily", "export"}
    assert sum(outcome.kills_mid_flow for outcome in result.outcomes) >= 2, result.table()
    assert sum(outcome.faults_injected for outcome in result.outcomes) >= 3, result.table()
