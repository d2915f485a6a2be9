"""deliver_everywhere under the harness's Prefect server: each destination on its own, per-destination status,
the run Failed when one failed, and never twice in a run (task retries, re-runs of the same flow run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import flow, get_client
from prefect.artifacts import Artifact
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.flow_engine import run_flow
from prefect.states import Scheduled

from core.delivery import Message, parse_destinations
from guildflow.settings import load_settings
from integrations.delivery import Receipt
from tasks.deliver import DeliveriesFailed, DeliveryOutcome, deliver_everywhere, deliver_message, raise_if_any_failed
from tests.emulators.base import Fault, Response
from tests.emulators.discord import DiscordEmulator
from tests.emulators.smtp import HOST, SmtpServer
from tests.emulators.webhook_receiver import WebhookReceiver

MESSAGE = Message("Weekly summary", "Five new projects this week.")


@flow(name="deliver-test", persist_result=True)
def deliver_test(destinations: list[str], title: str, body: str) -> list[DeliveryOutcome]:
    outcomes = deliver_everywhere(load_settings(), parse_destinations(destinations), Message(title, body))
    raise_if_any_failed(outcomes)
    return outcomes


def messages_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.md")) if folder.is_dir() else []


def run(flow_run: FlowRun) -> FlowRun:
    """Run a created flow run here, as a worker would (again: as a re-run of the same run), and read it back."""
    run_flow(deliver_test, flow_run=flow_run, return_type="state")
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run.id)


def test_one_failing_destination_does_not_stop_the_others(guildflow_env: Path) -> None:
    blocker = guildflow_env / "a-file"
    blocker.write_text("")
    destinations = [f"file:{guildflow_env / 'a'}", f"file:{blocker / 'b'}", f"file:{guildflow_env / 'c'}:json"]
    state = deliver_test(destinations, MESSAGE.title, MESSAGE.body, return_state=True)

    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, DeliveriesFailed)
    assert str(error).startswith(f"1 of 3 deliveries failed: file {blocker / 'b'}: failed: cannot write")
    assert [outcome.status for outcome in error.outcomes] == ["delivered", "failed", "delivered"]
    assert "cannot write to folder" in error.outcomes[1].message
    assert len(messages_in(guildflow_env / "a")) == 1 and len(list((guildflow_env / "c").glob("*.json"))) == 1
    table = Artifact.get("deliveries")
    assert table is not None and "failed" in str(table.data) and "delivered" in str(table.data)


def test_a_rerun_of_the_same_run_delivers_only_what_failed(guildflow_env: Path) -> None:
    first, second = guildflow_env / "first", guildflow_env / "second"
    second.write_text("a file where the folder should be")
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(
            deliver_test,
            parameters={"destinations": [f"file:{first}", f"file:{second}"], "title": "t", "body": "b"},
        )
    assert run(flow_run).state_type == StateType.FAILED
    assert len(messages_in(first)) == 1

    second.unlink()  # fixed; then the run is re-run (the UI's Retry, a flow retry)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run.id, Scheduled(), force=True)
    rerun = run(flow_run)

    assert rerun.state_type == StateType.COMPLETED, rerun.state
    assert len(messages_in(first)) == 1 and len(messages_in(second)) == 1  # first: not again
    outcomes = rerun.state.result()
    assert [(outcome.status, outcome.earlier) for outcome in outcomes] == [("delivered", True), ("delivered", False)]


def test_outside_a_flow_each_destination_still_gets_its_status(guildflow_env: Path) -> None:
    outcomes = deliver_everywhere(load_settings(), parse_destinations([f"file:{guildflow_env / 'out'}"]), MESSAGE)
    assert [outcome.status for outcome in outcomes] == ["delivered"]
    assert outcomes[0].summary().startswith(f"file {guildflow_env / 'out'}: delivered (20")


@pytest.mark.parametrize("kind", ["discord:1300000000000000001", "email:a@example.org"])
def test_a_destination_that_cannot_work_fails_with_its_reason(guildflow_env: Path, kind: str) -> None:
    [outcome] = deliver_everywhere(load_settings(), parse_destinations([kind]), MESSAGE)
    assert outcome.status == "failed" and outcome.message


# Every kind against its emulator


DISCORD_CHANNEL = 1_300_000_000_000_000_111
Services = tuple[DiscordEmulator, WebhookReceiver, SmtpServer]


@pytest.fixture
def services(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The Discord emulator, a webhook receiver and an SMTP server (STARTTLS, a login), in the settings."""
    discord, receiver = DiscordEmulator(), WebhookReceiver()
    discord.add_channel(DISCORD_CHANNEL, "summaries")
    smtp = SmtpServer(guildflow_env, user="bot", password="pw")
    with discord.running(), receiver.running(), smtp.running():
        for name, value in {
            "DISCORD_TOKEN": discord.token,
            "DISCORD_API_BASE": discord.api_base,
            "WEBHOOK_SIGNING_SECRET": receiver.secret,
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(smtp.port),
            "SMTP_USER": "bot",
            "SMTP_PASSWORD": "pw",
            "SMTP_FROM": "guildflow@example.org",
        }.items():
            monkeypatch.setenv(f"GUILDFLOW_{name}", value)
        monkeypatch.setenv("SSL_CERT_FILE", str(smtp.cert_file))  # the default TLS context trusts the test's CA
        yield discord, receiver, smtp


