from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import temporary_settings


@pytest.fixture(autouse=True)
def _harness(prefect_harness: None, tmp_path: Path) -> Iterator[None]:
    """Every flow test runs against the session's Prefect test harness, with its own result
    storage so one test's cached analyses are not another's."""
    with temporary_settings(updates={"results.local_storage_path": tmp_path / "prefect-results"}):
        yield
