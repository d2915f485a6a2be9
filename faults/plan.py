"""Seeded trial plans: which service calls fail and how, and when each killed run is killed.

A plan depends only on the campaign's seed and the trial's number (and the calls a fault-free run makes), so
`--seed S --trial N` replays trial N's faults and kill points; where a kill lands in the code still varies a
little with the machine's speed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from tests.emulators.base import Emulator, Fault

TrialKind = Literal["daily", "export"]
FaultKind = Literal["429", "5xx", "timeout", "malformed"]
FAULT_KINDS: tuple[FaultKind, ...] = ("429", "5xx", "timeout", "malformed")
SERVER_ERRORS = (500, 502, 503, 504)
EXPORT_EVERY = 5  # trials 3, 8, 13, ... export playerData; the others run the daily pipeline
MAX_FAULTS, MAX_KILLS = 4, 2
# A "timeout": the answer is held this long, then the connection closes unanswered. What a client sees when its
# own timeout runs out (30 s to 5 min in our clients), without waiting that long; the clients handle both the same.
HOLD_SECONDS = 0.5
KILL_SPAN = 1.2  # kill points are drawn in [0, KILL_SPAN x a fault-free flow's duration] after the flow began


@dataclass(frozen=True)
class PlannedFault:
    service: str  # discord, sheets, gemini or x
    call: int  # the service's request number in the trial (1-based; the trial's runs count on)
    kind: FaultKind
    status: int = 0  # of a 5xx
    done_first: bool = False  # a timeout or malformed answer comes after the service did the work

    def describe(self) -> str:
        what = {"5xx": str(self.status), "timeout": "timeout", "malformed": "malformed body"}.get(self.kind, "429")
        return f"{self.service} call {self.call}: {what}{' after the work was done' if self.done_first else ''}"

    def fault(self, emulator: Emulator) -> Fault:
        if self.kind == "429":
            return Fault(emulator.throttled())
        if self.kind == "5xx":
            return Fault(emulator.server_error(self.status))
        if self.kind == "timeout":
            return Fault(hold_seconds=HOLD_SECONDS, drop=True, done_first=self.done_first)
        return Fault(malformed=True, done_first=self.done_first)


@dataclass(frozen=True)
class TrialPlan:
    number: int  # 1-based
    kind: TrialKind
    faults: tuple[PlannedFault, ...]
    kill_points: tuple[float, ...]  # per killed run: when, as a fraction of a fault-free flow's duration

    def describe(self) -> str:
        kills = ", ".join(f"{point:.2f}" for point in self.kill_points)
        return f"trial {self.number} ({self.kind}): kills at {kills} x flow time; " + "; ".join(
            fault.describe() for fault in self.faults
        )


def trial_kind(number: int) -> TrialKind:
    return "export" if number % EXPORT_EVERY == 3 else "daily"


def plan_trial(seed: int, number: int, calls_per_run: Mapping[str, int]) -> TrialPlan:
    """Trial `number` of the campaign with this seed: 1 to MAX_FAULTS faults at calls numbered up to 1.5 times
    what a fault-free run makes (a killed run makes fewer, so some land in the re-run), and 1 to MAX_KILLS killed
    runs. A fault at a call the trial's runs never make is not injected (and not counted)."""
    rng = random.Random(f"guildflow-faults:{seed}:{number}")
    services = sorted(calls_per_run)
    faults = []
    for _ in range(rng.randint(1, MAX_FAULTS)):
        service = rng.choice(services)
        kind = rng.choice(FAULT_KINDS)
        faults.append(
            PlannedFault(
                service,
                rng.randint(1, calls_per_run[service] * 3 // 2),
                kind,
                status=rng.choice(SERVER_ERRORS) if kind == "5xx" else 0,
                done_first=kind in ("timeout", "malformed") and rng.random() < 0.5,
            )
        )
    unique = {(fault.service, fault.call): fault for fault in faults}  # one fault per call
    kills = tuple(round(rng.uniform(0, KILL_SPAN), 3) for _ in range(rng.randint(1, MAX_KILLS)))
    return TrialPlan(number, trial_kind(number), tuple(sorted(unique.values(), key=_order)), kills)


def _order(fault: PlannedFault) -> tuple[str, int]:
    return fault.service, fault.call
