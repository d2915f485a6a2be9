"""The channel-summary flow with Gemini (the emulator) as the summariser: map-reduce requests counted at the
emulator, within the analysis's Prefect rate limits, and none again on a re-run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import get_client

from flows.summary import channel_summary
from tasks.analyse import GEMINI_PER_DAY_LIMIT, GEMINI_PER_MINUTE_LIMIT
from tests.emulators.gemini import GeminiEmulator
from tests.flows.test_channel_summary import CHANNEL, GUILD, conversation, summarise, write_export
from tests.prefect_state import delete_concurrency_limits

KEY = "AIza-summary-flow-key"


@pytest.fixture
def gemini(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_key=KEY).running() as emulator:
        monkeypatch.setenv("GUILDFLOW_ANALYSER_BACKEND", "gemini")
        monkeypatch.setenv("GUILDFLOW_GEMINI_API_KEY", KEY)
        monkeypatch.setenv("GUILDFLOW_GEMINI_API_BASE", emulator.url)
        monkeypatch.setenv("GUILDFLOW_GEMINI_REQUESTS_PER_MINUTE", "600")
        monkeypatch.setenv("GUILDFLOW_GEMINI_REQUESTS_PER_DAY", "77")
        delete_concurrency_limits(GEMINI_PER_MINUTE_LIMIT, GEMINI_PER_DAY_LIMIT)
        export = write_export(guildflow_env / "dev.json", conversation(rounds=3))
        monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(export))
        yield emulator


def test_every_chunk_and_combine_is_one_request_and_a_rerun_sends_none(
    gemini: GeminiEmulator, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_SUMMARY_TOKEN_BUDGET", "200")
    run = summarise(guildflow_env / "out", window="30d", extract_action_items=True)
    assert run.chunks > 1 and run.combines >= 1
    assert gemini.generate_calls() == run.model_calls == run.chunks + run.combines
    [document] = (guildflow_env / "out").glob("*.md")
    assert "**Action items**" in document.read_text() and "owner: bob, due: Friday" in document.read_text()

    with get_client(sync_client=True) as client:
        per_day = client.read_global_concurrency_limit_by_name(GEMINI_PER_DAY_LIMIT)
        per_minute = client.read_global_concurrency_limit_by_name(GEMINI_PER_MINUTE_LIMIT)
    assert (per_day.limit, per_minute.limit) == (77, 600)
    assert per_day.active_slots == run.model_calls  # one slot per request; a day's slots decay slowly

    rerun = summarise(guildflow_env / "out", window="30d", extract_action_items=True)
    assert rerun.model_calls == 0 and gemini.generate_calls() == run.model_calls


def test_a_spent_daily_budget_fails_the_run_with_the_setting_to_change(
    gemini: GeminiEmulator, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_GEMINI_REQUESTS_PER_DAY", "1")
    monkeypatch.setenv("GUILDFLOW_SUMMARY_TOKEN_BUDGET", "200")
    state = channel_summary(GUILD, [str(CHANNEL)], [f"file:{guildflow_env / 'out'}"], window="30d", return_state=True)
    assert state.is_failed()
    assert "GUILDFLOW_GEMINI_REQUESTS_PER_DAY" in str(state.result(raise_on_failure=False))
    assert gemini.generate_calls() == 1 and not (guildflow_env / "out").exists()
