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
    yield prefect_api_check()


def prefect_api_check() -> CheckResult:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return CheckResult("prefect", "ephemeral local API", True, "flows run with a temporary local server")
    import httpx

    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=5)
        response.raise_for_status()
    except httpx.HTTPError as error:
        return CheckResult("prefect", url, False, f"not reachable ({error}); start it with `prefect server start`")
    return CheckResult("prefect", url, True, "healthy")
