"""Generate the sample DiscordChatExporter JSON exports under examples/discord/.

Deterministic and stdlib-only: running it twice produces byte-identical files.

    python examples/make_sample_export.py

Writes examples/discord/web3-alpha.json and examples/discord/general.json
(two text channels of the guild "Guildflow Demo"), rewrites examples/README.md
and prints the counts plus the table of distinct X status posts.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "discord"
README = HERE / "README.md"

DISCORD_EPOCH_MS = 1420070400000
TWITTER_EPOCH_MS = 1288834974657
EXPORTED_AT = "2026-11-21T21:00:00.000+00:00"

_rng = random.Random(20261121)  # only used for the low bits of tweet ids


def _utc(text: str) -> datetime:
    """'2026-11-17T08:02:11.340' -> aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def _ms(dt: datetime) -> int:
    return int(round(dt.timestamp() * 1000))


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+00:00"


def discord_snowflake(dt: datetime, increment: int = 0) -> str:
    return str(((_ms(dt) - DISCORD_EPOCH_MS) << 22) + increment)


def tweet_snowflake(dt: datetime) -> str:
    # 10 bits machine id + 12 bits sequence, like real X ids
    low = (_rng.randrange(0, 1024) << 12) | _rng.randrange(0, 4096)
    return str(((_ms(dt) - TWITTER_EPOCH_MS) << 22) | low)


# --------------------------------------------------------------------------
# Guild / channels
# --------------------------------------------------------------------------

GUILD = {
    "id": discord_snowflake(_utc("2021-03-14T17:42:10.512"), 0),
    "name": "Guildflow Demo",
    "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
}
CATEGORY_ID = discord_snowflake(_utc("2021-03-14T17:42:11.204"), 1)
CHANNELS = {
    "general": {
        "id": discord_snowflake(_utc("2021-03-14T17:42:11.377"), 2),
        "type": "GuildTextChat",
        "categoryId": CATEGORY_ID,
        "category": "Community",
        "name": "general",
        "topic": "Say hi, share whatever. Keep it friendly.",
    },
    "web3-alpha": {
        "id": discord_snowflake(_utc("2022-06-02T11:05:48.903"), 0),
        "type": "GuildTextChat",
        "categoryId": CATEGORY_ID,
        "category": "Community",
        "name": "web3-alpha",
        "topic": None,
    },
}

# --------------------------------------------------------------------------
# Authors
# --------------------------------------------------------------------------

ROLE_ALPHA = {
    "id": discord_snowflake(_utc("2022-06-02T11:07:00.000"), 3),
    "name": "Alpha Hunter",
    "color": "#F1C40F",
    "position": 3,
}
ROLE_MOD = {
    "id": discord_snowflake(_utc("2021-03-14T17:50:00.000"), 4),
    "name": "Moderator",
    "color": "#3498DB",
    "position": 5,
}
ROLE_BOT = {
    "id": discord_snowflake(_utc("2021-03-15T09:00:00.000"), 5),
    "name": "Bots",
    "color": "#95A5A6",
    "position": 4,
}


def _user(created: str, name: str, nickname: str, avatar: int, *, bot=False, disc="0000", roles=(), color=None):
    return {
        "id": discord_snowflake(_utc(created), 0),
        "name": name,
        "discriminator": disc,
        "nickname": nickname,
        "color": color,
        "isBot": bot,
        "roles": list(roles),
        "avatarUrl": f"https://cdn.discordapp.com/embed/avatars/{avatar}.png",
    }


USERS = {
    "alice": _user("2018-02-11T20:14:33.101", "alice", "Alice", 1, roles=[ROLE_MOD], color="#3498DB"),
    "bob": _user("2019-07-23T08:02:51.884", "bob_the_builder", "Bob 🛠️", 2),
    "kate": _user("2020-11-05T16:40:12.310", "cryptokate", "Kate ⚡", 3, roles=[ROLE_ALPHA], color="#F1C40F"),
    "dave": _user("2021-05-19T23:11:07.045", "degen_dave", "Dave", 4, roles=[ROLE_ALPHA], color="#F1C40F"),
    "mei": _user("2017-09-30T12:25:44.672", "mei.lin", "Mei", 5),
    "sam": _user("2022-01-08T05:33:20.019", "satoshi_sam", "Sam", 0, roles=[ROLE_ALPHA], color="#F1C40F"),
    "nora": _user("2021-12-24T19:58:02.777", "nora_nft", "Nora 🎨", 1),
    "guildbot": _user(
        "2021-03-15T09:01:12.000", "GuildBot", "GuildBot", 0, bot=True, disc="4521", roles=[ROLE_BOT], color="#95A5A6"
    ),
    "xfeed": _user(
        "2022-06-02T11:20:45.000", "XFeed", "XFeed", 3, bot=True, disc="7310", roles=[ROLE_BOT], color="#95A5A6"
    ),
}

