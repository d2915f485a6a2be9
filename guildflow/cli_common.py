"""What every `guildflow` sub-command shares: how it fails, how it loads the settings, and how it reads
what a flow run it started returned."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import typer

from guildflow.settings import ConfigurationError, Settings, load_settings

if TYPE_CHECKING:
    from prefect.states import State


def fail(message: str, code: int = 1) -> NoReturn:
    """Print the problem in red and exit: 2 for bad configuration or arguments, 1 for a failed job."""
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigurationError as error:
        fail(str(error), 2)


def connect_prefect(settings: Settings) -> str:
    """Point this command at a Prefect API (PREFECT_API_URL, else the local server guildflow keeps running);
    a clear error and exit when there is none. Returns where it points."""
    from guildflow.prefect_api import PrefectUnavailable, use_prefect_api

    try:
        return use_prefect_api(settings.prefect_server, say=lambda line: typer.echo(line, err=True))
    except PrefectUnavailable as error:
        fail(str(error))


def finish_with_prefect(state: State | None = None) -> None:
    """Before the command's last line, given the final state of the flow run it started (if any): what Prefect
    still has to send or print comes now (guildflow.prefect_api.finish_with_prefect), so the terminal ends with
    our report or our error."""
    from guildflow.prefect_api import finish_with_prefect as finish

    finish(state.state_details.flow_run_id if state is not None else None)


def require_prefect_server(what: str) -> None:
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        fail(
            f"PREFECT_API_URL is not set: {what} live on a Prefect server; "
            "export PREFECT_API_URL=http://127.0.0.1:4200/api (or your server's URL)",
            2,
        )


def flow_outcome(state: State) -> Any:
    """What the flow run returned, or for a failed run the exception; None when it completed but its value
    is lost. Our flows persist no result, so a final state the Prefect server rejected as already recorded
    (seen on a busy SQLite server) comes back from the API without its value; the run still succeeded."""
    from prefect.exceptions import MissingResult

    try:
        return state.result(raise_on_failure=False)
    except MissingResult:
        if state.is_completed():
            return None
        raise
