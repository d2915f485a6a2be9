"""TypefullyPublisher: httpx against the Typefully emulator (drafts kept in memory)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.draft import Draft
from integrations.errors import PublishError
from integrations.ledger import DraftProgress, PublishLedger
from integrations.typefully import TypefullyPublisher
from tests.emulators.base import Fault, Response
from tests.emulators.typefully import TypefullyEmulator

DRAFT = Draft(
    id="thread1",
    tweets=("New Web3 projects, 21 Nov 2026:\n• Alpha: fast L2 https://x.com/a/status/1 (1/2)", "• Beta (2/2)"),
    post_links=("https://x.com/a/status/1",),
)
DRAFTS = r"^/v2/social-sets/4242/drafts$"


class Crash(Exception):
    """The process dies."""


class CrashBeforeRecording:
    """Ledger progress of a process that dies right after Typefully created the draft, before recording it."""

    def __init__(self, progress: DraftProgress) -> None:
        self.progress = progress

    def posted_parts(self) -> list[str]:
        return self.progress.posted_parts()

    def record_part(self, index: int, external_id: str) -> None:
        raise Crash


@pytest.fixture
def typefully() -> Iterator[TypefullyEmulator]:
    with TypefullyEmulator().running() as emulator:
        yield emulator


@pytest.fixture
def progress(tmp_path: Path) -> DraftProgress:
    return PublishLedger(tmp_path / "ledger.sqlite").progress_for(DRAFT)


def publisher(typefully: TypefullyEmulator, publish_at: str = "next-free-slot", **knobs: object) -> TypefullyPublisher:
    knobs.setdefault("api_key", SecretStr(typefully.api_key))
    knobs.setdefault("social_set_id", "4242")
    knobs.setdefault("retry_delays", (0.0,))
    return TypefullyPublisher(publish_at=publish_at, api_base=typefully.url, **knobs)


@pytest.mark.parametrize("publish_at", ["now", "next-free-slot"])
def test_a_draft_is_created_with_the_thread_and_typefullys_publish_time(
    typefully: TypefullyEmulator, progress: DraftProgress, publish_at: str
) -> None:
    receipt = publisher(typefully, publish_at).publish(DRAFT, progress)

    [created] = typefully.created
    assert created == {
        "platforms": {"x": {"enabled": True, "posts": [{"text": text} for text in DRAFT.tweets]}},
        "publish_at": publish_at,
    }
    [draft] = typefully.drafts
    assert receipt == f"typefully:{draft['id']} {draft['private_url']}"
    assert progress.posted_parts() == [str(draft["id"])]
    assert typefully.calls("POST") == 1


def test_a_delay_in_hours_becomes_an_iso_utc_time_that_many_hours_ahead(
    typefully: TypefullyEmulator, progress: DraftProgress
) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    publisher(typefully, "2.5").publish(DRAFT, progress)
    after = datetime.now(timezone.utc)

    publish_at = typefully.created[0]["publish_at"]
    assert publish_at.endswith("Z")
    when = datetime.fromisoformat(publish_at.replace("Z", "+00:00"))
    assert before + timedelta(hours=2.5) <= when <= after + timedelta(hours=2.5)
    assert typefully.drafts[0]["status"] == "scheduled"


def test_publishing_again_with_recorded_progress_makes_no_api_call(
    typefully: TypefullyEmulator, progress: DraftProgress
) -> None:
    publisher(typefully).publish(DRAFT, progress)
    calls = typefully.calls()

    receipt = publisher(typefully).publish(DRAFT, progress)

    assert receipt == f"typefully:{typefully.drafts[0]['id']}"
    assert typefully.calls() == calls and len(typefully.drafts) == 1


def test_a_crash_between_creating_and_recording_reuses_the_draft(
    typefully: TypefullyEmulator, progress: DraftProgress, tmp_path: Path
) -> None:
    other = Draft(id="other", tweets=("Another draft (1/2)", "• Beta (2/2)"), post_links=())
    publisher(typefully).publish(other, PublishLedger(tmp_path / "ledger.sqlite").progress_for(other))
    with pytest.raises(Crash):
        publisher(typefully).publish(DRAFT, CrashBeforeRecording(progress))
    assert len(typefully.drafts) == 2 and progress.posted_parts() == []

    receipt = publisher(typefully).publish(DRAFT, progress)

    assert len(typefully.drafts) == 2 and typefully.calls("POST") == 2
    reused = typefully.drafts[1]
    assert receipt == f"typefully:{reused['id']} {reused['private_url']}"
    assert progress.posted_parts() == [str(reused["id"])]


def test_a_5xx_is_retried_and_creates_one_draft(typefully: TypefullyEmulator, progress: DraftProgress) -> None:
    unavailable = Response.json({"error": {"code": "SERVER_ERROR", "message": "Try again."}}, status=503)
    typefully.fail_next(Fault(unavailable, method="POST", path_pattern=DRAFTS, times=2))

    publisher(typefully, retry_delays=(0.0, 0.0)).publish(DRAFT, progress)

    assert len(typefully.drafts) == 1 and typefully.calls("POST") == 3
    assert typefully.calls("GET", DRAFTS) == 3  # looked for the draft again before each new try


def test_a_5xx_that_outlasts_the_retries_is_a_transient_error(
    typefully: TypefullyEmulator, progress: DraftProgress
) -> None:
    unavailable = Response.json({"error": {"code": "SERVER_ERROR", "message": "Try again."}}, status=503)
    typefully.fail_next(Fault(unavailable, method="POST", path_pattern=DRAFTS, times=2))

    with pytest.raises(PublishError, match="503: Try again") as failed:
        publisher(typefully, retry_delays=(0.0,)).publish(DRAFT, progress)

    assert failed.value.transient
    assert typefully.drafts == [] and progress.posted_parts() == []


def test_a_rate_limit_is_waited_out_for_retry_after_seconds(
    typefully: TypefullyEmulator, progress: DraftProgress
) -> None:
    limited = Response.json({"error": {"code": "RATE_LIMITED", "message": "Slow down."}}, 429, {"Retry-After": "1"})
    typefully.fail_next(Fault(limited, method="POST", path_pattern=DRAFTS))

    started = datetime.now(timezone.utc)
    publisher(typefully).publish(DRAFT, progress)

    assert len(typefully.drafts) == 1 and typefully.calls("POST") == 2
    created = datetime.fromisoformat(typefully.drafts[0]["created_at"])
    assert created - started >= timedelta(seconds=1)


def test_a_rate_limit_longer_than_the_cap_is_a_transient_error(
    typefully: TypefullyEmulator, progress: DraftProgress
) -> None:
    limited = Response.json({"error": {"code": "RATE_LIMITED", "message": "Slow down."}}, 429, {"Retry-After": "3600"})
    typefully.fail_next(Fault(limited, method="POST", path_pattern=DRAFTS))

    with pytest.raises(PublishError, match="rate limit .* for 3600 s") as limited_error:
        publisher(typefully, rate_limit_wait_cap=60).publish(DRAFT, progress)

    assert limited_error.value.transient and typefully.drafts == []


def test_a_wrong_key_names_the_setting_and_not_the_key(typefully: TypefullyEmulator, progress: DraftProgress) -> None:
    client = publisher(typefully, api_key=SecretStr("tf-wrong-key-123"))
    for attempt in (client.check, lambda: client.publish(DRAFT, progress)):
        with pytest.raises(PublishError, match="401.*GUILDFLOW_TYPEFULLY_API_KEY") as refused:
            attempt()
        assert "tf-wrong-key-123" not in str(refused.value) and typefully.api_key not in str(refused.value)
        assert not refused.value.transient
    assert typefully.drafts == []


def test_an_unknown_social_set_names_the_setting(typefully: TypefullyEmulator, progress: DraftProgress) -> None:
    client = publisher(typefully, social_set_id="999")
    for attempt in (client.check, lambda: client.publish(DRAFT, progress)):
        with pytest.raises(PublishError, match="404.*social set 999 not found.*GUILDFLOW_TYPEFULLY_SOCIAL_SET_ID"):
            attempt()


def test_check_reports_the_x_account_and_writes_nothing(typefully: TypefullyEmulator) -> None:
    client = publisher(typefully)
    assert client.check() == "social set 4242 (Guildflow), posting to X as @guildflow_bot"
    assert typefully.api_key not in client.describe() and typefully.url in client.describe()

    typefully.social_sets[4242]["platforms"]["x"] = None
    with pytest.raises(PublishError, match="no X account connected"):
        client.check()
    assert typefully.calls("POST") == 0


def test_a_publish_time_that_is_not_understood_names_the_setting(typefully: TypefullyEmulator) -> None:
    with pytest.raises(PublishError, match="GUILDFLOW_TYPEFULLY_PUBLISH_AT"):
        publisher(typefully, "tomorrow")
