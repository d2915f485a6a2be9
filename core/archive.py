"""Which processed rows leave Posts for Archive, and in which order."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Post


@dataclass(frozen=True)
class ArchivePlan:
    """Copy first, then delete: a crash in between leaves a row in both sheets, never in none,
    and the next run skips the copy for rows already archived."""

    copy: list[Post]
    delete: list[str]  # post links


def ready_to_archive(post: Post) -> bool:
    """Analysed, and either not a project or already published with a receipt."""
    return post.ai_processed and (not post.ai_project or bool(post.publication_receipt))


def plan_archive(posts: list[Post], archived_links: set[str]) -> ArchivePlan:
    ready = [post for post in posts if ready_to_archive(post)]
    return ArchivePlan(
        copy=[post for post in ready if post.post_link not in archived_links],
        delete=[post.post_link for post in ready],
    )
