"""The daily pipeline on the embedded defaults and the shipped sample exports."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prefect.artifacts import Artifact

from core.report import PipelineFailed, PipelineReport
from flows.daily import daily_pipeline
from integrations.analysis import OfflineAnalyser
from integrations.errors import AnalyserError, PublishError, SheetError
from integrations.ledger import PublishLedger
from integrations.publishers import OutboxPublisher
from integrations.sheets import SqliteWorkbook
from tasks.report import REPORT_ARTIFACT_KEY
from tests.conftest import SAMPLE_EXPORTS

# Facts of examples/discord: 27 distinct posts, 7 more sightings of posts already seen (one of them the
# XFeed bot's repost: bot messages are collected by default).
SAMPLE_POSTS, SAMPLE_DUPLICATES = 27, 7


def run() -> tuple[bool, PipelineReport]:
    state = daily_pipeline(return_state=True)
    outcome = state.result(raise_on_failure=False)
    report = outcome.report if isinstance(outcome, PipelineFailed) else outcome
    assert isinstance(report, PipelineReport), f"flow ended without a report: {outcome!r}"
    return state.is_completed(), report


def outbox_files(folder: Path) -> list[Path]:
    return sorted((folder / "outbox").glob("*.json")) if (folder / "outbox").exists() else []


def phase(report: PipelineReport, name: str):
    return next(p for p in report.phases if p.name == name)


def test_first_run_collects_analyses_publishes_and_archives(guildflow_env: Path) -> None:
    completed, report = run()
    assert completed
    assert (report.new_posts, report.duplicates_skipped) == (SAMPLE_POSTS, SAMPLE_DUPLICATES)
    assert report.analysed == SAMPLE_POSTS and report.projects_found >= 8
    [published] = outbox_files(guildflow_env)
    assert report.receipt == f"outbox:{published.name}"
    assert report.archived == SAMPLE_POSTS

    book = SqliteWorkbook(guildflow_env / "workbook.sqlite")
    assert book.read_posts().posts == []
    record = json.loads(published.read_text())
    assert len(record["post_links"]) == report.projects_found
    assert book.archived_links() >= set(record["post_links"])

    artifact = Artifact.get(REPORT_ARTIFACT_KEY)
    assert artifact is not None and f"| new posts | {SAMPLE_POSTS} |" in artifact.data


def test_second_run_finds_nothing_new_and_publishes_nothing(guildflow_env: Path) -> None:
    run()
    completed, report = run()
    assert completed
    assert (report.new_posts, report.analysed, report.archived, report.receipt) == (0, 0, 0, "")
    assert report.duplicates_skipped == 0  # the cursor skipped every message already read
    assert phase(report, "publish").detail == "nothing to publish"
    assert len(outbox_files(guildflow_env)) == 1


def test_lookback_rerun_sees_old_posts_as_duplicates(guildflow_env: Path) -> None:
    run()
    report = daily_pipeline(collection_mode="days", lookback=3650)
    assert report.new_posts == 0 and report.duplicates_skipped == SAMPLE_POSTS + SAMPLE_DUPLICATES


def test_a_failed_phase_lets_safe_phases_run_and_fails_the_run(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(self, posts, mode):
        raise AnalyserError("analyser unavailable: check GUILDFLOW_ANALYSER")

    with monkeypatch.context() as patch:
        patch.setattr(OfflineAnalyser, "analyse", unavailable)
        completed, report = run()
    assert not completed
    assert [p.name for p in report.failed_phases] == ["analyse"]
    assert "analyser unavailable" in phase(report, "analyse").detail
    assert phase(report, "collect").ok and phase(report, "archive").ok
    assert report.new_posts == SAMPLE_POSTS and report.receipt == "" and report.archived == 0
    assert len(SqliteWorkbook(guildflow_env / "workbook.sqlite").read_posts().posts) == SAMPLE_POSTS
    assert outbox_files(guildflow_env) == []

    completed, report = run()  # same files: this run picks up where the failed one stopped
    assert completed and report.analysed == SAMPLE_POSTS and report.archived == SAMPLE_POSTS
    assert len(outbox_files(guildflow_env)) == 1


def test_crash_after_publishing_never_publishes_twice(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self, draft, receipt):
        raise PublishError("simulated crash after the post went out")

    with monkeypatch.context() as patch:
        patch.setattr(PublishLedger, "record", crash)
        completed, report = run()
    assert not completed and [p.name for p in report.failed_phases] == ["publish"]
    [published] = outbox_files(guildflow_env)
    assert report.archived < SAMPLE_POSTS  # projects wait for their receipt; the rest is archived

    completed, report = run()
    assert completed
    assert outbox_files(guildflow_env) == [published]
    assert report.receipt == f"outbox:{published.name}"
    assert SqliteWorkbook(guildflow_env / "workbook.sqlite").read_posts().posts == []


def test_a_retried_publish_task_publishes_once(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_record, calls = PublishLedger.record, []

    def flaky(self, draft, receipt):
        calls.append(receipt)
        if len(calls) == 1:
            raise ConnectionError("ledger went away")  # transient: the task retries
        real_record(self, draft, receipt)

    monkeypatch.setattr(PublishLedger, "record", flaky)
    completed, report = run()
    assert completed
    assert len(calls) == 2 and calls[0] == calls[1]
    assert len(outbox_files(guildflow_env)) == 1


def test_rerun_after_a_failure_pays_no_analysis_twice(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_analyse, calls = OfflineAnalyser.analyse, []

    def counting(self, posts, mode):
        calls.append(len(posts))
        return real_analyse(self, posts, mode)

    def refuse(self, posts):
        raise SheetError("workbook is locked")

    monkeypatch.setattr(OfflineAnalyser, "analyse", counting)
    with monkeypatch.context() as patch:
        patch.setattr(SqliteWorkbook, "update_results", refuse)  # fails after analysing
        completed, _ = run()
    assert not completed and sum(calls) == SAMPLE_POSTS

    completed, report = run()
    assert completed and report.analysed == SAMPLE_POSTS
    assert sum(calls) == SAMPLE_POSTS  # every batch came from Prefect's cache


def test_bad_configuration_fails_before_anything_is_written(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_TIMEZONE", "Mars/Olympus")
    state = daily_pipeline(return_state=True)
    assert state.is_failed()
    assert "GUILDFLOW_TIMEZONE" in str(state.result(raise_on_failure=False))
    assert not (guildflow_env / "workbook.sqlite").exists()


def test_an_interrupted_publication_is_finished_before_new_projects(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = copied_sample_exports(guildflow_env, monkeypatch)

    def interrupted(self, draft, progress):
        raise PublishError("publisher went away half-way")

    with monkeypatch.context() as patch:
        patch.setattr(OutboxPublisher, "publish", interrupted)
        completed, first = run()
    assert not completed and [p.name for p in first.failed_phases] == ["publish"]
    begun = PublishLedger(guildflow_env / "ledger.sqlite").unfinished_draft()
    assert begun is not None

    (exports / "later.json").write_text(json.dumps(later_export()))
    completed, second = run()
    assert completed and second.new_posts == 1 and second.projects_found == 1
    assert outbox_files(guildflow_env) == [guildflow_env / "outbox" / f"{begun.id}.json"]

    completed, third = run()
    assert completed and third.receipt and len(outbox_files(guildflow_env)) == 2
    assert SqliteWorkbook(guildflow_env / "workbook.sqlite").read_posts().posts == []


def test_a_draft_another_run_is_publishing_is_left_to_it_and_said_so(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_PUBLISH_WAIT_SECONDS", "0")

    def interrupted(self, draft, progress):
        raise PublishError("publisher went away half-way")

    with monkeypatch.context() as patch:
        patch.setattr(OutboxPublisher, "publish", interrupted)
        run()
    ledger = PublishLedger(guildflow_env / "ledger.sqlite")
    begun = ledger.unfinished_draft()
    assert begun is not None and ledger.claim(begun, "flow run elsewhere").taken  # in a process still running

    completed, report = run()

    assert completed and report.receipt == "" and outbox_files(guildflow_env) == []
    detail = phase(report, "publish").detail
    assert phase(report, "publish").ok
    assert detail.startswith(f"publishing of draft {begun.id} is in progress in another run (flow run elsewhere")
    waiting = [post for post in SqliteWorkbook(guildflow_env / "workbook.sqlite").read_posts().posts if post.ai_project]
    assert {post.post_link for post in waiting} == set(begun.post_links)  # kept for their receipt

    ledger.release(begun, "flow run elsewhere")  # that run failed
    completed, report = run()
    assert completed and report.receipt == f"outbox:{begun.id}.json"
    assert SqliteWorkbook(guildflow_env / "workbook.sqlite").read_posts().posts == []


def later_export() -> dict:
    """One more message, after the sample's, announcing a new project."""
    return {
        "guild": {"id": "820713432859803648", "name": "Guildflow Demo"},
        "channel": {"id": "981876285754048512", "name": "web3-alpha"},
        "messages": [
            {
                "id": "1573986395750400000",  # 2026-11-22T09:00Z as a snowflake
                "timestamp": "2026-11-22T09:00:00.000+00:00",
                "timestampEdited": None,
                "content": "new one https://x.com/tidal_fi/status/2124000000000000001",
                "author": {"id": "42", "name": "alice", "isBot": False},
                "embeds": [
                    {
                        "url": "https://x.com/tidal_fi/status/2124000000000000001",
                        "description": "Introducing Tidal: a restaking protocol. Mainnet is live.",
                    }
                ],
            }
        ],
    }


