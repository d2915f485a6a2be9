"""A campaign: one Prefect server, a fault-free reference run of each kind, then the seeded trials; and its table."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from faults.plan import TrialKind, plan_trial, trial_kind
from faults.trials import Expected, TrialOutcome, reference_run, run_trial
from tests.e2e.prefect_server import free_port

STOP_WITHIN = 30.0  # seconds for the server to stop after SIGTERM
_OURS = ("PREFECT_", "GUILDFLOW_")  # settings the campaign's commands get from the campaign only


@dataclass(frozen=True)
class CampaignResult:
    seed: int
    outcomes: list[TrialOutcome]

    def violations(self) -> list[str]:
        return [
            f"seed {self.seed} trial {outcome.plan.number}: {violation}"
            for outcome in self.outcomes
            for violation in outcome.violations
        ]

    def table(self) -> str:
        rows = [
            ("daily", [outcome for outcome in self.outcomes if outcome.plan.kind == "daily"]),
            ("export", [outcome for outcome in self.outcomes if outcome.plan.kind == "export"]),
            ("all", self.outcomes),
        ]
        lines = [
            "| trials | kind | runs | kills mid-flow | faults injected | violations |",
            "| ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        for kind, outcomes in rows:
            runs = sum(len(outcome.runs) for outcome in outcomes)
            kills = sum(outcome.kills_mid_flow for outcome in outcomes)
            faults = sum(outcome.faults_injected for outcome in outcomes)
            violations = sum(len(outcome.violations) for outcome in outcomes)
            lines.append(f"| {len(outcomes)} | {kind} | {runs} | {kills} | {faults} | {violations} |")
        return "\n".join(lines)


def run_campaign(trials: Iterable[int], seed: int, say: Callable[[str], None]) -> CampaignResult:
    """The numbered trials of the campaign with this seed; say() gets a line per trial."""
    numbers = list(trials)
    with prefect_server(say) as prefect_env:
        references: dict[TrialKind, Expected] = {}
        for kind in dict.fromkeys(trial_kind(number) for number in numbers):
            say(f"a fault-free {kind} run, for reference ...")
            references[kind] = reference_run(kind, prefect_env)
        outcomes = []
        for number in numbers:
            kind = trial_kind(number)
            plan = plan_trial(seed, number, references[kind].calls_per_run)
            outcome = run_trial(plan, references[kind], prefect_env)
            outcomes.append(outcome)
            say(
                f"{plan.describe()} -> {len(outcome.runs)} runs, {outcome.kills_mid_flow} killed mid-flow, "
                f"{outcome.faults_injected} faults injected, {len(outcome.violations)} violations"
            )
            for violation in outcome.violations:
                say(f"  VIOLATION: {violation}")
    return CampaignResult(seed, outcomes)


@contextmanager
def prefect_server(say: Callable[[str], None]) -> Iterator[dict[str, str]]:
    """The environment of every command in the campaign: guildflow's background Prefect server, started in a
    throwaway PREFECT_HOME on a free port, and stopped at the end."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_SERVER_API_PORT, temporary_settings

    from guildflow.prefect_api import PID_FILE, ensure_local_server

    with tempfile.TemporaryDirectory(prefix="guildflow-faults-prefect-", ignore_cleanup_errors=True) as folder:
        home = Path(folder)
        updates = {PREFECT_HOME: home, PREFECT_SERVER_API_PORT: free_port()}
        with temporary_settings(updates=updates, restore_defaults={PREFECT_API_URL}):
            server = ensure_local_server(say)
        assert server.started, "a free port had a Prefect server on it"
        pid = int((home / PID_FILE).read_text())
        try:
            inherited = {name: value for name, value in os.environ.items() if not name.startswith(_OURS)}
            yield inherited | {
                "PREFECT_HOME": str(home),
                "PREFECT_API_URL": server.url,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
            }
        finally:
            _stop(pid)


def _stop(pid: int) -> None:
    """Stop the server this process started (its child): SIGTERM, then SIGKILL if it lingers."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WITHIN
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
