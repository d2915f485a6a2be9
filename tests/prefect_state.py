"""State on the Prefect server that a test or benchmark starts from."""

from __future__ import annotations

from prefect import get_client
from prefect.exceptions import ObjectNotFound


def delete_concurrency_limits(*names: str) -> None:
    """Delete these global concurrency (rate) limits if they exist: the next use starts with empty buckets."""
    with get_client(sync_client=True) as client:
        for name in names:
            try:
                client.delete_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                pass
