"""Generate examples/summaries/dev-core.json: a week of a busy developer channel, for channel summaries.

Deterministic and stdlib-only: running it twice produces byte-identical files.

    python examples/make_summary_export.py

A DiscordChatExporter JSON export of #dev-core in the guild "Guildflow Demo" (Mon 23 to Sun 29 Nov 2026): a few
hundred messages with decisions, action items (owners, due dates), jargon with definitions, small talk, and bot
noise (CI, GitHub, uptime) that a summary leaves out unless asked.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "summaries" / "dev-core.json"
DISCORD_EPOCH_MS = 1420070400000
WEEK_START = datetime(2026, 11, 23, tzinfo=timezone.utc)
EXPORTED_AT = "2026-11-30T08:00:00.000+00:00"
GUILD_ID = "820713432859803648"  # the guild of examples/discord/
CHANNEL_ID = "1574000000000000001"


def snowflake(moment: datetime, increment: int) -> str:
    return str(((int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + increment)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


PEOPLE = {
    "alice": ("412340655126216704", "Alice"),
    "bob": ("603134925247348736", "Bob"),
    "carol": ("715551246617624586", "Carol"),
    "dave": ("734020203452399617", "Dave"),
    "erin": ("801234567890123456", "Erin"),
}
BOTS = {
    "CI": ("1100000000000000001", "CI"),
    "GitHub": ("1100000000000000002", "GitHub"),
    "Uptime": ("1100000000000000003", "Uptime"),
}

# (day, "HH:MM", author, text): the conversation a summary should find.
SCRIPT = [
    (0, "09:05", "alice", "Morning! The indexer backfill is slow again, the RPC node keeps timing out on eth_getLogs."),
    (0, "09:07", "bob", "The RPC provider rate limits us at 50 requests per second; the backfill needs about 400."),
    (0, "09:12", "carol", "RPC is the remote procedure call endpoint of a node: every read we make goes through it."),
    (0, "09:20", "dave", "Could we batch eth_getLogs over wider block ranges? That cuts the requests by ten."),
    (0, "09:31", "bob", "Batching helps, but a reorg deeper than our `reorg_depth` of 12 blocks would then be missed."),
    (0, "09:33", "erin", "A reorg is when the chain replaces its latest blocks with another branch."),
    (0, "10:02", "alice", "We decided to move the indexer backfill to a dedicated RPC node next week."),
    (0, "10:05", "bob", "I'll write the migration plan for the dedicated RPC node by Friday."),
    (0, "10:06", "alice", "@dave can you get a quote for the dedicated node from two providers by Wednesday?"),
    (0, "10:09", "dave", "Sure, I'll ask Chainstack and QuickNode today."),
    (1, "09:15", "carol", "Release v2.3 planning: feature freeze is Thursday, release on Monday 30th."),
    (1, "09:18", "carol", "I'll own the changelog for v2.3 and post the draft by Thursday."),
    (
        1,
        "09:24",
        "erin",
        "The MEV protection toggle should make it in: MEV is the value a block builder extracts by reordering transactions.",
    ),
    (1, "09:30", "bob", "Agreed, MEV protection goes in v2.3; the finality badge waits for v2.4."),
    (
        1,
        "09:41",
        "alice",
        "Finality is the point after which a block cannot be reverted; on mainnet that is two epochs.",
    ),
    (1, "10:15", "dave", "@erin please add the MEV toggle to the settings page before the freeze."),
    (1, "14:02", "erin", "The MEV toggle PR is up, needs one more review."),
    (1, "14:30", "alice", "Reviewed the MEV toggle PR, lgtm after the copy fix."),
    (
        2,
        "08:47",
        "dave",
        "Heads up: websocket clients keep disconnecting since the 08:30 deploy, p99 latency is at 4 s.",
    ),
    (2, "08:50", "bob", "p99 is the latency 99% of requests stay under; it was 300 ms yesterday."),
    (2, "08:58", "alice", "We decided to roll back the 08:30 deploy; dave is on it."),
    (2, "09:20", "dave", "Rollback done, p99 back at 310 ms, websocket disconnects gone."),
    (2, "09:45", "alice", "@dave please write the postmortem for the websocket incident by Monday."),
    (2, "09:47", "dave", "Will do. Root cause looks like the connection pool limit in the new gateway config."),
    (2, "11:10", "dave", "Quotes are in: Chainstack 420 USD/month, QuickNode 480 USD/month for a dedicated node."),
    (2, "11:25", "bob", "Let's go with Chainstack, same SLA and cheaper."),
    (2, "11:31", "alice", "Agreed, Chainstack it is. Decision: dedicated Chainstack node for the indexer."),
    (3, "09:00", "carol", "Feature freeze for v2.3 is in effect: only fixes from now on."),
    (3, "09:40", "erin", "CI is flaky again: the e2e websocket test failed three times on main without a code change."),
    (3, "09:52", "bob", "We agreed last month to quarantine flaky tests instead of retrying them blindly."),
    (3, "10:05", "carol", "Decision: quarantine the e2e websocket test and open an issue; erin owns the fix."),
    (3, "10:06", "erin", "I'll fix the flaky websocket test before the release on Monday."),
    (3, "16:45", "carol", "Changelog draft for v2.3 is in the release PR, please read it before Friday noon."),
    (4, "09:30", "bob", "Migration plan for the dedicated RPC node is in the wiki: backfill in 3 phases, 2 days each."),
    (4, "09:44", "alice", "Plan looks good. Go ahead next Tuesday, bob leads, dave on call."),
    (4, "10:10", "dave", "Postmortem draft is up: connection pool limit of 64 was too low for the new gateway."),
    (
        4,
        "10:30",
        "erin",
        "TVL on the dashboard is wrong for pools created this week: TVL is the total value locked in a pool.",
    ),
    (4, "10:41", "carol", "@erin can you fix the TVL query for new pools by Tuesday?"),
    (4, "10:43", "erin", "Yes, it is the missing join on pool_created_at; fix is small."),
    (4, "17:05", "alice", "Thanks all for a busy week: rollback handled well, release on track."),
    (5, "11:20", "dave", "Quiet weekend so far, p99 steady at 290 ms."),
    (6, "18:10", "carol", "Reminder: release v2.3 tomorrow at 10:00 UTC, carol drives, bob on standby."),
]
CHATTER = [
    "lgtm",
    "nice",
    "on it",
    "thanks!",
    "coffee first",
    "+1",
    "makes sense",
    "brb, meeting",
    "ty",
    "good call",
    "agreed",
    "haha",
    "back",
    "looking",
    "ok",
    "sounds good",
    "will check after lunch",
    "anyone seen the new Grafana panel?",
    "the office wifi is down again",
    "who broke the staging seed data?",
    "staging is fine now",
    "lunch?",
    "pushing a fix",
    "that was me, sorry",
    "ship it",
]


def bot_noise(rng: random.Random, build: int) -> tuple[str, str]:
    kind = rng.choice(["CI", "CI", "GitHub", "Uptime"])
    if kind == "CI":
        outcome = rng.choice(["passed", "passed", "passed", "failed"])
        return kind, f"Build #{build} {outcome} on main ({rng.randint(2, 9)}m{rng.randint(0, 59):02d}s)"
    if kind == "GitHub":
        who = rng.choice(list(PEOPLE))
        return kind, f"[guildflow/indexer] PR #{400 + build % 200} {rng.choice(['opened', 'merged'])} by {who}"
    return kind, f"rpc-eu-1 is up (latency {rng.randint(60, 140)} ms)"


def author(name: str) -> dict[str, object]:
    user_id, nickname = PEOPLE.get(name) or BOTS[name]
    return {
        "id": user_id,
        "name": name,
        "discriminator": "0000",
        "nickname": nickname,
        "color": None,
        "isBot": name in BOTS,
        "roles": [],
        "avatarUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
    }


def messages() -> list[dict[str, object]]:
    rng = random.Random(20261123)
    timeline: list[tuple[datetime, str, str]] = []
    for day, clock, name, text in SCRIPT:
        hour, minute = map(int, clock.split(":"))
        timeline.append((WEEK_START + timedelta(days=day, hours=hour, minutes=minute), name, text))
    for day in range(7):
        busy = 25 if day < 5 else 6
        for _ in range(busy):
            moment = WEEK_START + timedelta(days=day, hours=rng.randint(8, 18), minutes=rng.randint(0, 59))
            timeline.append((moment, rng.choice(list(PEOPLE)), rng.choice(CHATTER)))
        for build in range(20 if day < 5 else 8):
            moment = WEEK_START + timedelta(days=day, hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
            name, text = bot_noise(rng, 1000 + day * 40 + build)
            timeline.append((moment, name, text))
    timeline.sort(key=lambda item: item[0])
    result = []
    for increment, (moment, name, text) in enumerate(timeline):
        moment += timedelta(seconds=increment % 60, milliseconds=(increment * 37) % 1000)
        result.append(
            {
                "id": snowflake(moment, increment),
                "type": "Default",
                "timestamp": iso(moment),
                "timestampEdited": None,
                "callEndedTimestamp": None,
                "isPinned": False,
                "content": text,
                "author": author(name),
                "attachments": [],
                "embeds": [],
                "stickers": [],
                "reactions": [],
                "mentions": [],
                "inlineEmojis": [],
            }
        )
    return result


def main() -> None:
    found = messages()
    export = {
        "guild": {
            "id": GUILD_ID,
            "name": "Guildflow Demo",
            "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
        },
        "channel": {
            "id": CHANNEL_ID,
            "type": "GuildTextChat",
            "categoryId": "820713435762262017",
            "category": "Community",
            "name": "dev-core",
            "topic": "The core team's day-to-day: indexer, releases, incidents.",
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": EXPORTED_AT,
        "messages": found,
        "messageCount": len(found),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(export, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    bots = sum(1 for message in found if message["author"]["isBot"])  # type: ignore[index]
    print(f"wrote {OUT}: {len(found)} messages ({bots} from bots) in #dev-core, 23-29 Nov 2026")


if __name__ == "__main__":
    main()
