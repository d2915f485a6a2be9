"""The webhook destination: the message as one JSON document (core.delivery.message_document plus its delivery id),
POSTed to any URL and signed with HMAC-SHA256 (core.signature), through httpx.

429 and 5xx answers and network errors are retried here with backoff (a 429's Retry-After honoured); other 4xx
are clear errors; 404/410 (gone) and 403 (refused) make the destination unusable. The URL may hold a token: only
its host is ever shown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx
from pydantic import SecretStr

from core.delivery import Destination, Message, message_document
from core.signature import signed_headers
from integrations.delivery import DeliveryError, DeliveryProgress, DestinationUnusable, Receipt

SECRET_SETTING = "GUILDFLOW_WEBHOOK_SIGNING_SECRET"


class WebhookDelivery:
    """attempts: tries per delivery (429/5xx/network errors are tried again after backoff * 2**n seconds, or a
    429's Retry-After when it is at most max_retry_after)."""

    def __init__(
        self,
        url: SecretStr,
        signing_secret: SecretStr,
        *,
        timeout: float = 30.0,
        attempts: int = 4,
        backoff: float = 1.0,
        max_retry_after: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self._secret = signing_secret
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._where = Destination("webhook", url.get_secret_value()).describe()

    def describe(self) -> str:
        return self._where

    def check(self) -> str:
        # Any request would be a delivery the receiver must handle: only the configuration is checked.
        return f"signed with {SECRET_SETTING}; not called by the check (a request would be a delivery)"

    def deliver(self, message: Message, progress: DeliveryProgress) -> Receipt:
        delivered = progress.delivered_parts()
        if delivered:
            return Receipt(self._where, delivered)
        delivery_id = progress.part_key(0)
        document = {"id": delivery_id, **message_document(message, datetime.now(timezone.utc))}
        body = json.dumps(document, ensure_ascii=False).encode()
        self._post(body, delivery_id)
        progress.record_part(0, delivery_id)
        return Receipt(self._where, [delivery_id])

    def _post(self, body: bytes, delivery_id: str) -> None:
        for attempt in range(1, self.attempts + 1):
            wait = self.backoff * 2 ** (attempt - 1)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "guildflow",
                **signed_headers(self._secret.get_secret_value(), int(time.time()), body, delivery_id),
            }
            try:
                response = httpx.post(self._url.get_secret_value(), content=body, headers=headers, timeout=self.timeout)
            except httpx.TransportError as error:
                problem = f"could not reach it ({type(error).__name__})"
            else:
                if response.is_success:
                    return
                problem = f"it answered {_status(response)}"
                if response.status_code != 429 and response.status_code < 500:
                    raise self._refusal(response)
                retry_after = _retry_after(response)
                if retry_after is not None:
                    if retry_after > self.max_retry_after:
                        raise DeliveryError(
                            f"delivering to {self._where}: it asked to wait {retry_after:.0f} s (429); try again later",
                            transient=True,
                        )
                    wait = retry_after
            if attempt < self.attempts:
                self._sleep(wait)
        raise DeliveryError(
            f"delivering to {self._where}: {problem}, {self.attempts} times; check that the receiver is up",
            transient=True,
        )

    def _refusal(self, response: httpx.Response) -> DeliveryError:
        doing, status = f"delivering to {self._where}", _status(response)
        if response.status_code in (404, 410):
            return DestinationUnusable(
                f"{doing}: there is no webhook at that URL ({status}): fix the destination's URL",
                f"webhook gone ({response.status_code})",
            )
        if response.status_code == 403:
            return DestinationUnusable(
                f"{doing}: the receiver refuses us ({status}): ask its owner to allow guildflow's deliveries",
                "refused (403)",
            )
        if response.status_code == 401:
            return DeliveryError(
                f"{doing}: the receiver rejected the request ({status}); does it verify the signature with the "
                f"same secret as {SECRET_SETTING}?"
            )
        return DeliveryError(f"{doing}: the receiver rejected the message ({status})")


def _status(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:200]
    return f"{response.status_code} {text or response.reason_phrase}".strip()


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (it may be seconds or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None
