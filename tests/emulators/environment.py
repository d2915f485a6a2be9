"""The GUILDFLOW_* settings that put every backend on its real client, pointed at the emulators
(flow tests and benchmarks)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tests.emulators.discord import DiscordEmulator
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.google_sheets import SheetsEmulator
from tests.emulators.x import XEmulator


def real_clients_env(
    discord: DiscordEmulator,
    sheets: SheetsEmulator,
    gemini: GeminiEmulator,
    x: XEmulator,
    channel_ids: Iterable[int],
    spreadsheet_id: str,
    service_account: dict[str, Any],
) -> dict[str, str]:
    names = {
        "DISCORD_BACKEND": "api",
        "DISCORD_CHANNELS": ",".join(map(str, channel_ids)),
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_BASE": discord.api_base,
        "SHEET_BACKEND": "google",
        "SHEETS_SPREADSHEET_ID": spreadsheet_id,
        "SHEETS_SERVICE_ACCOUNT": json.dumps(service_account),
        "SHEETS_API_BASE": sheets.url,
        "ANALYSER_BACKEND": "gemini",
        "GEMINI_API_KEY": gemini.api_key,
        "GEMINI_API_BASE": gemini.url,
        "PUBLISHER_BACKEND": "x",
        "X_API_KEY": x.credentials.api_key,
        "X_API_SECRET": x.credentials.api_secret,
        "X_ACCESS_TOKEN": x.credentials.access_token,
        "X_ACCESS_TOKEN_SECRET": x.credentials.access_token_secret,
        "X_API_BASE": x.url,
    }
    return {f"GUILDFLOW_{name}": value for name, value in names.items()}