# --------------------------------------------------------------------------
# Distinct X posts: key -> (handle, display name, is_project_announcement, created, text)
# --------------------------------------------------------------------------

TWEET_DEFS = [
    # ---- new crypto / Web3 project announcements (intended: yes) ----
    (
        "nova",
        "novaswap_xyz",
        "NovaSwap",
        True,
        "2026-11-17T07:58:40.000",
        "Introducing NovaSwap: a cross-chain DEX on Base. Mainnet launches Nov 25, airdrop for early LPs 🪂 "
        "Provide liquidity during the beta to qualify.",
    ),
    (
        "orbit",
        "orbit_protocol",
        "Orbit Protocol",
        True,
        "2026-11-17T09:30:05.000",
        "$ORBIT token TGE is set for Dec 2 🪐 Claim portal opens 24h before. Eligibility checker is live now.",
    ),
    (
        "lumen",
        "lumen_chain",
        "Lumen Network",
        True,
        "2026-11-17T10:00:00.000",
        "Lumen public testnet is live 🚀 Bridge Sepolia ETH, deploy contracts and farm testnet points. "
        "Incentivized phase runs until Jan 15.",
    ),
    (
        "veil",
        "veilpay_io",
        "VeilPay",
        True,
        "2026-11-17T11:04:31.000",
        "Meet VeilPay: private stablecoin payments on Ethereum using zk proofs. Devnet is open today, "
        "audits by two firms complete. Waitlist 👇",
    ),
    (
        "restakr",
        "restakr_fi",
        "Restakr",
        True,
        "2026-11-17T13:45:12.000",
        "We raised a $12M seed led by Blockhaus Ventures and Tidewater Capital to build a restaking protocol "
        "for rollup sequencers. Hiring Solidity + Rust engineers.",
    ),
    (
        "pixel",
        "pixelpunksclub",
        "Pixel Punks Club",
        True,
        "2026-11-18T08:30:00.000",
        "Pixel Punks NFT mint opens Nov 20, 16:00 UTC 🎨 5,555 supply · 0.02 ETH · allowlist gets the first hour. "
        "Minting on Zora.",
    ),
    (
        "drift",
        "driftbridge",
        "DriftBridge",
        True,
        "2026-11-18T10:15:27.000",
        "DriftBridge v1 is live: an intent-based bridge across 12 chains with sub-10s fills. "
        "Early users earn $DRIFT allocation.",
    ),
    (
        "kelp",
        "kelp_stake",
        "Kelp",
        True,
        "2026-11-18T12:50:00.000",
        "Introducing Kelp — liquid staking for Solana validators. Stake SOL, get kSOL, use it across DeFi. "
        "Points program begins today 🌿",
    ),
    (
        "arcadia",
        "arcadia_onchain",
        "Arcadia",
        True,
        "2026-11-18T14:12:44.000",
        "Arcadia season 0 open beta is live on Arbitrum ⚔️ A fully onchain roguelike — 10% of $ARC supply "
        "is reserved for players.",
    ),
    (
        "helix",
        "helixperps",
        "Helix",
        True,
        "2026-11-18T15:01:09.000",
        "Helix is a new perp DEX on its own appchain. Closed beta opens Monday: 50x leverage, points for "
        "traders and LPs. Apply for access ⬇️",
    ),
    (
        "quanta",
        "quanta_oracle",
        "Quanta Oracle",
        True,
        "2026-11-18T15:30:50.000",
        "Quanta Oracle launches on Sui mainnet next week: pull-based price feeds with 400ms updates. "
        "Devs can integrate the SDK today.",
    ),
    (
        "zenith",
        "zenith_l2",
        "Zenith",
        True,
        "2026-11-19T09:00:00.000",
        "Zenith mainnet beta is live: a ZK L2 rollup built for payments, settling to Ethereum. Bridge is open, "
        "fees paid in ETH, $ZEN points start today.",
    ),
    (
        "moss",
        "moss_dao",
        "MossDAO",
        True,
        "2026-11-19T13:58:21.000",
        "The $MOSS airdrop is here 🌱 Snapshot taken Nov 15 for early contributors and Gitcoin donors. "
        "Claim window opens Nov 22 for 30 days.",
    ),
    # ---- everything else (intended: no) ----
    (
        "goal",
        "goalcast_fc",
        "GoalCast",
        False,
        "2026-11-16T22:47:13.000",
        "WHAT A FINISH 🚀 93rd-minute volley wins the derby! Full highlights in the thread.",
    ),
    (
        "btc",
        "btc_maxi_tom",
        "Tom ₿",
        False,
        "2026-11-17T16:05:40.000",
        "Bitcoin just reclaimed $150k. Bears in shambles. Not financial advice.",
    ),
    (
        "chef",
        "chefmarta",
        "Marta Cooks",
        False,
        "2026-11-17T17:20:00.000",
        "Brown butter miso cookies: salty, chewy, ridiculous. Recipe below — rest the dough 24h, trust me 🍪",
    ),
    (
        "ai",
        "ai_dispatch",
        "AI Dispatch",
        False,
        "2026-11-18T10:52:36.000",
        "A new open-weights 70B model just topped the reasoning leaderboard, beating several closed models. "
        "Weights + paper out today.",
    ),
    (
        "dev",
        "devtoolsdaily",
        "DevTools Daily",
        False,
        "2026-11-18T14:00:00.000",
        "TIL: `git worktree add ../hotfix main` lets you work on a hotfix without stashing anything. Game changer.",
    ),
    (
        "astro",
        "skyatnight_pix",
        "Sky at Night",
        False,
        "2026-11-19T07:12:58.000",
        "Northern lights over Iceland last night 📸 no filter, just a 10s exposure.",
    ),
    (
        "nba",
        "hoopsclips",
        "Hoops Clips",
        False,
        "2026-11-19T04:31:19.000",
        "Buzzer-beater from half court to force OT 😱 the whole arena went silent",
    ),
    (
        "weather",
        "wxwatch_uk",
        "WX Watch UK",
        False,
        "2026-11-20T06:30:00.000",
        "Storm warning: gusts up to 80mph along the west coast tonight. Secure loose items and avoid coastal roads.",
    ),
    (
        "markets",
        "markets_now",
        "Markets Now",
        False,
        "2026-11-20T11:58:02.000",
        "S&P 500 closes at a record high as tech rallies into the holidays 📈",
    ),
    (
        "cat",
        "catsofx",
        "Cats of X",
        False,
        "2026-11-20T15:44:30.000",
        "he knocked the christmas tree over and then sat there like he'd done us a favor",
    ),
    (
        "startup",
        "techbeat_news",
        "TechBeat",
        False,
        "2026-11-20T17:40:11.000",
        "NoteLoom raises $40M Series B to build AI-powered meeting notes for enterprise teams.",
    ),
    (
        "meme",
        "dailymemehub",
        "Daily Meme Hub",
        False,
        "2026-11-20T19:03:47.000",
        "me explaining to my family that I work on 'the cloud' and no, I can't fix the printer",
    ),
    (
        "f1",
        "paddockpulse",
        "Paddock Pulse",
        False,
        "2026-11-20T20:41:05.000",
        "Pole position by 0.021s 🏎️ what a lap under the Las Vegas lights",
    ),
    (
        "py",
        "pytips_daily",
        "Python Tips",
        False,
        "2026-11-21T08:37:22.000",
        "Python's free-threaded build is getting fast. Our benchmark: 3.1x speedup on CPU-bound threads vs the GIL build.",
    ),
]

