"""Where the daily draft is published. Embedded default: an outbox folder, one file per publication."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from core.draft import Draft
from integrations.errors import PublishError
from integrations.local_files import can_write, write_atomically


class PublishProgress(Protocol):
    """Where a publisher records each part (tweet) the moment it is out, so a retry resumes."""

    def posted_parts(self) -> list[str]:
        """External ids of the parts already published, in thread order."""
        ...

    def record_part(self, index: int, external_id: str) -> None: ...


class Publisher(Protocol):
    def describe(self) -> str: ...

    def check(self) -> str: ...

    def publish(self, draft: Draft, progress: PublishProgress) -> str:
        """Publish the draft and return its receipt. A draft this publisher already published, fully
        or in part (see progress), is finished or acknowledged, never published again."""
        ...


class OutboxPublisher:
    """Writes each draft to <outbox>/<draft id>.json; the file name is the receipt."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def describe(self) -> str:
        return f"outbox folder {self.folder}"

    def check(self) -> str:
        if not can_write(self.folder):
            raise PublishError(f"outbox {self.folder} is not writable; set GUILDFLOW_OUTBOX to a writable folder")
        published = len(list(self.folder.glob("*.json"))) if self.folder.exists() else 0
        return f"{published} publication(s) so far"

    def publish(self, draft: Draft, progress: PublishProgress) -> str:
        # One file is one atomic publication: progress has nothing to add.
        path = self.folder / f"{draft.id}.json"
        receipt = f"outbox:{path.name}"
        if path.exists():
            return receipt
        record = {
            "receipt": receipt,
            "draft_id": draft.id,
            "published_at": datetime.now(timezone.utc).isoformat(),
            "tweets": list(draft.tweets),
            "post_links": list(draft.post_links),
        }
        try:
            write_atomically(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        except OSError as error:
            raise PublishError(f"cannot write to outbox {self.folder} ({error}); set GUILDFLOW_OUTBOX") from None
        return receipt
