import json
import multiprocessing
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import integrations.ledger
from core.draft import Draft
from integrations.errors import PublishError
from integrations.ledger import CLAIM_LEASE, Claim, PublishLedger
from integrations.publishers import OutboxPublisher

NO_PROGRESS = PublishLedger(Path("/nonexistent/never-opened.sqlite")).progress_for(
    Draft(id="unused", tweets=(), post_links=())
)
DRAFT = Draft(id="abc123", tweets=("one (1/2)", "two (2/2)"), post_links=("https://x.com/a/status/1",))


def test_outbox_writes_one_file_per_draft_with_its_receipt(tmp_path: Path) -> None:
    outbox = OutboxPublisher(tmp_path / "outbox")
    receipt = outbox.publish(DRAFT, NO_PROGRESS)
    assert receipt == "outbox:abc123.json"
    record = json.loads((tmp_path / "outbox" / "abc123.json").read_text())
    assert record["receipt"] == receipt and record["tweets"] == ["one (1/2)", "two (2/2)"]


def test_publishing_the_same_draft_again_publishes_nothing(tmp_path: Path) -> None:
    outbox = OutboxPublisher(tmp_path)
    first = outbox.publish(DRAFT, NO_PROGRESS)
    written = (tmp_path / "abc123.json").read_text()
    assert outbox.publish(DRAFT, NO_PROGRESS) == first
    assert (tmp_path / "abc123.json").read_text() == written
    assert len(list(tmp_path.iterdir())) == 1


def test_unwritable_outbox_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(PublishError, match="GUILDFLOW_OUTBOX"):
        OutboxPublisher(blocker / "outbox").publish(DRAFT, NO_PROGRESS)


