"""A webhook receiver, as a user's service would be: it accepts JSON POSTs on /hooks/<name> only when signed with
its secret (HMAC-SHA256 over "<timestamp>.<body>", within 5 minutes), checked here with its own code, not ours.

    receiver = WebhookReceiver(secret="s3cret")
    with receiver.running():
        url = receiver.hook_url("alerts")      # 401 for a bad signature, 400 for a stale one, 404 for gone hooks
    receiver.received                          # the verified documents, with their delivery ids
Faults come from the base: fail_next(Fault(Response(503))) or too_many_requests(retry_after).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from tests.emulators.base import Emulator, Request, Response


@dataclass
class Received:
    delivery_id: str
    document: dict[str, Any]
    hook: str


def too_many_requests(retry_after: int) -> Response:
    return Response(429, b"slow down", {"Retry-After": str(retry_after)})


class WebhookReceiver(Emulator):
    def __init__(self, secret: str = "receiver-shared-secret") -> None:
        super().__init__()
        self.secret = secret
        self.received: list[Received] = []
        self.gone: set[str] = set()  # hooks that answer 404
        self.route("POST", r"/hooks/(?P<hook>[\w-]+)", self._receive)

    def hook_url(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    def _receive(self, request: Request) -> Response:
        hook = request.params["hook"]
        if hook in self.gone:
            return Response(404, b"no such hook")
        timestamp = request.headers.get("x-guildflow-timestamp", "")
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(f"sha256={expected}", request.headers.get("x-guildflow-signature", "")):
            return Response(401, b"bad signature")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return Response(400, b"stale timestamp")
        if request.headers.get("content-type") != "application/json":
            return Response(415, b"JSON only")
        self.received.append(Received(request.headers.get("x-guildflow-delivery", ""), json.loads(request.body), hook))
        return Response(204)
