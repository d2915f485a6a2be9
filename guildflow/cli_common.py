"""What every `guildflow` sub-command shares: how it fails, and how it loads the settings."""

from __future__ import annotations

from typing import NoReturn

import typer

from guildflow.settings import ConfigurationError, Settings, load_settings


def fail(message: str, code: int = 1) -> NoReturn:
    """Print the problem in red and exit: 2 for bad configuration or arguments, 1 for a failed job."""
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigurationError as error:
        fail(str(error), 2)


def require_prefect_server(what: str) -> None:
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        fail(
            f"PREFECT_API_URL is not set: {what} live on a Prefect server; "
            "export PREFECT_API_URL=http://127.0.0.1:4200/api (or your server's URL)",
            2,
        )
