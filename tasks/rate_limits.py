"""Slots of Prefect's global rate limits (concurrency limits whose slots decay), taken so that a busy
Prefect server on SQLite costs milliseconds rather than seconds.

Prefect's own rate_limit() makes the same request, but its client waits about 2 s after a 503 (even
with PREFECT_CLIENT_MAX_RETRIES=0; still in 3.9.1), and a Prefect server on SQLite answers 503 at once
when another write commits during the request, as it does right after a task run starts (the server
records its state). Here a 503 is asked again after 50 ms, then longer; the request's transaction was
rolled back, so asking again takes one slot, not two.
"""

from __future__ import annotations

import time

import httpx
from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient

BUSY_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # seconds after each 503; then it is an error


class RateLimitMissing(RuntimeError):
    pass


def take_slot(limit_name: str, *, wait: bool) -> bool:
    """One slot of the named rate limit. wait=True waits until one is free, as long as the server's
    Retry-After says; wait=False answers False at once when none is free (423)."""
    busy_delays = iter(BUSY_RETRY_DELAYS)
    with get_client(sync_client=True) as client:
        while True:
            response = _increment_once(client, limit_name)
            if response.status_code == httpx.codes.LOCKED:
                if not wait:
                    return False
                time.sleep(float(response.headers.get("Retry-After", 1.0)))
            elif response.status_code == httpx.codes.SERVICE_UNAVAILABLE and (delay := next(busy_delays, None)):
                time.sleep(delay)
            else:
                response.raise_for_status()
                if not response.json():
                    raise RateLimitMissing(f"the Prefect rate limit {limit_name} does not exist")
                return True


def _increment_once(client: SyncPrefectClient, limit_name: str) -> httpx.Response:
    """POST /v2/concurrency_limits/increment on the client's HTTP session (its URL, auth and TLS
    settings), sent once: httpx's own send, not the Prefect session's retrying one."""
    session = client._client
    body = {"names": [limit_name], "slots": 1, "mode": "rate_limit"}
    return httpx.Client.send(session, session.build_request("POST", "/v2/concurrency_limits/increment", json=body))
