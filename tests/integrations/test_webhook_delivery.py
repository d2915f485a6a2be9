"""WebhookDelivery, httpx against a receiver that verifies the HMAC signature with its own code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.delivery import Attachment, Message
from integrations.delivery import DeliveryError, DestinationUnusable
from integrations.delivery_ledger import DeliveryLedger
from integrations.webhook_delivery import WebhookDelivery
from tests.emulators.base import Fault, Response
from tests.emulators.webhook_receiver import WebhookReceiver, too_many_requests

MESSAGE = Message("Alert", "Disk **full**", attachments=(Attachment("df.txt", b"100%"),))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver().running() as emulator:
        yield emulator


@pytest.fixture
def ledger(tmp_path: Path) -> DeliveryLedger:
    return DeliveryLedger(tmp_path / "deliveries.sqlite")


class Waits(list[float]):
    """Stands in for time.sleep: records each backoff instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def webhook(receiver: WebhookReceiver, hook: str = "alerts", secret: str = "", **options: object) -> WebhookDelivery:
    return WebhookDelivery(
        SecretStr(receiver.hook_url(hook)),
        SecretStr(secret or receiver.secret),
        **options,  # type: ignore[arg-type]
    )


def test_the_receiver_verifies_the_signed_message(receiver: WebhookReceiver, ledger: DeliveryLedger) -> None:
    progress = ledger.progress("run-1", "webhook-x", MESSAGE.digest)
    receipt = webhook(receiver).deliver(MESSAGE, progress)

    [received] = receiver.received
    assert received.document["title"] == "Alert" and received.document["body"] == "Disk **full**"
    assert received.document["attachments"][0]["content_base64"] == "MTAwJQ=="
    assert received.delivery_id == received.document["id"] == progress.part_key(0) == receipt.part_ids[0]
    assert receipt.destination == "webhook at 127.0.0.1:" + receiver.url.rsplit(":", 1)[1]


def test_a_retry_in_the_same_run_posts_nothing(receiver: WebhookReceiver, ledger: DeliveryLedger) -> None:
    for _ in range(2):
        webhook(receiver).deliver(MESSAGE, ledger.progress("run-1", "webhook-x", MESSAGE.digest))
    assert len(receiver.received) == 1 and receiver.calls("POST") == 1


def test_429_waits_retry_after_and_5xx_backs_off(receiver: WebhookReceiver, ledger: DeliveryLedger) -> None:
    receiver.fail_next(Fault(too_many_requests(7)))
    receiver.fail_next(Fault(Response(503, b"busy")))
    waits = Waits()
    webhook(receiver, backoff=0.5, sleep=waits).deliver(MESSAGE, ledger.progress("run-1", "w", MESSAGE.digest))
    assert waits == [7.0, 1.0] and len(receiver.received) == 1  # Retry-After, then the 2nd backoff step
    # every attempt is signed again with its own timestamp, and the same delivery id
    assert len({request.headers["x-guildflow-delivery"] for request in receiver.requests}) == 1


def test_a_receiver_that_stays_down_is_a_transient_error(receiver: WebhookReceiver, ledger: DeliveryLedger) -> None:
    receiver.fail_next(Fault(Response(502, b"bad gateway"), times=4))
    with pytest.raises(DeliveryError, match="it answered 502 bad gateway, 4 times") as raised:
        webhook(receiver, sleep=Waits()).deliver(MESSAGE, ledger.progress("run-1", "w", MESSAGE.digest))
    assert raised.value.transient and receiver.received == []

    receiver.fail_next(Fault(too_many_requests(3600)))
    with pytest.raises(DeliveryError, match="asked to wait 3600 s") as raised:
        webhook(receiver, sleep=Waits()).deliver(MESSAGE, ledger.progress("run-1", "w", MESSAGE.digest))
    assert raised.value.transient


def test_4xx_is_a_clear_error_gone_and_forbidden_make_it_unusable(
    receiver: WebhookReceiver, ledger: DeliveryLedger
) -> None:
    progress = ledger.progress("run-1", "w", MESSAGE.digest)
    with pytest.raises(
        DeliveryError, match="rejected the request .401 bad signature.*GUILDFLOW_WEBHOOK_SIGNING_SECRET"
    ):
        webhook(receiver, secret="not-the-receivers").deliver(MESSAGE, progress)
    receiver.gone.add("old")
    with pytest.raises(DestinationUnusable, match="no webhook at that URL .404 no such hook") as gone:
        webhook(receiver, "old").deliver(MESSAGE, progress)
    assert gone.value.reason == "webhook gone (404)"
    receiver.fail_next(Fault(Response(403, b"")))
    with pytest.raises(DestinationUnusable, match="refuses us .403 Forbidden") as forbidden:
        webhook(receiver).deliver(MESSAGE, progress)
    assert forbidden.value.reason == "refused (403)"
    receiver.fail_next(Fault(Response(422, b"title too long")))
    with pytest.raises(DeliveryError, match="rejected the message .422 title too long") as rejected:
        webhook(receiver).deliver(MESSAGE, progress)
    assert not rejected.value.transient and receiver.calls("POST") == 4  # none of these retried


def test_the_url_is_never_shown(receiver: WebhookReceiver, ledger: DeliveryLedger) -> None:
    url = receiver.hook_url("alerts") + "?token=s3cr3t"
    receiver.fail_next(Fault(Response(400, b"bad")))
    delivery = WebhookDelivery(SecretStr(url), SecretStr(receiver.secret))
    with pytest.raises(DeliveryError) as raised:
        delivery.deliver(MESSAGE, ledger.progress("run-1", "w", MESSAGE.digest))
    assert "s3cr3t" not in str(raised.value) and "s3cr3t" not in delivery.describe() + delivery.check()
