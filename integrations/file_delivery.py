"""The file destination, the embedded default (no account): each message a Markdown or JSON file in a folder,
written atomically; the folder keeps the newest `keep` messages."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from core.delivery import (
    Destination,
    Message,
    attachment_file_name,
    message_document,
    message_file_stem,
    message_files_to_delete,
    message_markdown,
)
from integrations.delivery import DeliveryError, DeliveryProgress, Receipt
from integrations.local_files import can_write, write_atomically


class FileDelivery:
    """format markdown: <stem>.md and each attachment beside it as <stem>.<name>; json: <stem>.json holding the
    attachments (base64). Files that are not a message's (other names) are never deleted."""

    def __init__(self, folder: Path, format: str = "markdown", keep: int = 50) -> None:
        self.folder = Path(folder)
        self.format = format
        self.keep = keep

    def describe(self) -> str:
        return Destination("file", str(self.folder), self.format).describe()

    def check(self) -> str:
        if self.folder.is_file() or not can_write(self.folder):
            raise DeliveryError(f"folder {self.folder} is not writable: fix its permissions or choose another folder")
        return f"writable, keeps the last {self.keep} messages"

    def deliver(self, message: Message, progress: DeliveryProgress) -> Receipt:
        delivered = progress.delivered_parts()
        if delivered:  # one part: written already by an earlier attempt of this run
            return Receipt(self.describe(), delivered)
        now = datetime.now(timezone.utc)
        stem = message_file_stem(message, now)
        try:
            if self.format == "json":
                main = f"{stem}.json"
                document = json.dumps(message_document(message, now), ensure_ascii=False, indent=2)
                write_atomically(self.folder / main, document + "\n")
            else:
                main = f"{stem}.md"
                for attachment in message.attachments:  # before the .md, so a listed attachment exists
                    write_atomically(self.folder / attachment_file_name(stem, attachment), attachment.content)
                write_atomically(self.folder / main, message_markdown(message))
        except OSError as error:
            raise DeliveryError(
                f"cannot write to folder {self.folder} ({error.strerror or error}): fix its permissions or choose "
                "another folder"
            ) from None
        progress.record_part(0, main)
        self._prune()
        return Receipt(self.describe(), [main])

    def _prune(self) -> None:
        for name in message_files_to_delete((path.name for path in self.folder.iterdir()), self.keep):
            (self.folder / name).unlink(missing_ok=True)