def test_each_kind_gets_the_message_and_a_gone_one_does_not_stop_them(guildflow_env: Path, services: Services) -> None:
    discord, receiver, smtp = services
    receiver.gone.add("old")
    destinations = [
        f"discord:{DISCORD_CHANNEL}",
        f"webhook:{receiver.hook_url('old')}",
        f"webhook:{receiver.hook_url('alerts')}",
        "email:admin@example.org",
        f"file:{guildflow_env / 'out'}:json",
    ]
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(
            deliver_test, parameters={"destinations": destinations, "title": MESSAGE.title, "body": MESSAGE.body}
        )
    failed = run(flow_run)

    assert failed.state_type == StateType.FAILED
    error = failed.state.result(raise_on_failure=False)
    assert isinstance(error, DeliveriesFailed)
    assert [(o.status, o.reason) for o in error.outcomes] == [
        ("delivered", ""),
        ("unusable", "webhook gone (404)"),
        ("delivered", ""),
        ("delivered", ""),
        ("delivered", ""),
    ]
    assert discord.posts[0].embeds[0]["title"] == MESSAGE.title
    assert [received.document["body"] for received in receiver.received] == [MESSAGE.body]
    assert smtp.messages[0]["Subject"] == MESSAGE.title
    assert len(list((guildflow_env / "out").glob("*.json"))) == 1

    with get_client(sync_client=True) as client:  # the same run again (the UI's Retry): nothing twice
        client.set_flow_run_state(flow_run.id, Scheduled(), force=True)
    again = run(flow_run).state.result(raise_on_failure=False)
    assert [o.earlier for o in again.outcomes] == [True, False, True, True, True]
    assert (len(discord.posts), len(receiver.received), len(smtp.messages)) == (1, 1, 1)
    assert len(list((guildflow_env / "out").glob("*.json"))) == 1


@flow(name="deliver-in-parts-test", persist_result=True)
def deliver_in_parts(channel: int, body: str) -> Receipt:
    """The task alone, with retries that do not wait (the policy's 2 s backoff is for real outages)."""
    destination = parse_destinations([f"discord:{channel}:markdown"])[0]
    return deliver_message.with_options(retry_delay_seconds=0)(load_settings(), destination, Message("", body), "run-a")


def test_a_retried_task_posts_only_the_parts_not_yet_posted(
    services: Services,
) -> None:
    discord, _, _ = services
    unavailable = Response.json({"message": "Service Unavailable", "code": 0}, 503)
    discord.fail_next(Fault(unavailable, method="POST", path_pattern=r"/messages$", skip=1))  # the 2nd post fails
    body = "\n\n".join(letter * 1900 for letter in "abc")  # three Discord messages

    receipt = deliver_in_parts(DISCORD_CHANNEL, body)

    assert [post.content[0] for post in discord.posts] == ["a", "b", "c"]  # "a" once, though the task ran twice
    assert discord.calls("POST", r"/messages$") == 4 and len(receipt.part_ids) == 3
