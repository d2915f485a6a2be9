"""Retry policy shared by the tasks."""

from __future__ import annotations

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff

from guildflow.settings import ConfigurationError
from integrations.errors import IntegrationError

RETRY_DELAYS = exponential_backoff(backoff_factor=2)  # 2, 4, 8 s


def retry_unless_permanent(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry transient failures; an error that names a fix for the user will not heal by retrying."""
    try:
        state.result()
    except (IntegrationError, ConfigurationError) as error:
        return getattr(error, "transient", False)
    except Exception:
        return True
    return False
