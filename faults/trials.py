"""One trial: fresh emulators, the seeded faults planned on them, `guildflow` run as a user runs it, SIGKILLed at
the plan's points after its flow began, then run again until the work is done; the invariants checked after
every run and at the end.

Two kinds of trial. daily: `guildflow run daily` with every backend on its real client (discord.py, gspread,
google-genai, tweepy) against the emulators, on the sample Discord exports. export: `guildflow export now` of
the sample playerData, split into parts posted as several messages, through a temporary webhook.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from faults.cli_run import CliRun, run_guildflow
from faults.invariants import (
    ExpectedPost,
    SheetState,
    export_violations,
    ledger_drafts,
    publish_violations,
    sheet_violations,
    unique,
)
from faults.plan import TrialPlan
from tests.conftest import REPO, SAMPLE_EXPORTS
from tests.emulators.base import Emulator
from tests.emulators.discord import DiscordEmulator
from tests.emulators.environment import real_clients_env
from tests.emulators.gemini import GeminiEmulator
from tests.emulators.google_sheets import SheetsEmulator
from tests.emulators.x import XEmulator

SPREADSHEET = "1GuildflowFaultCampaign"
PLAYERDATA = REPO / "examples" / "playerData.json"
EXPORT_GUILD, EXPORT_CHANNEL = 1_300_000_000_000_000_002, "1300000000000000333"
# The sample is 64 KiB of JSON; under a 5 KiB cap it is gzipped and split into parts, one message each.
EXPORT_CAP_MB = 5 / 1024
RUN_TIMEOUT = 300.0  # seconds; a run still going then has hung
EXTRA_RUNS = 5  # runs after the killed ones to finish the work; each fault fires once, so few are needed


class Services(Protocol):
    """The emulated services of one trial, the command it runs, and what must hold."""

    command: list[str]
    emulators: dict[str, Emulator]  # by service name, as fault plans name them
    env: dict[str, str]  # GUILDFLOW_* for the command

    def violations(self, finished: bool) -> list[str]: ...

    def finished(self) -> bool:
        """Whether the work is done (a completed run may leave some for the next: a post not analysed)."""
        ...


@dataclass
class Expected:
    """What a fault-free run does, for the trials to be compared with."""

    posts: list[ExpectedPost] = field(default_factory=list)
    flow_seconds: float = 0.0  # a fault-free flow run, from its start to its final state
    calls_per_run: dict[str, int] = field(default_factory=dict)  # requests per service


@dataclass(frozen=True)
class TrialOutcome:
    plan: TrialPlan
    runs: list[CliRun]
    faults_injected: int
    violations: list[str]

    @property
    def kills_mid_flow(self) -> int:
        return sum(run.killed_mid_flow for run in self.runs)


@dataclass
class DailyServices:
    discord: DiscordEmulator
    sheets: SheetsEmulator
    gemini: GeminiEmulator
    x: XEmulator
    folder: Path
    expected: list[ExpectedPost]
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=lambda: ["run", "daily"])

    @property
    def emulators(self) -> dict[str, Emulator]:
        return {"discord": self.discord, "sheets": self.sheets, "gemini": self.gemini, "x": self.x}

    @property
    def ledger(self) -> Path:
        return self.folder / "ledger.sqlite"

    def sheet(self) -> SheetState:
        return SheetState.read(self.sheets, SPREADSHEET)

    def violations(self, finished: bool) -> list[str]:
        state = self.sheet()
        return sheet_violations(state, self.expected, finished=finished) + publish_violations(
            self.x.tweets, ledger_drafts(self.ledger), state, finished=finished
        )

    def finished(self) -> bool:
        """Every post archived but the projects the daily post's tweet budget left for a later day."""
        state = self.sheet()
        last_messages = {channel: max(messages) for channel, messages in self.discord.messages.items() if messages}
        unpublished = [draft for draft in ledger_drafts(self.ledger) if draft.receipt is None]
        waiting = [row for row in state.posts if _waits_for_a_later_post(row)]
        return len(waiting) == len(state.posts) and not unpublished and state.cursors == last_messages

    def expected_posts(self) -> list[ExpectedPost]:
        """What this (fault-free) trial collected: every row of Posts and Archive."""
        state = self.sheet()
        return [
            ExpectedPost(row["Post Link"], int(row["Channel ID"]), int(row["Message ID"]))
            for row in [*state.posts, *state.archive]
        ]


def _waits_for_a_later_post(row: dict[str, str]) -> bool:
    """An analysed project left out of the daily post by its tweet budget (GUILDFLOW_DAILY_POST_MAX_TWEETS)."""
    return row["AI Processed"] == "TRUE" and bool(row["AI Project"]) and not row["Publication Receipt"]


@contextmanager
def daily_services(folder: Path, expected: list[ExpectedPost]) -> Iterator[DailyServices]:
    discord, sheets, gemini, x = DiscordEmulator(), SheetsEmulator(), GeminiEmulator(), XEmulator()
    with discord.running(), sheets.running(), gemini.running(), x.running():
        channels = [discord.load_export(path) for path in sorted(Path(SAMPLE_EXPORTS).parent.glob("*.json"))]
        key = sheets.service_account()
        sheets.create_spreadsheet(SPREADSHEET, shared_with={key["client_email"]: "writer"})
        services = DailyServices(discord, sheets, gemini, x, folder, expected)
        services.env = real_clients_env(discord, sheets, gemini, x, channels, SPREADSHEET, key) | {
            "GUILDFLOW_LEDGER": str(services.ledger),
            "GUILDFLOW_WORKBOOK": str(folder / "workbook.sqlite"),
            "GUILDFLOW_OUTBOX": str(folder / "outbox"),
            # Prefect's rate limits are not what is under test; the campaign makes more calls a minute than Gemini's
            # free tier allows.
            "GUILDFLOW_GEMINI_REQUESTS_PER_MINUTE": "100000",
            "GUILDFLOW_GEMINI_REQUESTS_PER_DAY": "1000000",
        }
        yield services


