import hashlib
import hmac
import re
import time

from hypothesis import given
from hypothesis import strategies as st

from core.signature import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    signed_headers,
    verify_signature,
)
from tests.conftest import REPO

NOW = 1_796_000_000
secrets = st.text(min_size=1, max_size=64)


@given(secret=secrets, body=st.binary(max_size=512), timestamp=st.integers(NOW - 300, NOW + 300))
def test_a_signed_body_verifies_and_any_change_does_not(secret: str, body: bytes, timestamp: int) -> None:
    headers = signed_headers(secret, timestamp, body, "delivery-1")
    assert headers[DELIVERY_HEADER] == "delivery-1"
    assert verify_signature(secret, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], NOW)
    assert not verify_signature(secret, body + b" ", headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], NOW)
    assert not verify_signature(secret + "x", body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], NOW)
    assert not verify_signature(secret, body, str(timestamp + 1), headers[SIGNATURE_HEADER], NOW)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"key", b'1796000000.{"a":1}', hashlib.sha256).hexdigest()
    assert signature("key", NOW, b'{"a":1}') == f"sha256={expected}"


def test_old_or_future_timestamps_and_garbage_are_refused() -> None:
    body = b"{}"
    for sent in (NOW - 301, NOW + 301):
        assert not verify_signature("key", body, str(sent), signature("key", sent, body), NOW)
    assert not verify_signature("key", body, "yesterday", signature("key", NOW, body), NOW)
    assert not verify_signature("key", body, str(NOW), "sha256=00", NOW)


def test_the_readmes_verify_function_accepts_our_signatures_only() -> None:
    readme = (REPO / "README.md").read_text()
    code = re.search(r"```python\n(import hashlib, hmac, time\n.*?)```", readme, re.DOTALL)
    assert code is not None, "the README's verify snippet"
    namespace: dict[str, object] = {}
    exec(code[1], namespace)
    verify = namespace["verify"]
    body, now = b'{"title": "t"}', int(time.time())
    headers = signed_headers("shared", now, body, "d1")
    assert verify("shared", body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])  # type: ignore[operator]
    assert not verify("other", body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])  # type: ignore[operator]
    old = signed_headers("shared", now - 3600, body, "d1")
    assert not verify("shared", body, old[TIMESTAMP_HEADER], old[SIGNATURE_HEADER])  # type: ignore[operator]