TWEETS: dict[str, dict] = {}
for _key, _handle, _name, _is_proj, _created, _text in sorted(TWEET_DEFS, key=lambda t: t[4]):
    _dt = _utc(_created)
    TWEETS[_key] = {
        "key": _key,
        "handle": _handle,
        "name": _name,
        "is_project": _is_proj,
        "created": _dt,
        "text": _text,
        "id": tweet_snowflake(_dt),
    }
assert all(re.fullmatch(r"[A-Za-z0-9_]{1,15}", t["handle"]) for t in TWEETS.values())
assert all(len(t["id"]) == 19 for t in TWEETS.values())


def sid(key: str) -> str:
    return TWEETS[key]["id"]


def tw(key: str, *, url_host: str = "twitter.com", image: bool = False) -> dict:
    """A Discord embed for an X post, as Discord/DiscordChatExporter records it."""
    t = TWEETS[key]
    label = f"{t['name']} (@{t['handle']})"
    images = []
    if image:
        images.append(
            {
                "url": f"https://pbs.twimg.com/media/G{t['id'][-10:]}xQ.jpg",
                "canonicalUrl": f"https://pbs.twimg.com/media/G{t['id'][-10:]}xQ.jpg",
                "width": 1600,
                "height": 1066,
            }
        )
    return {
        "title": f"{label} on X",
        "url": f"https://{url_host}/{t['handle']}/status/{t['id']}",
        "timestamp": _iso(t["created"]),
        "description": t["text"],
        "color": "#1DA1F2",
        "author": {"name": label, "url": f"https://twitter.com/{t['handle']}"},
        "thumbnail": None,
        "images": images,
        "fields": [],
        "inlineEmojis": [],
    }


def yt(video_id: str, title: str, description: str) -> dict:
    return {
        "title": title,
        "url": f"https://www.youtube.com/watch?v={video_id}",
        "timestamp": None,
        "description": description,
        "color": "#FF0000",
        "author": {"name": "Guildflow Demo", "url": "https://www.youtube.com/@guildflowdemo"},
        "thumbnail": {
            "url": f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg",
            "canonicalUrl": f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg",
            "width": 480,
            "height": 360,
        },
        "images": [],
        "fields": [],
        "inlineEmojis": [],
    }


