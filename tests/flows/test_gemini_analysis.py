"""The daily pipeline with Gemini as the analyser (the emulator), on the shipped sample exports:
batching, Prefect's cache, the rate limits and the daily-quota policy."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import get_client

from integrations.errors import SheetError
from integrations.sheets import SqliteWorkbook
from tasks.analyse import GEMINI_PER_DAY_LIMIT, GEMINI_PER_MINUTE_LIMIT
from tests.emulators.gemini import GeminiEmulator
from tests.flows.test_daily_pipeline import SAMPLE_POSTS, phase, run
from tests.prefect_state import delete_concurrency_limits

KEY = "AIza-flow-test-key"
BATCH = 20
AI_COLUMNS = ("AI Processed", "AI Project", "AI Summary", "AI Keywords")


@pytest.fixture
def gemini(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_key=KEY).running() as emulator:
        monkeypatch.setenv("GUILDFLOW_ANALYSER_BACKEND", "gemini")
        monkeypatch.setenv("GUILDFLOW_GEMINI_API_KEY", KEY)
        monkeypatch.setenv("GUILDFLOW_GEMINI_API_BASE", emulator.url)
        monkeypatch.setenv("GUILDFLOW_ANALYSIS_BATCH_SIZE", str(BATCH))
        # The limits live on the session's Prefect server: start every test with fresh buckets.
        delete_concurrency_limits(GEMINI_PER_MINUTE_LIMIT, GEMINI_PER_DAY_LIMIT)
        yield emulator


@pytest.fixture
def one_request_per_day(gemini: GeminiEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect's per-day limit has room for the first batch only."""
    monkeypatch.setenv("GUILDFLOW_GEMINI_REQUESTS_PER_DAY", "1")


def book(folder: Path) -> SqliteWorkbook:
    return SqliteWorkbook(folder / "workbook.sqlite")


def analysed_cells(folder: Path) -> dict[str, tuple[str, ...]]:
    rows = book(folder).read_rows("Posts") + book(folder).read_rows("Archive")
    return {row["Post Link"]: tuple(row[column] for column in AI_COLUMNS) for row in rows}


def processed(folder: Path) -> int:
    return sum(1 for cells in analysed_cells(folder).values() if cells[0] == "TRUE")


def test_27_posts_take_two_requests_and_match_the_offline_rows(
    gemini: GeminiEmulator, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_GEMINI_REQUESTS_PER_MINUTE", "7")
    monkeypatch.setenv("GUILDFLOW_GEMINI_REQUESTS_PER_DAY", "99")
    completed, report = run()
    assert completed and report.new_posts == SAMPLE_POSTS and report.analysed == SAMPLE_POSTS
    assert gemini.generate_calls() == 2  # ceil(27 / 20)
    assert [len(gemini.sent_posts(0)), len(gemini.sent_posts(1))] == [BATCH, SAMPLE_POSTS - BATCH]

    with get_client(sync_client=True) as client:
        per_minute = client.read_global_concurrency_limit_by_name(GEMINI_PER_MINUTE_LIMIT)
        per_day = client.read_global_concurrency_limit_by_name(GEMINI_PER_DAY_LIMIT)
    assert (per_minute.limit, per_minute.slot_decay_per_second) == (7, pytest.approx(7 / 60))
    assert (per_day.limit, per_day.slot_decay_per_second) == (99, pytest.approx(99 / 86400))

    offline = guildflow_env / "offline"
    monkeypatch.setenv("GUILDFLOW_ANALYSER_BACKEND", "offline")
    for name, path in [("WORKBOOK", "workbook.sqlite"), ("OUTBOX", "outbox"), ("LEDGER", "ledger.sqlite")]:
        monkeypatch.setenv(f"GUILDFLOW_{name}", str(offline / path))
    assert run()[0]
    assert analysed_cells(guildflow_env) == analysed_cells(offline)


def test_rerun_after_a_failed_save_asks_the_model_nothing(
    gemini: GeminiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self, posts):
        raise SheetError("workbook is locked")

    with monkeypatch.context() as patch:
        patch.setattr(SqliteWorkbook, "update_results", refuse)  # fails after analysing
        completed, _ = run()
    assert not completed and gemini.generate_calls() == 2

    completed, report = run()
    assert completed and report.analysed == SAMPLE_POSTS
    assert gemini.generate_calls() == 2  # both batches came from Prefect's cache


@pytest.mark.usefixtures("one_request_per_day")
def test_daily_quota_spent_with_continue_leaves_the_rest_for_the_next_run(
    gemini: GeminiEmulator, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    completed, report = run()
    assert completed
    assert gemini.generate_calls() == 1
    assert report.analysed == BATCH and processed(guildflow_env) == BATCH
    left = SAMPLE_POSTS - BATCH
    assert f"daily Gemini quota spent: {left} posts wait for the next run" in phase(report, "analyse").detail
    assert [p.ai_processed for p in book(guildflow_env).read_posts().posts].count(False) == left

    monkeypatch.setenv("GUILDFLOW_GEMINI_REQUESTS_PER_DAY", "250")  # a bigger budget: the limit is updated
    completed, report = run()
    assert completed and report.analysed == left and gemini.generate_calls() == 2
    assert processed(guildflow_env) == SAMPLE_POSTS


@pytest.mark.usefixtures("one_request_per_day")
def test_daily_quota_spent_with_fail_fails_the_run(
    gemini: GeminiEmulator, guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_GEMINI_ON_QUOTA_EXHAUSTED", "fail")
    completed, report = run()
    assert not completed
    assert [p.name for p in report.failed_phases] == ["analyse"]
    detail = phase(report, "analyse").detail
    assert f"daily Gemini quota spent: {SAMPLE_POSTS - BATCH} posts wait" in detail
    assert "GUILDFLOW_GEMINI_REQUESTS_PER_DAY" in detail and KEY not in detail
    assert gemini.generate_calls() == 1 and processed(guildflow_env) == BATCH  # what was paid for is saved


def test_an_unusable_answer_is_not_cached_and_its_posts_are_asked_again(
    gemini: GeminiEmulator, guildflow_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gemini.rewrite_answers(lambda answers: answers if len(answers) == BATCH else '[{"post_link": ', times=2)
    with caplog.at_level(logging.WARNING):
        completed, report = run()
    assert completed and report.analysed == BATCH
    assert f"{SAMPLE_POSTS - BATCH} left unprocessed" in phase(report, "analyse").detail
    unanswered = [post["post_link"] for post in gemini.sent_posts(1)]
    for link in unanswered:
        assert f"left unprocessed: {link} (Gemini's answer for the batch is not valid JSON)" in caplog.text

    completed, report = run()  # the same 7 posts form the same batch: a cached failure would stick
    assert completed and report.analysed == SAMPLE_POSTS - BATCH
    assert gemini.generate_calls() == 3 and processed(guildflow_env) == SAMPLE_POSTS
