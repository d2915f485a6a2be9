"""Writes examples/playerData.json: a synthetic Discord game bot's data, keyed by guild id.

Deterministic (seeded). `build_player_data(guilds, players_per_guild)` is also what the benchmarks
use to make 1, 10 and 50 MB files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("playerData.json")
SERVER_NAMES = ["Dragon's Rest", "Pixel Tavern", "Crypto Raiders", "Moonlit Guild", "Shard Hunters", "Nova Base"]
TRIBES = ["Emberclaw", "Frostfang", "Stormborn", "Ironhide", "Shadowleaf"]
ITEMS = ["sword", "shield", "potion", "bow", "arrow", "gem", "scroll", "amulet", "pickaxe", "lantern"]
ZONE = ["Ashen Wastes", "Crystal Caves", "Sunken Keep", "Verdant Vale"]


def snowflake(rng: random.Random) -> str:
    # A creation time in 2019-2026, shifted into a snowflake like Discord's.
    millis = rng.randint(1_546_300_800_000, 1_790_000_000_000) - 1_420_070_400_000
    return str((millis << 22) | rng.randint(0, (1 << 22) - 1))


def player(rng: random.Random, user_id: str) -> dict[str, Any]:
    level = rng.randint(1, 80)
    return {
        "userId": user_id,
        "username": f"player_{user_id[-5:]}",
        "level": level,
        "xp": level * 1000 + rng.randint(0, 999),
        "gold": rng.randint(0, 50_000),
        "tribe": rng.choice(TRIBES),
        "joinedAt": f"202{rng.randint(3, 6)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00.000Z",
        "stats": {"strength": rng.randint(1, 99), "agility": rng.randint(1, 99), "wisdom": rng.randint(1, 99)},
        "inventory": [
            {"item": rng.choice(ITEMS), "qty": rng.randint(1, 20), "durability": round(rng.random(), 2)}
            for _ in range(rng.randint(0, 8))
        ],
        "quests": {
            "active": [{"id": f"q{rng.randint(100, 999)}", "zone": rng.choice(ZONE), "progress": rng.randint(0, 100)}],
            "completed": sorted({f"q{rng.randint(100, 999)}" for _ in range(rng.randint(0, 12))}),
        },
        "cooldowns": {"daily": None if rng.random() < 0.3 else 1_763_700_000_000 + rng.randint(0, 86_400_000)},
        "flags": {"banned": False, "premium": rng.random() < 0.1},
    }


def guild(rng: random.Random, name: str, players: int) -> dict[str, Any]:
    members = [snowflake(rng) for _ in range(players)]
    return {
        "serverName": name,
        "prefix": rng.choice(["!", "?", "g!"]),
        "players": {member: player(rng, member) for member in members},
        "tribes": {
            tribe: {"leader": rng.choice(members), "members": rng.sample(members, k=min(len(members), 3))}
            for tribe in rng.sample(TRIBES, k=3)
        },
        "settings": {"economy": {"dailyReward": 250, "currency": "gold"}, "announceChannel": snowflake(rng)},
    }


def build_player_data(guilds: int, players_per_guild: int, seed: int = 2026) -> dict[str, Any]:
    rng = random.Random(seed)
    data: dict[str, Any] = {
        "/* Server ID */": {"serverName": "Template", "players": {}, "tribes": {}, "settings": {}},
        "environmentConfig": {"version": "3.2.1", "maintenance": False, "defaultPrefix": "!"},
    }
    for index in range(guilds):
        name = SERVER_NAMES[index % len(SERVER_NAMES)] + ("" if index < len(SERVER_NAMES) else f" {index}")
        data[snowflake(rng)] = guild(rng, name, players_per_guild)
    unnamed = snowflake(rng)  # a guild the bot joined before it stored names
    data[unnamed] = {"players": {}, "tribes": {}, "settings": {}}
    return data


def main() -> None:
    data = build_player_data(guilds=4, players_per_guild=12)
    OUT.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    guilds = [key for key in data if key.isdigit()]
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {len(guilds)} guilds, keys {list(data)[:2]} + guild ids")


if __name__ == "__main__":
    main()