def gh(repo: str, description: str) -> dict:
    return {
        "title": f"GitHub - {repo}",
        "url": f"https://github.com/{repo}",
        "timestamp": None,
        "description": description,
        "color": "#1E2327",
        "author": None,
        "thumbnail": None,
        "images": [],
        "fields": [],
        "inlineEmojis": [],
    }


EMOJI = {
    "🔥": ("fire", "1f525"),
    "👀": ("eyes", "1f440"),
    "😂": ("joy", "1f602"),
    "🚀": ("rocket", "1f680"),
}


def react(emoji: str, *user_keys: str) -> dict:
    code, hexcode = EMOJI[emoji]
    return {
        "emoji": {
            "id": "",
            "name": emoji,
            "code": code,
            "isAnimated": False,
            "imageUrl": f"https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/{hexcode}.svg",
        },
        "count": len(user_keys),
        "users": [USERS[k] for k in user_keys],
    }


REMINDER = (
    "☀️ Daily reminder: drop alpha with a source, no referral links, DYOR. "
    "X links posted here are logged to the alpha sheet automatically."
)

# --------------------------------------------------------------------------
# Messages.  M(time, author, content, embeds=[...], edited=..., reply_to=..., ...)
# `posts` lists the tweet keys the message is *intended* to reference (content or embed).
# --------------------------------------------------------------------------


def M(ts, author, content, embeds=(), *, posts=(), edited=None, reply_to=None, pinned=False, reactions=(), tag=None):
    return {
        "ts": _utc(ts),
        "author": author,
        "content": content,
        "embeds": list(embeds),
        "posts": list(posts),
        "edited": _utc(edited) if edited else None,
        "reply_to": reply_to,
        "pinned": pinned,
        "reactions": list(reactions),
        "tag": tag,
    }


