"""Filters of Prefect's API that guildflow builds in more than one place."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from prefect.client.schemas.filters import FlowRunFilterEndTime, FlowRunFilterExpectedStartTime
from prefect.types import DateTime


def expected_start(after: datetime | None = None, before: datetime | None = None) -> FlowRunFilterExpectedStartTime:
    """Runs expected to start in [after, before]. Prefect types these times as its own DateTime; any aware
    datetime is what its API takes."""
    return FlowRunFilterExpectedStartTime(after_=cast(DateTime | None, after), before_=cast(DateTime | None, before))


def ended_before(before: datetime) -> FlowRunFilterEndTime:
    """Runs that ended before this moment (typed as expected_start is)."""
    return FlowRunFilterEndTime(before_=cast(DateTime, before))
