import json
from pathlib import Path

import pytest

from core.draft import Draft
from integrations.errors import PublishError
from integrations.ledger import PublishLedger
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
    assert ledger.receipt_for(DRAFT) is None
    ledger.record(DRAFT, "outbox:abc123.json")
    assert PublishLedger(tmp_path / "ledger.sqlite").receipt_for(DRAFT) == "outbox:abc123.json"
    links = ["https://x.com/a/status/1", "https://x.com/b/status/2"]
    assert ledger.receipts_for_links(links) == {"https://x.com/a/status/1": "outbox:abc123.json"}


def test_ledger_keeps_each_published_part_in_order(tmp_path: Path) -> None:
    progress = PublishLedger(tmp_path / "ledger.sqlite").progress_for(DRAFT)
    assert progress.posted_parts() == []
    progress.record_part(1, "tweet-b")
    progress.record_part(0, "tweet-a")
    assert PublishLedger(tmp_path / "ledger.sqlite").progress_for(DRAFT).posted_parts() == ["tweet-a", "tweet-b"]


def test_a_begun_draft_is_unfinished_until_recorded(tmp_path: Path) -> None:
    ledger = PublishLedger(tmp_path / "ledger.sqlite")
    assert ledger.unfinished_draft() is None
    ledger.begin(DRAFT)
    ledger.begin(DRAFT)  # a retry begins nothing new
    assert PublishLedger(tmp_path / "ledger.sqlite").unfinished_draft() == DRAFT
    assert ledger.receipt_for(DRAFT) is None
    ledger.record(DRAFT, "outbox:abc123.json")
    assert ledger.unfinished_draft() is None
    assert ledger.receipt_for(DRAFT) == "outbox:abc123.json"
