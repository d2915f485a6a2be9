"""Two runs publishing the same draft at the same moment, each in its own process, on the X emulator."""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing.connection import wait
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.draft import Draft, x_cost
from core.report import PublishResult
from guildflow.settings import Settings
from integrations.ledger import Claim, PublishLedger
from tasks.publish import publish_draft
from tests.emulators.base import Fault
from tests.emulators.x import XEmulator

DRAFT = Draft(
    id="thread1",
    tweets=(
        "New Web3 projects, 21 Nov 2026:\n• Alpha: fast L2 https://x.com/a/status/1 (1/3)",
        "• Beta: a wallet https://x.com/b/status/2 (2/3)",
        "• Gamma: an oracle https://x.com/c/status/3 (3/3)",
    ),
    post_links=("https://x.com/a/status/1", "https://x.com/b/status/2", "https://x.com/c/status/3"),
)
POSTS = r"^/2/tweets$"
SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def x() -> XEmulator:
    with XEmulator().running() as emulator:
        yield emulator


def settings(x: XEmulator, folder: Path, wait_seconds: float) -> Settings:
    keys = x.credentials
    return Settings(
        publisher_backend="x",
        x_api_key=SecretStr(keys.api_key),
        x_api_secret=SecretStr(keys.api_secret),
        x_access_token=SecretStr(keys.access_token),
        x_access_token_secret=SecretStr(keys.access_token_secret),
        x_api_base=x.url,
        ledger=folder / "ledger.sqlite",
        workbook=folder / "workbook.sqlite",
        publish_wait_seconds=wait_seconds,
    )


def publish_in_a_process(settings: Settings, start: Barrier, results: Queue) -> None:
    """One run's publish step, in a process of its own; it starts once every run is ready."""
    start.wait()
    try:
        results.put((os.getpid(), publish_draft.fn(settings, DRAFT)))
    except Exception as error:
        results.put((os.getpid(), f"{type(error).__name__}: {error}"))


def publish_twice_at_once(settings: Settings, first_post_held_until_a_run_ends: Fault | None = None) -> dict:
    """The outcome of each of two runs, by process id. With the fault, X answers the first post only once
    one of the runs has ended: two runs that both publish would both be mid-thread at that moment."""
    start, results = SPAWN.Barrier(2), SPAWN.Queue()
    runs = [SPAWN.Process(target=publish_in_a_process, args=(settings, start, results)) for _ in range(2)]
    for run in runs:
        run.start()
    try:
        if first_post_held_until_a_run_ends is not None:
            wait([run.sentinel for run in runs])
            first_post_held_until_a_run_ends.hold_until.set()
        outcomes = dict(results.get(timeout=300) for _ in runs)
    finally:
        if first_post_held_until_a_run_ends is not None:
            first_post_held_until_a_run_ends.hold_until.set()
        for run in runs:
            run.join(timeout=60)
            if run.is_alive():
                run.kill()
    assert all(isinstance(outcome, PublishResult) for outcome in outcomes.values()), outcomes
    return outcomes


def receipt_of_the_thread(x: XEmulator) -> str:
    return f"x:https://x.com/guildflow_bot/status/{x.tweets[0].id}"


def test_two_runs_at_once_post_each_tweet_once_and_report_the_same_receipt(guildflow_env: Path, x: XEmulator) -> None:
    outcomes = publish_twice_at_once(settings(x, guildflow_env, wait_seconds=120))

    assert x.thread() == list(DRAFT.tweets) and len(x.tweets) == 3
    assert x.calls("POST", POSTS) == 3
    published = [outcome for outcome in outcomes.values() if outcome.receipt and not outcome.already_published]
    assert [outcome.receipt for outcome in published] == [receipt_of_the_thread(x)]
    # The other run waited for that receipt, or (on a machine slower than the wait) says the draft is in
    # progress in the run that published it.
    [other] = [outcome for outcome in outcomes.values() if outcome not in published]
    assert (other.receipt, other.already_published) == (receipt_of_the_thread(x), True) or (
        other.receipt == "" and "in progress in another run (process " in other.not_published
    )


def test_a_run_that_finds_the_draft_being_published_leaves_it_to_that_run(guildflow_env: Path, x: XEmulator) -> None:
    held = Fault(hold_until=threading.Event(), method="POST", path_pattern=POSTS)
    x.fail_next(held)

    outcomes = publish_twice_at_once(settings(x, guildflow_env, wait_seconds=0), first_post_held_until_a_run_ends=held)

    assert x.thread() == list(DRAFT.tweets) and len(x.tweets) == 3
    assert x.calls("POST", POSTS) == 3  # the run that left it never tried to post
    [(publisher, published)] = [(pid, outcome) for pid, outcome in outcomes.items() if outcome.receipt]
    [(_, left)] = [(pid, outcome) for pid, outcome in outcomes.items() if pid != publisher]
    assert published == PublishResult(receipt_of_the_thread(x), tweets=3, x_cost_usd=x_cost(DRAFT.tweets))
    assert left.receipt == "" and left.summary() == left.not_published
    assert left.not_published.startswith(
        f"publishing of draft thread1 is in progress in another run (process {publisher} on "
    )
    assert PublishLedger(guildflow_env / "ledger.sqlite").claim(DRAFT, "a later run") == Claim(
        receipt=receipt_of_the_thread(x)
    )
