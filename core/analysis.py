"""Applying analyser answers to posts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TypeVar

from core.models import Analysis, AnalysisInput, Post

T = TypeVar("T")


def analysis_input(post: Post) -> AnalysisInput:
    return AnalysisInput(post_link=post.post_link, content=post.content, x_handle=post.x_handle)


def batches(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_analysis(posts: list[Post], results: dict[str, Analysis]) -> list[Post]:
    """Posts with their analysis filled in; a post without a usable answer stays unprocessed."""
    updated = []
    for post in posts:
        analysis = results.get(post.post_link)
        if analysis is None or analysis.error:
            continue
        updated.append(
            replace(
                post,
                ai_processed=True,
                ai_project=analysis.project if analysis.is_project else "",
                ai_summary=analysis.summary,
                ai_keywords=", ".join(analysis.keywords),
            )
        )
    return updated
