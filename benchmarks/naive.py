"""The baseline: the hand-written script guildflow replaces, on the same real clients and emulators.

It differs from guildflow only where a naive script does: every append writes one row, every model call
asks about one post (and would sleep NAIVE_MODEL_DELAY_SECONDS between calls to stay within 10 requests a
minute), nothing is cached and there is no Prefect. Everything else (reading, dedupe, drafting,
publishing, deleting archived rows) is guildflow's own code, so the comparison isolates batching and caching.
The sleeps are not slept: they are counted and added to the reported seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from benchmarks.common import NAIVE_MODEL_DELAY_SECONDS
from core.analysis import analysis_input, apply_analysis
from core.archive import plan_archive
from core.collection import advance_cursors, collection_window, dedupe_posts, posts_in_messages
from core.draft import Draft
from guildflow.settings import load_settings
from tasks import clients
from tasks.publish import publish_draft, write_draft


@dataclass
class NaiveRun:
    model_calls: int = 0

    @property
    def delay_seconds(self) -> float:
        """What the script would have slept: the fixed delay between consecutive model calls."""
        return NAIVE_MODEL_DELAY_SECONDS * max(self.model_calls - 1, 0)


def collect(now: datetime) -> int:
    """Read the new messages, then append each new post as its own row; returns the rows written."""
    settings = load_settings()
    source, sheet = clients.message_source(settings), clients.sheet(settings)
    cursors = sheet.read_cursors()
    messages = source.read_messages(collection_window("since-last", 24, now), cursors)
    found = dedupe_posts(posts_in_messages(messages, settings.include_bot_messages), sheet.known_status_ids().ids)
    for post in found.new:
        sheet.append_posts([post], {})
    sheet.append_posts([], advance_cursors(cursors, messages))
    return len(found.new)


def analyse(run: NaiveRun) -> int:
    """One model call per unprocessed post, then the results written back; returns the posts analysed."""
    settings = load_settings()
    sheet, analyser = clients.sheet(settings), clients.analyser(settings)
    pending = [post for post in sheet.read_posts().posts if not post.ai_processed]
    answers = {}
    for post in pending:
        answers.update(analyser.analyse([analysis_input(post)], settings.analysis_mode))
        run.model_calls += 1
    analysed = apply_analysis(pending, answers)
    sheet.update_results(analysed)
    return len(analysed)


def archive(now: datetime) -> int:
    """Copy each finished row to Archive with its own append, then delete them from Posts."""
    sheet = clients.sheet(load_settings())
    plan = plan_archive(sheet.read_posts().posts, sheet.archived_links())
    for post in plan.copy:
        sheet.append_archive([post], processed_at=now)
    sheet.delete_posts(plan.delete)
    return len(plan.delete)


def pipeline(run: NaiveRun) -> int:
    """Collect, analyse, draft, publish, archive, as one plain script; returns the rows archived."""
    now = datetime.now(timezone.utc)
    collect(now)
    analyse(run)
    settings = load_settings()
    draft = write_draft.fn(settings, now.date())
    if isinstance(draft, Draft):
        publish_draft.fn(settings, draft)
    return archive(now)