WEB3_ALPHA = [
    # ---- Tue 17 Nov
    M("2026-11-17T08:02:11.340", "guildbot", REMINDER, pinned=True),
    M("2026-11-17T08:14:37.902", "alice", "gm gm ☕"),
    M(
        "2026-11-17T08:15:02.123",
        "kate",
        f"gm. big day, NovaSwap finally announced https://x.com/novaswap_xyz/status/{sid('nova')}",
        [tw("nova")],
        posts=["nova"],
        tag="nova-1",
        reactions=[react("🔥", "dave", "sam", "nora")],
    ),
    M("2026-11-17T08:16:40.551", "bob", "cross-chain DEX on Base again? what's different this time", reply_to="nova-1"),
    M(
        "2026-11-17T08:19:05.017",
        "kate",
        "intent-based routing + an LP airdrop. mainnet on the 25th, I'm aping the beta pools",
    ),
    M(
        "2026-11-17T09:47:22.688",
        "dave",
        f"orbit TGE date is out https://mobile.twitter.com/orbit_protocol/status/{sid('orbit')}?s=20&t=Xk3pLq9aZ0bNvR2sT4uW1g",
        [tw("orbit")],
        posts=["orbit"],
    ),
    M("2026-11-17T09:50:13.245", "alice", "eligibility checker says I'm in 🙏"),
    M(
        "2026-11-17T11:32:48.470",
        "sam",
        f"two testnets dropped today: https://twitter.com/lumen_chain/status/{sid('lumen')} and "
        f"https://x.com/veilpay_io/status/{sid('veil')}",
        [tw("lumen"), tw("veil")],
        posts=["lumen", "veil"],
    ),
    M("2026-11-17T11:35:00.809", "nora", "lumen testnet faucet is already dry lol"),
    M(
        "2026-11-17T14:03:29.356",
        "mei",
        "look at this 👀",
        [tw("restakr")],
        posts=["restakr"],
        reactions=[react("👀", "kate", "bob")],
    ),
    M("2026-11-17T14:05:51.002", "bob", "$12M seed for restaking sequencers. restaking summer never ended apparently"),
    M(
        "2026-11-17T16:20:16.731",
        "dave",
        f"off topic but https://x.com/btc_maxi_tom/status/{sid('btc')} 🚀🚀",
        [tw("btc")],
        posts=["btc"],
    ),
    M("2026-11-17T16:22:40.118", "alice", "tom has been saying that since 2021 😂"),
    M(
        "2026-11-17T19:45:09.664",
        "sam",
        "there's a space on restaking risks tonight https://x.com/i/spaces/1OdKrjPkXrLJX",
    ),
    # ---- Wed 18 Nov
    M("2026-11-18T08:00:04.212", "guildbot", REMINDER),
    M(
        "2026-11-18T08:41:27.593",
        "kate",
        f"orbit again for those who missed it yesterday https://vxtwitter.com/orbit_protocol/status/{sid('orbit')}",
        [tw("orbit")],
        posts=["orbit"],
    ),
    M(
        "2026-11-18T09:12:55.040",
        "nora",
        f"Pixel Punks mint details 🎨 https://fixupx.com/pixelpunksclub/status/{sid('pixel')}",
        [tw("pixel", url_host="x.com")],
        posts=["pixel"],
    ),
    M("2026-11-18T09:14:02.377", "mei", "0.02 is fair. allowlist only gets the first hour tho"),
    M(
        "2026-11-18T10:30:44.915",
        "bob",
        "this team's repo looks legit btw https://github.com/driftbridge/intents-core",
        [gh("driftbridge/intents-core", "Solver network and settlement contracts for DriftBridge intents.")],
    ),
    M(
        "2026-11-18T10:33:19.286",
        "bob",
        f"and the announcement itself: <https://x.com/driftbridge/status/{sid('drift')}>",
        posts=["drift"],
        edited="2026-11-18T10:35:02.640",
    ),
    M(
        "2026-11-18T13:07:31.154",
        "alice",
        f"[Kelp is live on Solana](https://x.com/kelp_stake/status/{sid('kelp')}) — points from day one",
        [tw("kelp")],
        posts=["kelp"],
    ),
    M("2026-11-18T13:09:12.808", "sam", "follow https://x.com/solana too, they posted the validator list"),
    M(
        "2026-11-18T15:55:48.399",
        "dave",
        "3 things on my radar today:\n"
        f"https://x.com/arcadia_onchain/status/{sid('arcadia')}\n"
        f"https://fxtwitter.com/helixperps/status/{sid('helix')}\n"
        f"https://twitter.com/quanta_oracle/status/{sid('quanta')}",
        [tw("arcadia"), tw("helix", url_host="x.com"), tw("quanta")],
        posts=["arcadia", "helix", "quanta"],
        reactions=[react("🔥", "kate")],
    ),
    M("2026-11-18T15:58:30.067", "kate", "helix 50x on an appchain... what could go wrong"),
    M("2026-11-18T16:01:02.990", "dave", "everything, that's the fun part"),
    M(
        "2026-11-18T21:18:37.521",
        "mei",
        f"wrong channel but the cookie recipe from #general https://x.com/chefmarta/status/{sid('chef')}",
        [tw("chef")],
        posts=["chef"],
    ),
    # ---- Thu 19 Nov
    M("2026-11-19T08:00:03.775", "guildbot", REMINDER),
    M(
        "2026-11-19T09:20:41.432",
        "alice",
        f"Zenith mainnet beta 👇 https://twitter.com/zenith_l2/status/{sid('zenith')}?s=46",
        [tw("zenith")],
        posts=["zenith"],
    ),
    M(
        "2026-11-19T09:21:15.006",
        "xfeed",
        f"📣 New post from @zenith_l2: https://x.com/zenith_l2/status/{sid('zenith')}",
        [tw("zenith")],
        posts=["zenith"],
    ),
    M("2026-11-19T09:25:50.318", "bob", "bridged 0.1 ETH, took about 40s. fees tiny"),
    M(
        "2026-11-19T11:02:19.847",
        "nora",
        f"reposting from #general, relevant for the AI-agent token narrative: https://twitter.com/i/web/status/{sid('ai')}",
        [tw("ai")],
        posts=["ai"],
    ),
    M(
        "2026-11-19T12:40:07.163",
        "sam",
        "weekly alpha call recording https://www.youtube.com/watch?v=Kq3a9Xw1pZc",
        [yt("Kq3a9Xw1pZc", "Weekly Alpha Call #47", "NovaSwap, Orbit TGE, restaking and this week's testnets.")],
    ),
    M(
        "2026-11-19T14:14:14.141",
        "kate",
        f"MossDAO airdrop snapshot was the 15th, check if you donated on gitcoin "
        f"https://www.x.com/moss_dao/status/{sid('moss')} (claim opens the 22nd)",
        [tw("moss")],
        posts=["moss"],
        edited="2026-11-19T14:21:37.905",
    ),
    M("2026-11-19T14:16:58.620", "dave", "missed it. as usual"),
    M("2026-11-19T17:45:30.258", "mei", "is X down for anyone else? https://twitter.com/home just spins"),
    # ---- Fri 20 Nov
    M("2026-11-20T08:00:05.501", "guildbot", REMINDER),
    M(
        "2026-11-20T10:11:11.111",
        "nora",
        f"DriftBridge fills really are fast https://fixvx.com/driftbridge/status/{sid('drift')}",
        [tw("drift")],
        posts=["drift"],
    ),
    M("2026-11-20T10:14:40.739", "bob", "confirmed, 8s from Base to Arbitrum"),
    M(
        "2026-11-20T13:30:02.884",
        "sam",
        "anyone farming the Lumen incentivized testnet seriously? worth running a node?",
    ),
    M("2026-11-20T13:34:27.416", "kate", "running one on a hetzner box, ~€5/mo. points look decent so far"),
    M("2026-11-20T16:00:59.932", "nora", "MINT IS LIVE 🎨🎨"),
    M("2026-11-20T16:03:12.275", "alice", "gas spiked lol. minted 2"),
    M(
        "2026-11-20T18:22:48.690",
        "dave",
        f"not crypto but $40M for AI meeting notes lmao https://x.com/techbeat_news/status/{sid('startup')}",
        [tw("startup")],
        posts=["startup"],
    ),
    M(
        "2026-11-20T20:12:45.353",
        "dave",
        f"https://x.com/dailymemehub/status/{sid('meme')} me explaining my job at thanksgiving",
        [tw("meme")],
        posts=["meme"],
        reactions=[react("😂", "alice", "mei", "nora", "sam")],
    ),
    # ---- Sat 21 Nov
    M("2026-11-21T08:00:02.087", "guildbot", REMINDER),
    M("2026-11-21T09:05:33.544", "mei", "Restakr is hiring rust devs btw, if anyone's looking"),
    M(
        "2026-11-21T10:48:20.196",
        "kate",
        "solid week: novaswap, orbit, zenith, kelp, arcadia, helix, moss... sheet is getting long",
    ),
]

