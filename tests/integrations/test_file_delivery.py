"""The file destination (the embedded default) and the delivery ledger that records what each run delivered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.delivery import Attachment, Message
from integrations.delivery import DeliveryError
from integrations.delivery_ledger import DeliveryLedger
from integrations.file_delivery import FileDelivery

MESSAGE = Message("Daily report", "All **good**.", attachments=(Attachment("data.json", b'{"a": 1}'),))


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(tmp_path / "deliveries.sqlite")


def test_markdown_goes_in_one_file_with_its_attachments_beside_it(tmp_path: Path, ledger: DeliveryLedger) -> None:
    folder = tmp_path / "out"
    receipt = FileDelivery(folder, "markdown").deliver(MESSAGE, ledger.progress("run-1", "file-x", MESSAGE.digest))

    [name] = receipt.part_ids
    stem = name.removesuffix(".md")
    assert sorted(path.name for path in folder.iterdir()) == [f"{stem}.data.json", name]
    assert (folder / name).read_text().startswith("# Daily report\n\nAll **good**.\n")
    assert (folder / f"{stem}.data.json").read_bytes() == b'{"a": 1}'
    assert receipt.destination == f"file {folder}"


def test_json_is_one_document(tmp_path: Path, ledger: DeliveryLedger) -> None:
    receipt = FileDelivery(tmp_path, "json").deliver(MESSAGE, ledger.progress("run-1", "file-x", MESSAGE.digest))
    document = json.loads((tmp_path / receipt.part_ids[0]).read_text())
    assert document["body"] == "All **good**." and document["attachments"][0]["name"] == "data.json"
    assert [path.name for path in tmp_path.iterdir() if path.suffix != ".sqlite"] == receipt.part_ids


def test_a_retry_in_the_same_run_writes_nothing_again(tmp_path: Path, ledger: DeliveryLedger) -> None:
    folder = tmp_path / "out"
    delivery = FileDelivery(folder, "json")
    first = delivery.deliver(MESSAGE, ledger.progress("run-1", "file-x", MESSAGE.digest))
    again = delivery.deliver(MESSAGE, DeliveryLedger(ledger.path).progress("run-1", "file-x", MESSAGE.digest))
    assert again.part_ids == first.part_ids and len(list(folder.iterdir())) == 1


def test_the_folder_keeps_the_last_n_messages_and_other_files(tmp_path: Path, ledger: DeliveryLedger) -> None:
    (tmp_path / "README.txt").write_text("mine")
    delivery = FileDelivery(tmp_path, "markdown", keep=2)
    names = []
    for n in range(4):
        message = Message(f"report {n}", "x", attachments=(Attachment("a.txt", b"a"),))
        names += delivery.deliver(message, ledger.progress(f"run-{n}", "file-x", message.digest)).part_ids
    left = sorted(path.name for path in tmp_path.iterdir() if path.suffix != ".sqlite")
    kept = sorted(names)[-2:]  # the newest two (same second: ordered by title)
    assert left == sorted(["README.txt", *kept, *(name.removesuffix(".md") + ".a.txt" for name in kept)])
    assert not [name for name in left if name.endswith(".tmp")]


def test_an_unwritable_folder_is_one_clear_error(tmp_path: Path, ledger: DeliveryLedger) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    delivery = FileDelivery(blocker / "out", "markdown")
    with pytest.raises(DeliveryError, match="is not writable"):
        delivery.check()
    with pytest.raises(DeliveryError, match=f"cannot write to folder {blocker / 'out'}"):
        delivery.deliver(MESSAGE, ledger.progress("run-1", "file-x", MESSAGE.digest))
    assert ledger.progress("run-1", "file-x", MESSAGE.digest).delivered_parts() == []


def test_the_ledger_keeps_parts_per_run_destination_and_message(ledger: DeliveryLedger) -> None:
    progress = ledger.progress("run-1", "discord-abc", "digest1")
    progress.record_part(1, "m2")
    progress.record_part(0, "m1")
    assert DeliveryLedger(ledger.path).progress("run-1", "discord-abc", "digest1").delivered_parts() == ["m1", "m2"]
    for other in [("run-2", "discord-abc", "digest1"), ("run-1", "file-x", "digest1"), ("run-1", "discord-abc", "d2")]:
        assert ledger.progress(*other).delivered_parts() == []


def test_part_keys_are_stable_short_and_distinct(ledger: DeliveryLedger) -> None:
    progress = ledger.progress("run-1", "discord-abc", "digest1")
    assert progress.part_key(0) == DeliveryLedger(ledger.path).progress("run-1", "discord-abc", "digest1").part_key(0)
    keys = {progress.part_key(0), progress.part_key(1), ledger.progress("run-2", "discord-abc", "digest1").part_key(0)}
    assert len(keys) == 3 and all(len(key) <= 25 for key in keys)


def test_an_unusable_ledger_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(DeliveryError, match="GUILDFLOW_DELIVERY_LEDGER"):
        DeliveryLedger(blocker / "ledger.sqlite").progress("r", "d", "m").delivered_parts()
    with pytest.raises(DeliveryError, match="is not writable; set GUILDFLOW_DELIVERY_LEDGER"):
        DeliveryLedger(blocker / "ledger.sqlite").check()
