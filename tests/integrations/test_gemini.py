"""GeminiAnalyser: the real google-genai client against the Gemini emulator."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from core.models import AnalysisInput
from core.offline_analysis import analyse_offline
from integrations.errors import AnalyserError, AnalyserQuotaExhausted
from integrations.gemini import PROMPT_VERSION, GeminiAnalyser
from tests.emulators.base import Fault
from tests.emulators.gemini import GeminiEmulator, api_error, candidate, overloaded, quota_exceeded

KEY = "AIzaSy-test-key-0123456789"
MODEL = "gemini-2.5-flash"
GENERATE = r":generateContent$"

POSTS = [
    AnalysisInput(
        "https://x.com/novaswap_xyz/status/1",
        "big day\n\nIntroducing NovaSwap: our DEX is live on mainnet. $NOVA airdrop for early users!",
        "novaswap_xyz",
    ),
    AnalysisInput("https://x.com/chefmarta/status/2", "made these twice\n\nThe best cookie recipe, ever.", "chefmarta"),
    AnalysisInput(
        "https://x.com/pixelpunksclub/status/3",
        "Pixel Punks NFT mint opens Nov 20, allowlist first. 3,333 punks on Base.",
        "pixelpunksclub",
    ),
    AnalysisInput("https://x.com/i/status/4", "https://x.com/i/status/4", "i"),
]


@pytest.fixture
def gemini() -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_key=KEY).running() as emulator:
        yield emulator


def analyser(emulator: GeminiEmulator, key: str = KEY, model: str = MODEL, **knobs: float) -> GeminiAnalyser:
    knobs = {"retry_attempts": 3, "retry_initial_delay": 0.01, "retry_max_delay": 0.05, "retry_jitter": 0, **knobs}
    return GeminiAnalyser(SecretStr(key), model, emulator.url, **knobs)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["summary", "keywords"])
def test_answers_equal_the_offline_rules_in_one_request(gemini: GeminiEmulator, mode: str) -> None:
    results = analyser(gemini).analyse(POSTS, mode)  # type: ignore[arg-type]
    assert results == {post.post_link: analyse_offline(post.content, post.x_handle, mode) for post in POSTS}  # type: ignore[arg-type]
    assert results[POSTS[0].post_link].is_project and not results[POSTS[1].post_link].is_project
    assert gemini.generate_calls() == 1 and gemini.calls() == 1

    body = gemini.requests[-1].json()
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["generationConfig"]["responseSchema"]["type"] == "ARRAY"
    assert gemini.requests[-1].headers["x-goog-api-key"] == KEY


def test_a_whole_batch_is_one_request(gemini: GeminiEmulator) -> None:
    posts = [AnalysisInput(f"https://x.com/h/status/{n}", f"post {n}: testnet is live", "h") for n in range(40)]
    results = analyser(gemini).analyse(posts, "keywords")
    assert len(results) == 40 and not any(analysis.error for analysis in results.values())
    assert gemini.generate_calls() == 1 and len(gemini.sent_posts()) == 40


def test_version_describe_and_nothing_sent_for_no_posts(gemini: GeminiEmulator) -> None:
    client = analyser(gemini)
    assert client.version == f"gemini:{MODEL}:{PROMPT_VERSION}"
    assert MODEL in client.describe() and KEY not in client.describe() + repr(client)
    assert client.analyse([], "summary") == {}
    assert gemini.calls() == 0


def test_a_partial_answer_leaves_only_the_missing_posts_unprocessed(gemini: GeminiEmulator) -> None:
    gemini.rewrite_answers(lambda answers: answers[:2])
    results = analyser(gemini).analyse(POSTS, "summary")
    assert [results[post.post_link].error for post in POSTS[:2]] == ["", ""]
    assert [results[post.post_link].error for post in POSTS[2:]] == ["Gemini's answer left this post out"] * 2


def test_malformed_answers_mark_only_their_posts(gemini: GeminiEmulator) -> None:
    def spoil(answers: list[dict]) -> list[dict]:
        answers[0]["keywords"] = ["only", "Only ", "two", " "]
        answers[1]["is_crypto_project"] = "perhaps"
        answers[2]["keywords"] = ["Mint", "NFT", "allowlist", "base"]  # case is normalised, not an error
        answers.append({"post_link": "https://x.com/someone/status/99", "summary": "not asked"})
        return answers

    gemini.rewrite_answers(spoil)
    results = analyser(gemini).analyse(POSTS, "keywords")
    assert results[POSTS[0].post_link].error == "Gemini gave 2 distinct keywords (3-5 expected)"
    assert results[POSTS[1].post_link].error.startswith("Gemini's answer for this post is malformed (is_crypto_project")
    assert results[POSTS[2].post_link].keywords == ("mint", "nft", "allowlist", "base")
    assert not results[POSTS[3].post_link].error
    assert set(results) == {post.post_link for post in POSTS}


def test_a_too_long_summary_is_rejected(gemini: GeminiEmulator) -> None:
    gemini.rewrite_answers(lambda answers: [{**answers[0], "summary": "word " * 60}, *answers[1:]])
    results = analyser(gemini).analyse(POSTS, "summary")
    assert results[POSTS[0].post_link].error == "Gemini's summary is 299 characters long (at most 200)"
    assert not any(results[post.post_link].error for post in POSTS[1:])


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (candidate("[{not json"), "Gemini's answer for the batch is not valid JSON"),
        (candidate('{"post_link": "x"}'), "Gemini's answer for the batch is not a JSON list"),
        (candidate('[{"post_link": "https://x.com/a', "MAX_TOKENS"), "lower GUILDFLOW_ANALYSIS_BATCH_SIZE"),
    ],
)
def test_an_unusable_answer_marks_the_whole_batch(gemini: GeminiEmulator, answer, reason: str) -> None:
    gemini.fail_next(Fault(answer, path_pattern=GENERATE))
    results = analyser(gemini).analyse(POSTS, "summary")
    assert set(results) == {post.post_link for post in POSTS}
    assert all(reason in analysis.error and not analysis.is_project for analysis in results.values())


def test_per_minute_429_and_503_are_retried_by_the_sdk(gemini: GeminiEmulator) -> None:
    gemini.fail_next(Fault(quota_exceeded("minute"), path_pattern=GENERATE))
    gemini.fail_next(Fault(overloaded(), path_pattern=GENERATE))
    results = analyser(gemini).analyse(POSTS, "summary")
    assert not any(analysis.error for analysis in results.values())
    assert gemini.generate_calls() == 3


def test_per_minute_429_beyond_the_retries_is_transient(gemini: GeminiEmulator) -> None:
    gemini.fail_next(Fault(quota_exceeded("minute"), path_pattern=GENERATE, times=3))
    with pytest.raises(AnalyserError) as raised:
        analyser(gemini).analyse(POSTS, "summary")
    assert not isinstance(raised.value, AnalyserQuotaExhausted)
    assert raised.value.transient and "GUILDFLOW_GEMINI_REQUESTS_PER_MINUTE" in str(raised.value)
    assert gemini.generate_calls() == 3


def test_a_spent_daily_quota_raises_quota_exhausted(gemini: GeminiEmulator) -> None:
    gemini.requests_per_day = 1
    client = analyser(gemini)
    client.analyse(POSTS[:1], "summary")
    with pytest.raises(AnalyserQuotaExhausted) as raised:
        client.analyse(POSTS[1:], "summary")
    message = str(raised.value)
    assert "daily request quota" in message and "GenerateRequestsPerDayPerProjectPerModel-FreeTier" in message
    assert "GUILDFLOW_GEMINI_REQUESTS_PER_DAY" in message and not raised.value.transient


def test_a_per_day_fault_is_told_apart_from_a_per_minute_one(gemini: GeminiEmulator) -> None:
    gemini.fail_next(Fault(quota_exceeded("day"), path_pattern=GENERATE, times=3))
    with pytest.raises(AnalyserQuotaExhausted):
        analyser(gemini).analyse(POSTS, "keywords")


def test_check_reads_the_model_and_writes_nothing(gemini: GeminiEmulator) -> None:
    assert analyser(gemini).check() == f"model {MODEL} (Gemini 2.5 Flash) is available to this key"
    assert gemini.calls("GET", rf"/models/{MODEL}$") == 1 and gemini.calls("POST") == 0


@pytest.mark.parametrize("operation", ["check", "analyse"])
def test_a_bad_key_names_the_fix_and_never_the_key(gemini: GeminiEmulator, operation: str) -> None:
    wrong = "AIzaSy-wrong-key-9876543210"
    client = analyser(gemini, key=wrong)
    with pytest.raises(AnalyserError) as raised:
        client.check() if operation == "check" else client.analyse(POSTS, "summary")
    message = str(raised.value)
    assert "rejected the API key" in message and "GUILDFLOW_GEMINI_API_KEY" in message
    assert "aistudio.google.com/apikey" in message and wrong not in message and not raised.value.transient


def test_a_refused_or_empty_key_names_the_fix(gemini: GeminiEmulator) -> None:
    leaked = api_error(403, "PERMISSION_DENIED", "Your API key was reported as leaked. Please use another API key.")
    gemini.fail_next(Fault(leaked))
    with pytest.raises(AnalyserError) as raised:
        analyser(gemini).check()
    assert "reported as leaked" in str(raised.value) and "GUILDFLOW_GEMINI_API_KEY" in str(raised.value)
    with pytest.raises(AnalyserError, match="key is empty.*GUILDFLOW_GEMINI_API_KEY"):
        analyser(gemini, key="")


@pytest.mark.parametrize("operation", ["check", "analyse"])
def test_an_unknown_model_says_how_to_fix_the_setting(gemini: GeminiEmulator, operation: str) -> None:
    client = analyser(gemini, model="gemini-1.0-pro")
    with pytest.raises(AnalyserError) as raised:
        client.check() if operation == "check" else client.analyse(POSTS, "summary")
    message = str(raised.value)
    assert "'gemini-1.0-pro' does not exist or was retired" in message
    assert "GUILDFLOW_GEMINI_MODEL" in message and "retired often" in message and KEY not in message


def test_check_refuses_a_model_that_cannot_generate_text(gemini: GeminiEmulator) -> None:
    with pytest.raises(AnalyserError, match="cannot generate text.*GUILDFLOW_GEMINI_MODEL"):
        analyser(gemini, model="gemini-embedding-001").check()


def test_an_unreachable_api_base_is_transient_and_names_the_setting() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the client connects
    client = GeminiAnalyser(
        SecretStr(KEY), MODEL, f"http://127.0.0.1:{port}", retry_attempts=2, retry_initial_delay=0.01, retry_jitter=0
    )
    with pytest.raises(AnalyserError) as raised:
        client.analyse(POSTS, "summary")
    assert raised.value.transient and "GUILDFLOW_GEMINI_API_BASE" in str(raised.value)


def test_a_timeout_is_transient(gemini: GeminiEmulator) -> None:
    gemini.fail_next(Fault(hold_seconds=5, path_pattern=GENERATE))
    with pytest.raises(AnalyserError) as raised:
        analyser(gemini, retry_attempts=1, timeout_seconds=0.3).analyse(POSTS, "summary")
    assert raised.value.transient and "ReadTimeout" in str(raised.value)


def test_the_prompt_carries_the_posts_as_json_and_the_mode(gemini: GeminiEmulator) -> None:
    analyser(gemini).analyse(POSTS[:2], "keywords")
    instructions, posts = (part["text"] for part in gemini.requests[-1].json()["contents"][-1]["parts"])
    assert "Mode: keywords" in instructions and "3-5 lowercase keywords" in instructions
    assert json.loads(posts) == [
        {"post_link": post.post_link, "x_handle": post.x_handle, "content": post.content} for post in POSTS[:2]
    ]