GENERAL = [
    # ---- Tue 17 Nov
    M("2026-11-17T09:02:44.605", "alice", "morning all! anyone watch the derby last night?"),
    M(
        "2026-11-17T09:05:10.932",
        "bob",
        f"https://x.com/goalcast_fc/status/{sid('goal')} that volley 🤯",
        [tw("goal")],
        posts=["goal"],
    ),
    M("2026-11-17T09:07:31.480", "mei", "unreal finish"),
    M("2026-11-17T12:30:00.014", "guildbot", "👋 Welcome to our 3 new members! Say hi and check out #rules."),
    M(
        "2026-11-17T18:44:21.837",
        "nora",
        f"this recipe is dangerous, made them twice already https://twitter.com/chefmarta/status/{sid('chef')}",
        [tw("chef")],
        posts=["chef"],
    ),
    # ---- Wed 18 Nov
    M(
        "2026-11-18T08:30:12.446",
        "kate",
        f"for the non-alpha people: https://fxtwitter.com/novaswap_xyz/status/{sid('nova')} airdrop for LPs, easy one",
        [tw("nova", url_host="x.com")],
        posts=["nova"],
    ),
    M("2026-11-18T08:32:40.159", "alice", "what's an LP 😅", tag="lp-q"),
    M(
        "2026-11-18T08:35:05.773",
        "kate",
        "liquidity provider — you deposit tokens into the pool and earn a cut of the fees",
        reply_to="lp-q",
    ),
    M(
        "2026-11-18T11:11:48.020",
        "sam",
        f"new open-weights model just dropped https://x.com/ai_dispatch/status/{sid('ai')}?s=20&t=pQ8vN2mZr5KdLx0WjYb7Ag",
        [tw("ai")],
        posts=["ai"],
    ),
    M(
        "2026-11-18T11:15:22.391",
        "bob",
        "benchmarks look legit, going to try it locally tonight",
        edited="2026-11-18T11:19:06.204",
    ),
    M(
        "2026-11-18T15:40:33.962",
        "mei",
        f"TIL https://www.twitter.com/devtoolsdaily/status/{sid('dev')}",
        [tw("dev")],
        posts=["dev"],
    ),
    M("2026-11-18T15:43:00.508", "dave", "worktrees are so underrated"),
    # ---- Thu 19 Nov
    M("2026-11-19T10:05:17.227", "nora", "mint tomorrow, who's in?", [tw("pixel")], posts=["pixel"]),
    M(
        "2026-11-19T13:27:50.681",
        "alice",
        f"bucket list 😍 https://x.com/skyatnight_pix/status/{sid('astro')}/photo/1",
        [tw("astro", image=True)],
        posts=["astro"],
    ),
    M("2026-11-19T13:30:04.315", "mei", "went to Tromsø last year, saw them 3 nights in a row"),
    M(
        "2026-11-19T20:55:38.874",
        "dave",
        f"https://vxtwitter.com/hoopsclips/status/{sid('nba')}",
        [tw("nba")],
        posts=["nba"],
    ),
    # ---- Fri 20 Nov
    M(
        "2026-11-20T07:48:19.140",
        "sam",
        f"storm incoming, stay safe UK folks <https://twitter.com/wxwatch_uk/status/{sid('weather')}>",
        posts=["weather"],
    ),
    M(
        "2026-11-20T12:12:12.712",
        "bob",
        f"markets ripping https://x.com/markets_now/status/{sid('markets')}",
        [tw("markets")],
        posts=["markets"],
    ),
    M("2026-11-20T12:15:40.593", "kate", "and still crypto is where the fun is"),
    M("2026-11-20T17:05:27.829", "mei", "😂😂😂", [tw("cat")], posts=["cat"]),
    M(
        "2026-11-20T21:30:02.366",
        "alice",
        f"Vegas qualifying was wild https://fixupx.com/paddockpulse/status/{sid('f1')}",
        [tw("f1", url_host="x.com")],
        posts=["f1"],
    ),
    # ---- Sat 21 Nov
    M(
        "2026-11-21T09:00:01.000",
        "guildbot",
        "📅 Community call today at 18:00 UTC in #stage. Agenda: guildflow demo + Q&A.",
    ),
    M(
        "2026-11-21T09:41:56.257",
        "nora",
        f"https://x.com/pytips_daily/status/{sid('py')} free-threading is finally paying off",
        [tw("py")],
        posts=["py"],
    ),
    M(
        "2026-11-21T09:45:10.968",
        "sam",
        "3.1x on CPU-bound is huge if it holds up on real workloads (edit: it's their own benchmark, grain of salt)",
        edited="2026-11-21T09:52:44.010",
    ),
    M(
        "2026-11-21T10:20:30.481",
        "dave",
        "last week's call if you missed it https://youtu.be/Kq3a9Xw1pZc",
        [yt("Kq3a9Xw1pZc", "Weekly Alpha Call #47", "NovaSwap, Orbit TGE, restaking and this week's testnets.")],
    ),
    M("2026-11-21T10:30:00.733", "alice", "see you all at 18:00 👋"),
]

