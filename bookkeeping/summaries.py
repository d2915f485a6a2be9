"""Summary schedules: the one place that turns a summary's options into a schedule on the channel-summary
deployment, used by `guildflow summary` and the Discord bot alike (pausing, resuming and removing are
bookkeeping.schedules' own, by slug)."""

from __future__ import annotations

from bookkeeping.schedules import Schedule, ScheduleDefinition, read_schedules, save_schedule
from core.schedule_spec import ScheduleSpec
from core.summaries import DEPLOYMENT, FLOW_NAME, SummaryRequest


def summary_schedule_definition(
    request: SummaryRequest, spec: ScheduleSpec, pause_after_failures: int | None = None
) -> ScheduleDefinition:
    """The schedule of this request: its slug names the guild and channels, and its runs follow their own cursor."""
    return ScheduleDefinition(
        request.slug, DEPLOYMENT, spec, request.parameters(schedule=request.slug), pause_after_failures
    ).validated()


def save_summary_schedule(
    request: SummaryRequest, spec: ScheduleSpec, pause_after_failures: int | None = None
) -> Schedule:
    """Create the schedule of this guild and channels, or replace it (same slug), active. An `every` schedule's
    first run is due at once."""
    definition = summary_schedule_definition(request, spec, pause_after_failures)
    return save_schedule(definition, start_now=spec.kind == "every").schedule


def read_summary_schedules(guild: str | None = None) -> list[Schedule]:
    """Every summary schedule, by slug; only one guild's when given."""
    return read_schedules(target=FLOW_NAME, guild=guild)
