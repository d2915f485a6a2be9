"""What every end-to-end module shares; each module defines its own `stack` (the server it needs)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.prefect_server import PrefectStack


@pytest.fixture(scope="module")
def api(stack: PrefectStack) -> Iterator[httpx.Client]:
    """The module's server's REST API."""
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client