# --------------------------------------------------------------------------
# Build the export documents
# --------------------------------------------------------------------------


def build(channel_key: str, specs: list[dict]) -> tuple[dict, list[dict]]:
    channel = CHANNELS[channel_key]
    specs = sorted(specs, key=lambda s: s["ts"])
    tags: dict[str, dict] = {}
    messages = []
    for i, s in enumerate(specs, start=1):
        msg_id = discord_snowflake(s["ts"], increment=i)
        s["id"] = msg_id
        if s["tag"]:
            tags[s["tag"]] = s
        mentions = []
        msg = {
            "id": msg_id,
            "type": "Reply" if s["reply_to"] else "Default",
            "timestamp": _iso(s["ts"]),
            "timestampEdited": _iso(s["edited"]) if s["edited"] else None,
            "callEndedTimestamp": None,
            "isPinned": s["pinned"],
            "content": s["content"],
            "author": USERS[s["author"]],
            "attachments": [],
            "embeds": s["embeds"],
            "stickers": [],
            "reactions": s["reactions"],
            "mentions": mentions,
            "inlineEmojis": [],
        }
        if s["reply_to"]:
            target = tags[s["reply_to"]]
            mentions.append(USERS[target["author"]])
            msg["reference"] = {"messageId": target["id"], "channelId": channel["id"], "guildId": GUILD["id"]}
        messages.append(msg)
    doc = {
        "guild": GUILD,
        "channel": channel,
        "dateRange": {"after": None, "before": None},
        "exportedAt": EXPORTED_AT,
        "messages": messages,
        "messageCount": len(messages),
    }
    return doc, specs


# An independent extractor, used to check that what the files contain matches the intent above.
STATUS_RE = re.compile(
    r"https?://(?:www\.|mobile\.)?(?:twitter|x|fxtwitter|vxtwitter|fixupx|fixvx)\.com/"
    r"(?:i/web|(?P<handle>[A-Za-z0-9_]{1,15}))/status/(?P<id>\d+)"
)
VARIANT_CHECKS = [
    ("twitter.com", r"https://twitter\.com/(?!i/)\w+/status/"),
    ("x.com", r"https://x\.com/(?!i/)\w+/status/"),
    ("mobile.twitter.com", r"https://mobile\.twitter\.com/\w+/status/"),
    ("www.twitter.com", r"https://www\.twitter\.com/\w+/status/"),
    ("www.x.com", r"https://www\.x\.com/\w+/status/"),
    ("fxtwitter.com", r"https://fxtwitter\.com/"),
    ("vxtwitter.com", r"https://vxtwitter\.com/"),
    ("fixupx.com", r"https://fixupx\.com/"),
    ("fixvx.com", r"https://fixvx\.com/"),
    ("?s=20&t= tracking", r"/status/\d+\?s=20&t="),
    ("?s=46 tracking", r"/status/\d+\?s=46"),
    ("/photo/1 suffix", r"/status/\d+/photo/1"),
    ("<angle brackets>", r"<https://[^>]+/status/\d+>"),
    ("[markdown](link)", r"\]\(https://[^)]+/status/\d+\)"),
    ("twitter.com/i/web/status", r"https://twitter\.com/i/web/status/\d+"),
]


