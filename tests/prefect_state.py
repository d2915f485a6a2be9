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


def delete_deployments_and_schedule_records() -> None:
    """Delete every deployment (their schedules with them) and every guildflow- variable (schedule records, pause
    reasons): a server with no schedules, whatever the tests before left."""
    with get_client(sync_client=True) as client:
        while deployments := client.read_deployments(limit=200):
            for deployment in deployments:
                client.delete_deployment(deployment.id)
        variables = client.request(
            "POST", "/variables/filter", json={"variables": {"name": {"like_": "guildflow-%"}}}
        ).json()
        for variable in variables:
            client.delete_variable_by_name(variable["name"])
