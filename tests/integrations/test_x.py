"""XPublisher: tweepy against the X emulator (signatures checked, posts kept in memory)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import astuple
from pathlib import Path

import pytest
import tweepy
from pydantic import SecretStr

from core.draft import Draft
from integrations.errors import PublishError
from integrations.ledger import DraftProgress, PublishLedger
from integrations.x import XPublisher, tweepy_client
from tests.emulators.base import Fault, Response
from tests.emulators.x import Credentials, XEmulator

DRAFT = Draft(
    id="thread1",
    tweets=(
        "New Web3 projects, 21 Nov 2026:\n• Alpha & Co: fast L2 https://x.com/a/status/1 (1/3)",
        "• Beta: a <wallet> https://discord.com/channels/1/2/3 (2/3)",
        "• Gamma: an oracle https://x.com/c/status/3 (3/3)",
    ),
    post_links=("https://x.com/a/status/1", "https://x.com/c/status/3"),
)
POSTS = r"^/2/tweets$"


class Crash(Exception):
    """The process dies."""


class CrashBeforeRecording:
    """Ledger progress of a process that dies right after X accepted part `index`, before recording it."""

    def __init__(self, progress: DraftProgress, index: int) -> None:
        self.progress, self.index = progress, index

    def posted_parts(self) -> list[str]:
        return self.progress.posted_parts()

    def record_part(self, index: int, external_id: str) -> None:
        if index == self.index:
            raise Crash
        self.progress.record_part(index, external_id)


class OutageAfterRecording:
    """Ledger progress during which X starts failing once part `index` has been recorded."""

    def __init__(self, progress: DraftProgress, index: int, x: XEmulator, failures: int) -> None:
        self.progress, self.index, self.x, self.failures = progress, index, x, failures

    def posted_parts(self) -> list[str]:
        return self.progress.posted_parts()

    def record_part(self, index: int, external_id: str) -> None:
        self.progress.record_part(index, external_id)
        if index == self.index:
            unavailable = Response.json({"title": "Service Unavailable", "status": 503}, status=503)
            self.x.fail_next(Fault(unavailable, method="POST", path_pattern=POSTS, times=self.failures))


@pytest.fixture
def x() -> Iterator[XEmulator]:
    with XEmulator().running() as emulator:
        yield emulator


@pytest.fixture
def progress(tmp_path: Path) -> DraftProgress:
    return PublishLedger(tmp_path / "ledger.sqlite").progress_for(DRAFT)


def publisher(x: XEmulator, credentials: Credentials | None = None, **knobs: object) -> XPublisher:
    key, secret, token, token_secret = astuple(credentials or x.credentials)
    knobs.setdefault("retry_delays", (0.0,))
    return XPublisher(SecretStr(key), SecretStr(secret), SecretStr(token), SecretStr(token_secret), x.url, **knobs)


def test_a_thread_is_posted_as_a_reply_chain_with_every_part_recorded(x: XEmulator, progress: DraftProgress) -> None:
    receipt = publisher(x).publish(DRAFT, progress)

    assert x.thread() == list(DRAFT.tweets)
    assert [tweet.in_reply_to for tweet in x.tweets] == [None, x.tweets[0].id, x.tweets[1].id]
    assert progress.posted_parts() == [tweet.id for tweet in x.tweets]
    assert receipt == f"x:https://x.com/guildflow_bot/status/{x.tweets[0].id}"
    assert x.calls("POST", POSTS) == 3 and x.calls("GET", r"^/2/users/me$") == 1


def test_a_thread_already_posted_in_full_is_not_posted_again(x: XEmulator, progress: DraftProgress) -> None:
    first = publisher(x).publish(DRAFT, progress)
    assert publisher(x).publish(DRAFT, progress) == first
    assert len(x.tweets) == 3 and x.calls("POST", POSTS) == 3


def test_a_retry_after_an_outage_at_part_2_posts_only_the_missing_parts(x: XEmulator, progress: DraftProgress) -> None:
    outage = OutageAfterRecording(progress, index=0, x=x, failures=2)
    with pytest.raises(PublishError, match="part 2 of 3.*503 on 2 tries") as failed:
        publisher(x, retry_delays=(0.0,)).publish(DRAFT, outage)
    assert failed.value.transient
    assert len(x.tweets) == 1 and progress.posted_parts() == [x.tweets[0].id]

    receipt = publisher(x).publish(DRAFT, progress)

    assert len(x.tweets) == 3 and x.thread() == list(DRAFT.tweets)
    assert progress.posted_parts() == [tweet.id for tweet in x.tweets]
    assert receipt.endswith(f"/status/{x.tweets[0].id}")
    assert x.calls("POST", POSTS) == 1 + 2 + 2


def test_a_part_posted_but_never_recorded_is_found_instead_of_posted_twice(
    x: XEmulator, progress: DraftProgress
) -> None:
    with pytest.raises(Crash):
        publisher(x).publish(DRAFT, CrashBeforeRecording(progress, index=1))
    assert len(x.tweets) == 2 and len(progress.posted_parts()) == 1

    publisher(x).publish(DRAFT, progress)

    assert len(x.tweets) == 3 and x.thread() == list(DRAFT.tweets)
    # Part 2 was recovered from the account's posts (its link came back as a t.co link, its < > escaped).
    assert progress.posted_parts() == [tweet.id for tweet in x.tweets]
    assert x.calls("GET", r"^/2/users/\d+/tweets$") == 1
    assert x.calls("POST", POSTS) == 2 + 2  # the refused duplicate, then part 3


def test_a_part_x_posted_despite_answering_503_is_found_on_retry_not_posted_twice(
    x: XEmulator, progress: DraftProgress
) -> None:
    x.lost_answers = 1  # part 1 is posted, but the answer says 503

    publisher(x, retry_delays=(0.0,)).publish(DRAFT, progress)

    assert len(x.tweets) == 3 and x.thread() == list(DRAFT.tweets)
    assert progress.posted_parts() == [tweet.id for tweet in x.tweets]
    assert x.calls("POST", POSTS) == 4 and x.calls("GET", r"^/2/users/\d+/tweets$") == 1


def test_a_duplicate_that_is_not_in_the_thread_is_reported_and_nothing_is_posted_twice(
    x: XEmulator, progress: DraftProgress
) -> None:
    stray = x.add_tweet(DRAFT.tweets[1])  # the same text posted on its own, not as a reply to part 1

    with pytest.raises(PublishError) as refused:
        publisher(x).publish(DRAFT, progress)

    message = str(refused.value)
    assert "part 2 of 3" in message and "appears to be posted already" in message
    assert "@guildflow_bot" in message and "delete any earlier post with the same text" in message
    assert not refused.value.transient
    assert [tweet.text for tweet in x.tweets] == [stray.text, DRAFT.tweets[0]]


def test_posting_waits_until_the_rate_limit_resets(x: XEmulator, progress: DraftProgress) -> None:
    reset = x.limit_posts(seconds=0.5)

    publisher(x).publish(DRAFT, progress)

    assert x.calls("POST", POSTS) == 1 + 3  # one 429, then each part once
    assert len(x.tweets) == 3 and x.tweets[0].received_at >= reset


def test_a_rate_limit_reset_beyond_the_cap_is_a_transient_error_naming_the_time(
    x: XEmulator, progress: DraftProgress
) -> None:
    x.limit_posts(seconds=3600)

    with pytest.raises(PublishError, match=r"until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00") as limited:
        publisher(x, rate_limit_wait_cap=60).publish(DRAFT, progress)

    assert limited.value.transient
    assert x.tweets == [] and x.calls("POST", POSTS) == 1


def test_wrong_secrets_are_a_clear_401_that_shows_no_secret(x: XEmulator, progress: DraftProgress) -> None:
    wrong = Credentials(api_secret="wrong-api-secret-9f8e", access_token_secret="wrong-token-secret-7d6c")
    client = publisher(x, wrong)

    for attempt in (client.check, lambda: client.publish(DRAFT, progress)):
        with pytest.raises(PublishError) as refused:
            attempt()
        message = str(refused.value)
        assert "401" in message and not refused.value.transient
        for variable in ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
            assert f"GUILDFLOW_X_{variable}" in message
        for value in astuple(wrong) + astuple(x.credentials):
            assert value not in message
    assert x.calls("POST") == 0 and x.tweets == []


def test_an_app_without_write_permission_is_told_to_enable_read_and_write(
    x: XEmulator, progress: DraftProgress
) -> None:
    x.read_only = True
    with pytest.raises(PublishError, match="403.*'Read and write'.*regenerate the access token"):
        publisher(x).publish(DRAFT, progress)
    assert x.tweets == []


def test_a_part_longer_than_x_allows_stops_the_thread_before_anything_is_posted(
    x: XEmulator, progress: DraftProgress
) -> None:
    too_long = Draft(id="long", tweets=("fine (1/2)", "y" * 281), post_links=())
    with pytest.raises(PublishError, match="part 2 of 2 .* 281 characters .*limit 280.*nothing was posted"):
        publisher(x).publish(too_long, progress)
    assert x.calls("POST") == 0


def test_a_part_x_would_refuse_for_its_characters_stops_the_thread_before_anything_is_posted(
    x: XEmulator, progress: DraftProgress
) -> None:
    within_the_limit = Draft(id="bom", tweets=("fine (1/2)", "\ufeffsecond (2/2)"), post_links=())
    refused = r"part 2 of 2 .* contains characters X refuses \(U\+FEFF\).*nothing was posted"
    with pytest.raises(PublishError, match=refused):
        publisher(x).publish(within_the_limit, progress)
    assert x.calls("POST") == 0


def test_a_reply_to_a_deleted_post_is_explained(x: XEmulator, progress: DraftProgress) -> None:
    progress.record_part(0, "1799999999999999999")  # part 1, since deleted on x.com
    with pytest.raises(PublishError, match="post part 2 of 3 \\(400: .*does not exist\\).*deleted"):
        publisher(x).publish(DRAFT, progress)
    assert x.tweets == []


def test_check_names_the_account_and_posts_nothing(x: XEmulator) -> None:
    client = publisher(x)
    assert client.check() == "posting as @guildflow_bot"
    assert x.url in client.describe()
    assert x.calls("POST") == 0


def test_the_emulator_counts_length_and_checks_signatures_like_x(x: XEmulator) -> None:
    credentials = [SecretStr(value) for value in astuple(x.credentials)]
    client = tweepy_client(*credentials, api_base=x.url)
    # A link counts 23 whatever its length; a CJK character counts 2.
    client.create_tweet(text="a" * 200 + " https://example.com/" + "p" * 200)
    client.create_tweet(text="漢" * 140)
    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="字" * 141)
    client.consumer_secret = "not-the-app-secret"  # the signature no longer matches
    with pytest.raises(tweepy.Unauthorized):
        client.get_me()
    assert len(x.tweets) == 2