def validate(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    msgs = doc["messages"]
    assert doc["messageCount"] == len(msgs), path
    ids = [int(m["id"]) for m in msgs]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), path
    for m in msgs:
        ts = datetime.fromisoformat(m["timestamp"])
        assert ts.tzinfo is not None
        assert datetime(2026, 11, 17, tzinfo=timezone.utc) <= ts < datetime(2026, 11, 22, tzinfo=timezone.utc)
        # snowflake <-> timestamp consistency
        assert (int(m["id"]) >> 22) + DISCORD_EPOCH_MS == _ms(ts), m["id"]
        if m["timestampEdited"]:
            assert datetime.fromisoformat(m["timestampEdited"]) > ts
        for e in m["embeds"]:
            if e.get("timestamp"):
                datetime.fromisoformat(e["timestamp"])
    datetime.fromisoformat(doc["exportedAt"])
    return doc


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    built = {}
    for key, specs in (("web3-alpha", WEB3_ALPHA), ("general", GENERAL)):
        doc, ordered = build(key, specs)
        path = OUT_DIR / f"{key}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        built[key] = (path, ordered)

    # ---- validate + compute counts from the written files
    all_ids: set[int] = set()
    occurrences: dict[str, list[str]] = defaultdict(list)  # status id -> ["channel:msgid", ...]
    handle_for: dict[str, str] = {}
    counts = Counter()
    variants_seen = set()
    per_channel = {}
    for key, (path, ordered) in built.items():
        doc = validate(path)
        per_channel[key] = doc["messageCount"]
        for m, spec in zip(doc["messages"], ordered):
            mid = int(m["id"])
            assert mid not in all_ids
            all_ids.add(mid)
            found = {}
            for match in STATUS_RE.finditer(m["content"]):
                found.setdefault(match["id"], match["handle"])
            content_ids = set(found)
            for e in m["embeds"]:
                match = STATUS_RE.search(e.get("url") or "")
                if match:
                    found.setdefault(match["id"], match["handle"])
            for status_id, handle in found.items():
                if handle:
                    handle_for[status_id] = handle
                occurrences[status_id].append(f"{key}:{m['id']}")
            expected = {sid(k) for k in spec["posts"]}
            assert set(found) == expected, (key, m["content"], found, expected)
            counts["messages"] += 1
            counts["bot"] += m["author"]["isBot"]
            counts["edited"] += m["timestampEdited"] is not None
            counts["reply"] += m["type"] == "Reply"
            counts["with_status"] += bool(found)
            counts["multi_status"] += len(found) >= 2
            counts["embed_only"] += bool(found) and not content_ids
            counts["no_link"] += "http" not in m["content"] and not found
            counts["status_refs"] += len(found)
            for label, pattern in VARIANT_CHECKS:
                if re.search(pattern, m["content"]):
                    variants_seen.add(label)
    missing = [label for label, _ in VARIANT_CHECKS if label not in variants_seen]
    assert not missing, missing
    assert set(occurrences) == {t["id"] for t in TWEETS.values()}

    duplicated = {s: occ for s, occ in occurrences.items() if len(occ) > 1}
    projects = sum(t["is_project"] for t in TWEETS.values())
    lines = [
        "# guildflow sample data",
        "",
        "`discord/web3-alpha.json` and `discord/general.json` are DiscordChatExporter JSON exports of two channels of the",
        'fictional guild "Guildflow Demo" (17–21 Nov 2026), regenerated deterministically by `python examples/make_sample_export.py`.',
        f"- Messages: {counts['messages']} ({per_channel['web3-alpha']} in #web3-alpha, {per_channel['general']} in #general); "
        f"{counts['with_status']} reference an X status ({counts['status_refs']} references), {counts['no_link']} have no link at all.",
        f"- Distinct X posts: {len(occurrences)} — {projects} intended as new crypto/Web3 project announcements, "
        f"{len(occurrences) - projects} not (sports, cooking, AI, memes, markets, one Bitcoin price tweet, one non-crypto fundraise).",
        f"- Duplicates: {len(duplicated)} posts appear in more than one message "
        f"({sum(len(o) for o in duplicated.values()) - len(duplicated)} repeat references; cross-channel, next-day reposts, bot repost).",
        f"- {counts['bot']} bot messages (GuildBot reminders, one XFeed bot repost), {counts['edited']} edited, {counts['reply']} replies, "
        f"{counts['embed_only']} with the X link only in the embed, {counts['multi_status']} with 2–3 distinct status links.",
        "- Link variants: " + ", ".join(label for label, _ in VARIANT_CHECKS) + ".",
        "- Non-status links: x.com/solana (profile), x.com/i/spaces/…, twitter.com/home, github.com, youtube.com, youtu.be.",
    ]
    README.write_text("\n".join(lines) + "\n", encoding="utf-8")

    for line in lines[2:]:
        print(line)
    print()
    print(f"{'status_id':<20} {'handle':<16} {'project':<7} occurrences")
    for t in sorted(TWEETS.values(), key=lambda t: int(t["id"])):
        assert handle_for[t["id"]] == t["handle"]
        print(f"{t['id']:<20} {t['handle']:<16} {'yes' if t['is_project'] else 'no':<7} {len(occurrences[t['id']])}")


if __name__ == "__main__":
    main()
