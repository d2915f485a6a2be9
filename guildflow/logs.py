"""How guildflow's runs log: an error the user can fix is shown as its one-line message, never with Prefect's
traceback (in the terminal, in a worker's output and in the run's logs in the UI). Other exceptions are bugs
and keep their tracebacks.

Like settings.py, a leaf: flows import it; it imports only core."""

from __future__ import annotations

import logging

from core.errors import UserFacingError

# Prefect's handlers: "console" on the root logger, "api" on the flow- and task-run loggers.
_LOGGERS = ("", "prefect", "prefect.flow_runs", "prefect.task_runs")


class _WithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, UserFacingError):
            record.exc_info, record.exc_text = None, None
        return True


_FILTER = _WithoutTraceback()


def hide_tracebacks_of_user_errors() -> None:
    """Add the filter to every handler Prefect's logging set up (again: it is added once per handler)."""
    for name in _LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
