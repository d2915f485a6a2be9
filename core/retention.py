"""Retention: what the cleanup flow may delete, decided without I/O. It deletes only what guildflow made and can
make again or no longer needs (old summary files, surplus playerData copies, old flow runs and their artifacts,
expired cache records); never a cursor or a ledger entry, which keep runs from repeating or skipping work."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import UserFacingError

MAX_RETENTION_DAYS = 3650


class RetentionError(UserFacingError, ValueError):
    pass


def validated_retention_days(days: int) -> int:
    if isinstance(days, bool) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise RetentionError(f"retention of {days!r} days is not a whole number from 1 to {MAX_RETENTION_DAYS}")
    return days


def expired_cache_record(raw: bytes, now: datetime) -> bool:
    """Whether a Prefect result record (its JSON: {"metadata": {"expiration": ...}, "result": ...}) has expired. A
    file that is not such a record, or one without an expiration, is not (it is left alone)."""
    try:
        record = json.loads(raw)
        expiration = record["metadata"]["expiration"]
    except (ValueError, KeyError, TypeError):
        return False
    if not isinstance(expiration, str):
        return False
    try:
        moment = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.tzinfo is not None and moment < now


@dataclass
class CleanupReport:
    """What a cleanup deleted (or, dry, would delete), by kind."""

    dry_run: bool
    retention_days: int
    deleted: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, items: list[str]) -> None:
        self.deleted.setdefault(kind, []).extend(items)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        counts = ", ".join(f"{len(items)} {kind}" for kind, items in self.deleted.items())
        return f"cleanup (older than {self.retention_days} days) {verb}: {counts or 'nothing'}"

    def to_markdown(self) -> str:
        lines = [f"# Cleanup{' (dry run)' if self.dry_run else ''}", "", self.summary(), ""]
        for kind, items in self.deleted.items():
            lines += [f"## {kind} ({len(items)})", "", *(f"- {item}" for item in items[:500]), ""]
            if len(items) > 500:
                lines.append(f"- ... and {len(items) - 500} more")
        return "\n".join(lines)
