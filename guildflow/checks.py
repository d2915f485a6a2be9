"""`guildflow check`: each configured service, its backend, and whether it is usable. Writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from guildflow.settings import ConfigurationError, Settings
from integrations.errors import IntegrationError
from tasks import clients


@dataclass(frozen=True)
class CheckResult:
    service: str
    backend: str
    ok: bool
    detail: str


def service_checks(settings: Settings) -> Iterator[CheckResult]:
    services: list[tuple[str, Callable[[Settings], object]]] = [
        ("discord", clients.message_source),
        ("sheet", clients.sheet),
        ("analyser", clients.analyser),
        ("publisher", clients.publisher),
        ("ledger", clients.publish_ledger),
    ]
    for name, build in services:
        backend = getattr(settings, f"{name}_backend", "local")
        try:
            client = build(settings)
            backend = client.describe()  # type: ignore[attr-defined]
            yield CheckResult(name, backend, True, client.check())  # type: ignore[attr-defined]
        except (IntegrationError, ConfigurationError) as error:
            yield CheckResult(name, backend, False, str(error))
        except Exception as error:  # a check reports on one line whatever happens; it never prints a traceback
            yield CheckResult(name, backend, False, f"the check itself failed ({type(error).__name__}: {error})")


def prefect_api_check(settings: Settings, say: Callable[[str], None]) -> CheckResult:
    """The Prefect API flows run against, asked for its health: PREFECT_API_URL, else the local server
    (started in the background if it is not running), else Prefect's temporary server."""
    from prefect import get_client

    from guildflow.prefect_api import PrefectUnavailable, use_prefect_api

    try:
        where = use_prefect_api(settings.prefect_server, say)
        with get_client(sync_client=True) as client:
            error = client.api_healthcheck()
    except PrefectUnavailable as unavailable:
        return CheckResult("prefect", settings.prefect_server, False, str(unavailable))
    if error is not None:
        fix = "start it with `prefect server start` or fix PREFECT_API_URL"
        return CheckResult("prefect", where, False, f"not healthy ({error}); {fix}")
    return CheckResult("prefect", where, True, "healthy")
