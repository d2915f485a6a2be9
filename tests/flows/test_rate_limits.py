"""Slots of Prefect rate limits (tasks.rate_limits) on the session's Prefect server: a busy server's 503
is asked again at once and takes one slot, a full limit answers at once when asked not to wait."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prefect import get_client

from tasks import rate_limits
from tasks.rate_limits import BUSY_RETRY_DELAYS, RateLimitMissing, take_slot
from tests.prefect_state import delete_concurrency_limits

LIMIT = "test-rate-limit"
INCREMENT = "/concurrency_limits/increment"


@pytest.fixture
def limit() -> Iterator[str]:
    """A rate limit of 2 slots that free one a day (so none frees during a test)."""
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(LIMIT, 2, 2 / 86400)
        yield LIMIT
        client.delete_global_concurrency_limit_by_name(LIMIT)


def active_slots(name: str) -> int:
    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name).active_slots


@dataclass
class BusyServer:
    times: int = 0  # how many of the next slot requests are answered 503
    answered: int = 0  # how many were


@pytest.fixture
def busy_server(monkeypatch: pytest.MonkeyPatch) -> BusyServer:
    """The Prefect server answers slot requests 503, as it does on SQLite when another write commits
    during the request (which is then not applied)."""
    real_send, busy = httpx.Client.send, BusyServer()

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if request.url.path.endswith(INCREMENT) and busy.times > 0:
            busy.times, busy.answered = busy.times - 1, busy.answered + 1
            return httpx.Response(503, json={"exception_message": "Service Unavailable"}, request=request)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send)
    return busy


def test_a_slot_is_taken_until_the_limit_is_full(limit: str) -> None:
    assert take_slot(limit, wait=False) and take_slot(limit, wait=False)
    assert active_slots(limit) == 2
    assert take_slot(limit, wait=False) is False  # full: answered at once, not waited for
    assert active_slots(limit) == 2


def test_a_busy_server_is_asked_again_and_one_slot_is_taken(limit: str, busy_server: BusyServer) -> None:
    busy_server.times = 3
    assert take_slot(limit, wait=False)
    assert busy_server.answered == 3 and active_slots(limit) == 1


def test_a_server_busy_past_every_retry_is_an_error(limit: str, busy_server: BusyServer) -> None:
    busy_server.times = len(BUSY_RETRY_DELAYS) + 1
    with pytest.raises(httpx.HTTPStatusError, match="503"):
        take_slot(limit, wait=False)
    assert active_slots(limit) == 0


def test_a_missing_limit_is_named() -> None:
    delete_concurrency_limits(LIMIT)
    with pytest.raises(RateLimitMissing, match=LIMIT):
        take_slot(LIMIT, wait=True)


def test_waiting_for_a_slot_asks_again_after_the_servers_retry_after(
    limit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full limit answers 423 with Retry-After; take_slot waits that long, then takes the slot freed meanwhile."""
    answers: list[httpx.Response] = []
    real_send = httpx.Client.send

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = real_send(self, request, **kwargs)
        if request.url.path.endswith(INCREMENT):
            answers.append(response)
        return response

    waits: list[float] = []

    def wait_and_free_a_slot(seconds: float) -> None:  # instead of the wait: a slot frees during it
        waits.append(seconds)
        with get_client(sync_client=True) as client:
            client.release_concurrency_slots([limit], slots=1, occupancy_seconds=seconds).raise_for_status()

    assert take_slot(limit, wait=False) and take_slot(limit, wait=False)
    monkeypatch.setattr(httpx.Client, "send", send)
    monkeypatch.setattr(rate_limits, "time", SimpleNamespace(sleep=wait_and_free_a_slot))  # this module's only

    assert take_slot(limit, wait=True)

    assert [answer.status_code for answer in answers] == [423, 200]
    assert waits == [float(answers[0].headers["Retry-After"])] and waits[0] > 0
    assert active_slots(limit) == 2