def copied_sample_exports(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exports = folder / "exports"
    exports.mkdir()
    for sample in Path(SAMPLE_EXPORTS).parent.glob("*.json"):
        (exports / sample.name).write_bytes(sample.read_bytes())
    monkeypatch.setenv("GUILDFLOW_DISCORD_EXPORT", str(exports / "*.json"))
    return exports


def feed_bot_export(is_bot: object) -> dict:
    """A feed bot (TweetShift) relaying a followed account's tweet: an embed and no text of its own."""
    document = later_export()
    [message] = document["messages"]
    message["content"] = ""
    message["author"] = {"id": "77", "name": "TweetShift", "isBot": is_bot}
    return document


def test_a_message_not_understood_fails_collection_and_is_collected_once_fixed(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = copied_sample_exports(guildflow_env, monkeypatch)
    (exports / "feed.json").write_text(json.dumps(feed_bot_export(is_bot="false")))
    completed, report = run()
    assert not completed and [p.name for p in report.failed_phases] == ["collect"]
    detail = phase(report, "collect").detail
    assert "feed.json" in detail and "message 1573986395750400000" in detail and "author.isBot" in detail
    assert SqliteWorkbook(guildflow_env / "workbook.sqlite").read_cursors() == {}  # no cursor moved past it

    (exports / "feed.json").write_text(json.dumps(feed_bot_export(is_bot=True)))
    completed, report = run()
    assert completed and report.new_posts == SAMPLE_POSTS + 1  # the bot's link included, by default
    archived = SqliteWorkbook(guildflow_env / "workbook.sqlite").read_rows("Archive")
    [relayed] = [row for row in archived if row["Author"] == "TweetShift"]
    assert relayed["Content"] == "Introducing Tidal: a restaking protocol. Mainnet is live."


def test_a_row_edited_by_hand_is_reported_every_run_and_left_alone(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(self, posts, mode):
        raise AnalyserError("analyser unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(OfflineAnalyser, "analyse", unavailable)
        run()  # every post stays in Posts, unanalysed
    book = SqliteWorkbook(guildflow_env / "workbook.sqlite")
    with sqlite3.connect(book.path) as db:
        db.execute('UPDATE "Posts" SET "Post Link" = ? WHERE rowid = 3', ("see sheet",))
    edited = book.read_rows("Posts")[2]

    for _ in range(2):
        completed, report = run()
        assert completed
        [skipped] = report.unreadable_rows
        assert (skipped.worksheet, skipped.row, skipped.column, skipped.value) == ("Posts", 3, "Post Link", "see sheet")
        assert "Posts row 3: Post Link 'see sheet'" in report.to_markdown()
        assert book.read_rows("Posts") == [edited]
    assert report.archived == 0 and len(book.read_rows("Archive")) == SAMPLE_POSTS - 1


def test_projects_beyond_the_tweet_budget_wait_in_the_sheet_for_the_next_daily_post(
    guildflow_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUILDFLOW_DAILY_POST_MAX_TWEETS", "1")
    book = SqliteWorkbook(guildflow_env / "workbook.sqlite")
    _, first = run()
    [tweet] = json.loads(outbox_files(guildflow_env)[0].read_text())["tweets"]
    left = int(tweet.rsplit("\n+", 1)[1].removesuffix(" more"))
    waiting = book.read_posts().posts
    assert left > 0 and len({post.ai_project for post in waiting}) == left
    assert all(post.ai_project and not post.publication_receipt and not post.daily_post_draft for post in waiting)
    assert first.archived == SAMPLE_POSTS - len(waiting)

    again, report = run()  # the same day: the day's one tweet is out, the projects wait for tomorrow
    assert again and len(outbox_files(guildflow_env)) == 1
    assert "today's tweet budget is spent (1 published today)" in phase(report, "draft").detail
    assert len(book.read_posts().posts) == len(waiting)

    days = 1
    while book.read_posts().posts:  # each later day's run posts one more tweet of the projects still waiting
        days += 1
        _published_a_day_earlier(guildflow_env / "ledger.sqlite")
        assert run()[0] and len(outbox_files(guildflow_env)) == days <= 1 + left
    published = [json.loads(path.read_text()) for path in outbox_files(guildflow_env)]
    assert all(len(record["tweets"]) == 1 for record in published)
    assert len(book.archived_links()) == SAMPLE_POSTS


def _published_a_day_earlier(ledger: Path) -> None:
    """As if every publication so far had happened the day before (the budget is per day)."""
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT draft_id, published_at FROM drafts WHERE published_at IS NOT NULL").fetchall()
        for draft_id, at in rows:
            earlier = (datetime.fromisoformat(at) - timedelta(days=1)).isoformat()
            db.execute("UPDATE drafts SET published_at = ? WHERE draft_id = ?", (earlier, draft_id))
    db.close()


def test_a_typefully_draft_keeps_to_the_same_tweet_budget(guildflow_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.emulators.typefully import TypefullyEmulator

    with TypefullyEmulator().running() as typefully:
        for name, value in {
            "PUBLISHER_BACKEND": "typefully",
            "TYPEFULLY_API_KEY": typefully.api_key,
            "TYPEFULLY_SOCIAL_SET_ID": "4242",
            "TYPEFULLY_API_BASE": typefully.url,
            "DAILY_POST_MAX_TWEETS": "2",
        }.items():
            monkeypatch.setenv(f"GUILDFLOW_{name}", value)
        completed, report = run()
    [created] = typefully.created
    posts = [post["text"] for post in created["platforms"]["x"]["posts"]]
    assert completed and len(posts) == 2 and report.x_cost_usd == 0  # Typefully posts, not our X app
    assert posts[-1].rsplit("\n", 1)[-1].startswith("+") and report.archived < SAMPLE_POSTS