@dataclass
class ExportServices:
    discord: DiscordEmulator
    source: dict[str, object]
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=lambda: ["export", "now", "--type", "all", "--channel", EXPORT_CHANNEL])

    @property
    def emulators(self) -> dict[str, Emulator]:
        return {"discord": self.discord}

    def violations(self, finished: bool) -> list[str]:
        return export_violations(self.discord.posts, self.source, finished=finished)

    def finished(self) -> bool:
        return True  # a completed run posted its export


@contextmanager
def export_services(folder: Path) -> Iterator[ExportServices]:
    discord = DiscordEmulator()
    discord.add_channel(int(EXPORT_CHANNEL), "admin-backups", guild_id=EXPORT_GUILD)
    source = folder / "playerData.json"
    shutil.copyfile(PLAYERDATA, source)
    with discord.running():
        services = ExportServices(discord, json.loads(source.read_bytes()))
        services.env = {
            "GUILDFLOW_PLAYERDATA": str(source),
            "GUILDFLOW_DISCORD_TOKEN": discord.token,
            "GUILDFLOW_DISCORD_API_BASE": discord.api_base,
            "GUILDFLOW_PLAYERDATA_ALL_CHANNELS": EXPORT_CHANNEL,
            "GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB": str(EXPORT_CAP_MB),
        }
        yield services


class ReferenceRunFailed(Exception):
    """The fault-free run did not do the work: nothing to compare the trials with."""


def reference_run(kind: str, prefect_env: dict[str, str]) -> Expected:
    """A fault-free, unkilled run on fresh services: the posts it collects, its flow's duration and its calls per
    service. Done twice, keeping the second: the first flows on a new server take longer (its first writes, cold
    caches), which would put kill points past the end of most runs."""
    _reference_once(kind, prefect_env)
    return _reference_once(kind, prefect_env)


def _reference_once(kind: str, prefect_env: dict[str, str]) -> Expected:
    expected = Expected()
    with _trial_services(kind, expected) as (services, folder):
        run = run_guildflow(services.command, _env(prefect_env, services, folder), folder, None, RUN_TIMEOUT)
        if not (run.completed and services.finished() and run.flow_seconds):
            raise ReferenceRunFailed(f"the fault-free {kind} run did not finish its work; its output:\n{run.output}")
        if isinstance(services, DailyServices):
            expected.posts = services.expected = services.expected_posts()
        if violations := services.violations(finished=True):
            raise ReferenceRunFailed(f"the fault-free {kind} run breaks the invariants: " + "; ".join(violations))
        expected.flow_seconds = run.flow_seconds
        expected.calls_per_run = {name: len(emulator.requests) for name, emulator in services.emulators.items()}
    return expected


def run_trial(plan: TrialPlan, expected: Expected, prefect_env: dict[str, str]) -> TrialOutcome:
    """The plan's faults and kills, then runs until the work is done; the invariants after every run."""
    with _trial_services(plan.kind, expected) as (services, folder):
        for fault in plan.faults:
            emulator = services.emulators[fault.service]
            emulator.plan_faults({fault.call: fault.fault(emulator)})
        env = _env(prefect_env, services, folder)
        runs: list[CliRun] = []
        violations: list[str] = []
        for attempt in range(len(plan.kill_points) + EXTRA_RUNS):
            killed = attempt < len(plan.kill_points)
            kill_after = plan.kill_points[attempt] * expected.flow_seconds if killed else None
            run = run_guildflow(services.command, env, folder, kill_after, RUN_TIMEOUT)
            runs.append(run)
            if run.hung:
                violations.append(f"run {len(runs)} was still running after {RUN_TIMEOUT:.0f} s")
            violations += services.violations(finished=False)
            if not killed and run.completed and services.finished():
                violations += services.violations(finished=True)
                break
        else:
            violations.append(
                f"the work was not done after {len(runs)} runs; the last one ended: {runs[-1].last_line()!r}"
            )
        injected = sum(len(emulator.faults_hit) for emulator in services.emulators.values())
        return TrialOutcome(plan, runs, injected, unique(violations))


@contextmanager
def _trial_services(kind: str, expected: Expected) -> Iterator[tuple[Services, Path]]:
    with tempfile.TemporaryDirectory(prefix=f"guildflow-faults-{kind}-") as name:
        folder = Path(name)
        with daily_services(folder, expected.posts) if kind == "daily" else export_services(folder) as services:
            yield services, folder


def _env(prefect_env: dict[str, str], services: Services, folder: Path) -> dict[str, str]:
    # Prefect's result storage (the analysis cache) per trial: a cached analysis would spare Gemini's calls.
    return prefect_env | services.env | {"PREFECT_LOCAL_STORAGE_PATH": str(folder / "prefect-results")}
