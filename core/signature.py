"""How a webhook delivery is signed, so its receiver can check it came from us and is not a replay: HMAC-SHA256
over "<timestamp>.<body>" with the shared secret, the convention of Stripe and GitHub. The README shows the
receiver's side (verify_signature, copied there)."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Guildflow-Timestamp"  # unix seconds, when this attempt was sent
SIGNATURE_HEADER = "X-Guildflow-Signature"  # sha256=<hex>
DELIVERY_HEADER = "X-Guildflow-Delivery"  # the same in every retry: receivers drop what they have seen
TOLERANCE_SECONDS = 300  # how old a signed request a receiver accepts


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, timestamp: int, body: bytes, delivery_id: str) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: delivery_id,
    }


def verify_signature(
    secret: str, body: bytes, timestamp: str, signature_header: str, now: float, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver checks: the timestamp is recent and the signature is ours for exactly this body."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent, body), signature_header)
