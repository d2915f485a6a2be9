"""The daily pipeline with every real client (discord.py, gspread, google-genai, tweepy) pointed at the
emulators, compared with the offline run on the same messages: configuration is the only difference."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.sheet import ARCHIVE_WORKSHEET
from flows.daily import daily_pipeline
from guildflow.settings import load_settings
from integrations.google_sheets import GoogleSheet
from tasks import clients
from tests.conftest import SAMPLE_EXPORTS
from tests.emulators.base import Fault, Response
from tests.emulators.discord import DiscordEmulator
from tests.emulators.environment import real_clients_env as emulator_settings
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.google_sheets import SheetsEmulator
from tests.emulators.x import XEmulator

SPREADSHEET = "1GuildflowEmulatedSpreadsheet"
# Cells that differ by design between backends: when a row was archived, and the publisher's receipt.
VOLATILE = ("Date Processed", "Publication Receipt")


@pytest.fixture
def services() -> Iterator[tuple[DiscordEmulator, SheetsEmulator, GeminiEmulator, XEmulator]]:
    discord, sheets, gemini, x = DiscordEmulator(), SheetsEmulator(), GeminiEmulator(), XEmulator()
    with discord.running(), sheets.running(), gemini.running(), x.running():
        yield discord, sheets, gemini, x


@pytest.fixture
def real_clients_env(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch, services) -> None:
    discord, sheets, gemini, x = services
    channels = [discord.load_export(path) for path in sorted(Path(SAMPLE_EXPORTS).parent.glob("*.json"))]
    key = sheets.service_account()
    sheets.create_spreadsheet(SPREADSHEET, shared_with={key["client_email"]: "writer"})
    for name, value in emulator_settings(discord, sheets, gemini, x, channels, SPREADSHEET, key).items():
        monkeypatch.setenv(name, value)


def archive_rows(settings_overrides: dict[str, str] | None = None) -> list[dict[str, str]]:
    rows = clients.sheet(load_settings(**(settings_overrides or {}))).read_rows(ARCHIVE_WORKSHEET)
    return [{column: cell for column, cell in row.items() if column not in VOLATILE} for row in rows]


def test_real_clients_give_the_offline_rows_and_publish_once(
    real_clients_env: None, services, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discord, sheets, gemini, x = services
    report = daily_pipeline()
    assert (report.new_posts, report.analysed, report.archived) == (27, 27, 27)
    assert report.receipt.startswith("x:https://x.com/guildflow_bot/status/")
    real_rows = archive_rows()
    thread = x.thread()
    assert len(thread) >= 2 and gemini.calls("POST") == 2  # 27 posts in batches of 20
    assert report.x_cost_usd == pytest.approx(0.20 * len(thread))  # each tweet links its projects' posts
    assert f"| estimated cost on X | ${0.20 * len(thread):.2f} |" in report.to_markdown()

    with monkeypatch.context() as offline:
        for name in ("DISCORD", "SHEET", "ANALYSER", "PUBLISHER"):
            offline.delenv(f"GUILDFLOW_{name}_BACKEND")
        offline.setenv("GUILDFLOW_DISCORD_EXPORT", SAMPLE_EXPORTS)
        offline.setenv("GUILDFLOW_LEDGER", str(guildflow_env / "offline-ledger.sqlite"))
        offline_report = daily_pipeline()
        offline_rows = archive_rows()
    [published] = (guildflow_env / "outbox").glob("*.json")
    assert real_rows == offline_rows
    assert offline_report.projects_found == report.projects_found
    assert thread == json.loads(published.read_text())["tweets"]

    again = daily_pipeline()
    assert (again.new_posts, again.receipt) == (0, "")
    assert len(x.tweets) == len(thread)
    assert discord.calls("GET", r"/messages") == 2 * 2  # one page per channel per run


def test_check_verifies_every_real_service_and_writes_nothing(real_clients_env: None, services) -> None:
    from typer.testing import CliRunner

    from guildflow.cli import app

    discord, sheets, gemini, x = services
    result = CliRunner().invoke(app, ["check"])
    for service in ("discord", "sheet", "analyser", "publisher"):
        assert f"ok   {service}" in result.output, result.output
    assert "reads #web3-alpha" in result.output or "web3-alpha" in result.output
    assert "@guildflow_bot" in result.output
    writes = [emulator.calls("POST") + emulator.calls("PUT") + emulator.calls("DELETE") for emulator in (discord, x)]
    assert writes == [0, 0] and gemini.calls("POST") == 0 and sheets.write_calls() == 0
    for secret in (discord.token, x.credentials.api_secret, x.credentials.access_token_secret, gemini.api_key):
        assert secret not in result.output


def test_no_secret_reaches_logs_or_the_report(
    real_clients_env: None, services, caplog: pytest.LogCaptureFixture
) -> None:
    from prefect.artifacts import Artifact

    from tasks.report import REPORT_ARTIFACT_KEY

    discord, sheets, gemini, x = services
    discord.fail_next(Fault(Response.json({"message": "401: Unauthorized", "code": 0}, status=401)))
    state = daily_pipeline(return_state=True)
    assert state.is_failed()
    report = Artifact.get(REPORT_ARTIFACT_KEY).data
    assert "GUILDFLOW_DISCORD_TOKEN" in report  # the collect failure says what to fix...
    secrets = [discord.token, x.credentials.api_secret, x.credentials.access_token_secret, gemini.api_key]
    for secret in secrets:  # ...and nothing anywhere shows a secret
        assert secret not in caplog.text and secret not in report


# Google Sheets requests per daily run (issue 16): one OAuth token per run shared by every phase, the
# spreadsheet's metadata and the Posts table read once, each write one batched request.
#
# The floor is 7 requests a day: metadata, key read, Posts append, analysis update, Archive append,
# row deletion, cursor write. A day costs 4 more, each on purpose: the header rows (our columns are found
# by name, wherever people moved them), the draft noted on its rows before publishing and the receipt
# after it (what the sheet shows if a later step fails), and the key column read again just before
# deleting rows (a stale row number would delete someone else's row).

TOKEN = "POST /token"
METADATA = f"GET /v4/spreadsheets/{SPREADSHEET}"
READ = f"GET /v4/spreadsheets/{SPREADSHEET}/values:batchGet"
UPDATE = f"POST /v4/spreadsheets/{SPREADSHEET}/values:batchUpdate"
DELETE = f"POST /v4/spreadsheets/{SPREADSHEET}:batchUpdate"
APPEND_POSTS = f"POST /v4/spreadsheets/{SPREADSHEET}/values/%27Posts%27%21A1:append"
APPEND_ARCHIVE = f"POST /v4/spreadsheets/{SPREADSHEET}/values/%27Archive%27%21A1:append"


def requests_made(sheets: SheetsEmulator) -> list[str]:
    made = [f"{request.method} {request.path}" for request in sheets.requests]
    sheets.requests.clear()
    return made


def sheet_in_use(discord: DiscordEmulator, sheets: SheetsEmulator) -> None:
    """The worksheets exist and each channel has a cursor before its first message, as after earlier days."""
    settings = load_settings()
    key = settings.sheets_service_account
    assert key is not None and settings.sheets_spreadsheet_id
    google = GoogleSheet(settings.sheets_spreadsheet_id, json.loads(key.get_secret_value()), sheets.url)
    google.append_posts([], {channel: 1 for channel in discord.channels})
    sheets.requests.clear()


def test_a_day_costs_one_token_and_the_floor_plus_four_deliberate_requests(real_clients_env: None, services) -> None:
    discord, sheets, _, _ = services
    sheet_in_use(discord, sheets)
    report = daily_pipeline()
    assert report.new_posts == 27 and report.archived == 27
    assert requests_made(sheets) == [
        TOKEN,
        METADATA,
        READ,  # header rows and the Cursors table
        READ,  # the Posts table and the Archive key column: every later phase works from this read
        APPEND_POSTS,
        UPDATE,  # cursors
        UPDATE,  # analysis
        UPDATE,  # the draft noted on its rows
        UPDATE,  # the publication receipt
        APPEND_ARCHIVE,
        READ,  # the key column again, just before deleting rows
        DELETE,
    ]


def test_a_re_run_that_finds_nothing_new_costs_three_sheets_requests(real_clients_env: None, services) -> None:
    _, sheets, _, _ = services
    daily_pipeline()
    requests_made(sheets)
    again = daily_pipeline()
    assert again.new_posts == 0
    assert requests_made(sheets) == [TOKEN, METADATA, READ, READ]
