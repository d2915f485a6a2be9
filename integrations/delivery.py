"""The one interface every destination implements: deliver a message, get a receipt. The destinations: a Discord
channel, a signed webhook, email over SMTP, a folder (the embedded default). tasks/clients.py builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from core.delivery import Message
from integrations.errors import IntegrationError


class DeliveryError(IntegrationError):
    """A message could not be delivered; the message says why and what to fix."""


class DestinationUnusable(DeliveryError):
    """The destination is gone or refuses us for good (a deleted channel or webhook: 404; a missing permission:
    403): retrying cannot help, so a schedule delivering there is paused at once. `reason` is a short label for
    status listings."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[type[DestinationUnusable], tuple[str, str]]:
        return type(self), (str(self), self.reason)  # rebuilt from a result store: both arguments


class DeliveryProgress(Protocol):
    """Where a destination records each part (one Discord message, one file) the moment it is delivered, so a
    retry delivers only the parts that are missing."""

    def delivered_parts(self) -> list[str]:
        """Ids of the parts already delivered, in order."""
        ...

    def record_part(self, index: int, part_id: str) -> None: ...

    def part_key(self, index: int) -> str:
        """A short id of the part, the same in every retry and re-run: a destination hands it to a service that
        drops duplicates (Discord's message nonce, a webhook's delivery id, an email's Message-ID), which covers
        the moment between delivering a part and recording it."""
        ...


@dataclass
class Receipt:
    destination: str  # Destination.describe()
    part_ids: list[str]  # message ids, file names, the email's Message-ID, the webhook's delivery id
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.destination}: {len(self.part_ids)} part(s)"


class Delivery(Protocol):
    def describe(self) -> str: ...

    def check(self) -> str:
        """Verify the destination can be reached and written without delivering anything."""
        ...

    def deliver(self, message: Message, progress: DeliveryProgress) -> Receipt:
        """Deliver every part not yet in progress; DestinationUnusable when it never can."""
        ...
