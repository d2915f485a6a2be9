"""GeminiSummariser: the real google-genai client against the Gemini emulator, with schema-valid, partial,
malformed and cut-off answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import SecretStr

from core.models import DiscordMessage
from core.offline_summary import combine_offline, summarise_offline
from core.summaries import ChannelSummary, SummaryOptions
from integrations.errors import AnalyserError
from integrations.gemini_summary import SUMMARY_PROMPT_VERSION, GeminiSummariser
from tests.emulators.base import Fault
from tests.emulators.gemini import GeminiEmulator, candidate

KEY = "AIzaSy-summary-key-0123456789"
MODEL = "gemini-2.5-flash"
START = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
LINES = [
    ("alice", "The indexer backfill is slow again, the RPC node keeps timing out."),
    ("bob", "We decided to move the indexer backfill to a dedicated RPC node."),
    ("bob", "I'll write the migration plan for the RPC node by Friday."),
    ("carol", "TVL is the total value locked in the pools."),
    ("dave", "Agreed, the dashboard waits until the RPC node migration is done."),
]
MESSAGES = [
    DiscordMessage(1400000000000000001 + n, 0, START + timedelta(minutes=n), 0, author, False, text)
    for n, (author, text) in enumerate(LINES)
]
EVERYTHING = SummaryOptions("detailed", action_items=True, technical_terms=True)


@pytest.fixture
def gemini() -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_key=KEY).running() as emulator:
        yield emulator


def summariser(emulator: GeminiEmulator) -> GeminiSummariser:
    return GeminiSummariser(
        SecretStr(KEY), MODEL, emulator.url, retry_attempts=2, retry_initial_delay=0.01, retry_max_delay=0.02
    )


def test_a_schema_valid_answer_is_the_summary(gemini: GeminiEmulator) -> None:
    summary = summariser(gemini).summarise(MESSAGES, EVERYTHING)
    assert summary == summarise_offline(MESSAGES, EVERYTHING)  # the emulator answers with the offline rules
    assert summary.action_items and summary.technical_terms and gemini.generate_calls() == 1
    config = gemini.requests[-1].json()["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["type"] == "OBJECT" and {"overview", "key_points", "action_items", "technical_terms"} <= set(
        schema["properties"]
    )
    assert summariser(gemini).version == f"gemini:{MODEL}:{SUMMARY_PROMPT_VERSION}"


def test_combining_is_one_request_in_the_same_schema(gemini: GeminiEmulator) -> None:
    parts = [summarise_offline(MESSAGES[:3], EVERYTHING), summarise_offline(MESSAGES[3:], EVERYTHING)]
    assert summariser(gemini).combine(parts, EVERYTHING) == combine_offline(parts, EVERYTHING)
    assert "You combine summaries" in gemini.requests[-1].json()["contents"][0]["parts"][0]["text"]


def test_what_was_not_asked_for_and_invented_ids_are_dropped(gemini: GeminiEmulator) -> None:
    def invent(answer: dict[str, Any]) -> dict[str, Any]:
        answer["key_points"][0]["message_ids"] = ["999", str(MESSAGES[1].id)]
        answer["action_items"] = [{"text": "Do it", "owner": "bob", "due": "", "message_id": "42"}]
        return answer

    gemini.rewrite_summaries(invent)
    summary = summariser(gemini).summarise(MESSAGES, SummaryOptions("brief"))
    assert summary.key_points[0].message_ids == [str(MESSAGES[1].id)]
    assert summary.action_items == [] and summary.technical_terms == []  # not asked for
    prompt = gemini.requests[-1].json()["contents"][0]["parts"][0]["text"]
    assert "- action_items: []" in prompt and "at most 3 points" in prompt


def test_a_partial_answer_keeps_what_is_there(gemini: GeminiEmulator) -> None:
    gemini.rewrite_summaries(lambda answer: {"overview": answer["overview"]})
    summary = summariser(gemini).summarise(MESSAGES, EVERYTHING)
    assert summary == ChannelSummary(overview=summarise_offline(MESSAGES, EVERYTHING).overview)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("The team talked about the indexer.", "does not match the schema"),
        ({"overview": 5}, "does not match the schema (overview: Input should be a valid string)"),
        ({"key_points": []}, "does not match the schema (overview: Field required)"),
    ],
)
def test_a_malformed_answer_is_an_error_worth_a_retry(gemini: GeminiEmulator, answer: Any, says: str) -> None:
    gemini.rewrite_summaries(lambda _: answer)
    with pytest.raises(AnalyserError, match=r"Gemini's summary") as raised:
        summariser(gemini).summarise(MESSAGES, EVERYTHING)
    assert says in str(raised.value) and raised.value.transient


def test_an_answer_cut_off_at_the_output_limit_names_the_budget(gemini: GeminiEmulator) -> None:
    gemini.fail_next(Fault(candidate('{"overview": "The team', "MAX_TOKENS"), path_pattern="generateContent"))
    with pytest.raises(AnalyserError, match="GUILDFLOW_SUMMARY_TOKEN_BUDGET") as raised:
        summariser(gemini).summarise(MESSAGES, EVERYTHING)
    assert not raised.value.transient


def test_a_wrong_key_is_the_analysis_clients_error(gemini: GeminiEmulator) -> None:
    wrong = GeminiSummariser(SecretStr("AIza-wrong"), MODEL, gemini.url, retry_attempts=1)
    with pytest.raises(AnalyserError, match="Gemini rejected the API key") as raised:
        wrong.summarise(MESSAGES, EVERYTHING)
    assert "AIza-wrong" not in str(raised.value)