def test_ledger_remembers_drafts_and_their_links(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    ledger.record(DRAFT, "outbox:abc123.json")
    assert PublishLedger(tmp_path / "ledger.sqlite").claim(DRAFT, "run-b") == Claim(receipt="outbox:abc123.json")
    links = ["https://x.com/a/status/1", "https://x.com/b/status/2"]
    assert ledger.receipts_for_links(links) == {"https://x.com/a/status/1": "outbox:abc123.json"}


def test_ledger_keeps_each_published_part_in_order(tmp_path: Path) -> None:
    progress = PublishLedger(tmp_path / "ledger.sqlite").progress_for(DRAFT)
    assert progress.posted_parts() == []
    progress.record_part(1, "tweet-b")
    progress.record_part(0, "tweet-a")
    assert PublishLedger(tmp_path / "ledger.sqlite").progress_for(DRAFT).posted_parts() == ["tweet-a", "tweet-b"]


def test_a_claimed_draft_is_unfinished_until_recorded(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    assert ledger.unfinished_draft() is None
    assert ledger.claim(DRAFT, "run-a").taken
    assert ledger.claim(DRAFT, "run-a").taken  # a retry of the same run takes it again
    assert PublishLedger(tmp_path / "ledger.sqlite").unfinished_draft() == DRAFT
    ledger.record(DRAFT, "outbox:abc123.json")
    assert ledger.unfinished_draft() is None
    assert ledger.claim(DRAFT, "run-a") == ledger.claim(DRAFT, "run-b") == Claim(receipt="outbox:abc123.json")


def test_only_one_run_at_a_time_can_claim_a_draft(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    assert ledger.claim(DRAFT, "flow run a").taken

    second = ledger.claim(DRAFT, "flow run b")

    assert not second.taken and second.receipt is None and second.held_elsewhere
    assert second.refusal.startswith("publishing of draft abc123 is in progress in another run (flow run a, since ")
    assert "published nothing" in second.refusal and "the next run on its machine finishes it" in second.refusal


def test_a_released_claim_is_taken_by_the_next_run(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    ledger.claim(DRAFT, "run-a")
    ledger.release(DRAFT, "run-b")  # only the holder's own release counts
    assert not ledger.claim(DRAFT, "run-b").taken
    ledger.release(DRAFT, "run-a")
    assert ledger.claim(DRAFT, "run-b").taken


def test_a_claim_past_its_lease_is_taken_over(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite", lease=timedelta(0))
    ledger.claim(DRAFT, "run-a")  # its process is this one, still running: only the lease can end the claim
    assert ledger.claim(DRAFT, "run-b").taken


def test_progress_renews_the_lease(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    ledger.claim(DRAFT, "run-a")
    claimed_long_ago = (datetime.now(timezone.utc) - CLAIM_LEASE - timedelta(minutes=1)).isoformat()
    with sqlite3.connect(ledger.path) as db:
        db.execute("UPDATE claims SET claimed_at = ?", (claimed_long_ago,))

    ledger.progress_for(DRAFT).record_part(0, "tweet-a")

    assert ledger.claim(DRAFT, "run-b").held_elsewhere


def claim_and_exit(path: Path) -> None:
    """A run that claims the draft and dies before publishing any of it."""
    assert PublishLedger(path).claim(DRAFT, "flow run that crashed").taken


def test_a_claim_whose_process_is_gone_is_taken_over_at_once(tmp_path: Path) -> None:
    crashed = multiprocessing.get_context("spawn").Process(target=claim_and_exit, args=(tmp_path / "ledger.sqlite",))
    crashed.start()
    crashed.join()
    assert crashed.exitcode == 0

    assert PublishLedger(tmp_path / "ledger.sqlite").claim(DRAFT, "flow run b").taken


def test_a_waiting_run_gets_the_receipt_of_the_run_that_held_the_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    ledger.claim(DRAFT, "run-a")
    polls: list[float] = []

    def run_a_finishes_while_b_waits(seconds: float) -> None:
        polls.append(seconds)
        ledger.record(DRAFT, "x:https://x.com/guildflow_bot/status/1")

    monkeypatch.setattr(integrations.ledger, "sleep", run_a_finishes_while_b_waits)

    assert ledger.claim(DRAFT, "run-b", wait_seconds=60) == Claim(receipt="x:https://x.com/guildflow_bot/status/1")
    assert len(polls) == 1


def test_waiting_for_another_run_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    ledger.claim(DRAFT, "run-a")
    clock = [0.0]
    monkeypatch.setattr(integrations.ledger, "monotonic", lambda: clock[0])
    monkeypatch.setattr(integrations.ledger, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))

    waited = ledger.claim(DRAFT, "run-b", wait_seconds=5)

    assert waited.held_elsewhere and "in progress in another run (run-a" in waited.refusal
    assert 5 <= clock[0] <= 6


OVERLAPPING = Draft(
    id="def456", tweets=("one and more",), post_links=("https://x.com/a/status/1", "https://x.com/c/status/3")
)


def test_a_draft_with_posts_of_a_draft_another_run_publishes_waits_for_it(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    ledger.claim(DRAFT, "run-a")

    refused = ledger.claim(OVERLAPPING, "run-b")
    assert refused.held_elsewhere and not refused.taken
    assert "some posts of draft def456 are being published in draft abc123 by another run (run-a" in refused.refusal

    ledger.record(DRAFT, "outbox:abc123.json")
    refused = ledger.claim(OVERLAPPING, "run-b")
    assert not refused.held_elsewhere and not refused.taken
    assert "published meanwhile in draft abc123 (outbox:abc123.json)" in refused.refusal
    assert "the next run drafts the rest" in refused.refusal
    assert ledger.unfinished_draft() is None  # a refused claim begins nothing


def test_a_draft_with_posts_of_an_unfinished_draft_leaves_it_to_be_finished_first(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    ledger.claim(DRAFT, "run-a")
    ledger.release(DRAFT, "run-a")  # run a failed half-way

    refused = ledger.claim(OVERLAPPING, "run-b")

    assert not refused.taken and not refused.held_elsewhere
    assert "the next run finishes draft abc123 first" in refused.refusal
    assert ledger.unfinished_draft() == DRAFT and ledger.claim(DRAFT, "run-b").taken
