"""Post analysis (Gemini). Embedded default: the deterministic offline rules in core."""

from __future__ import annotations

from typing import Protocol

from core.models import Analysis, AnalysisInput
from core.offline_analysis import OFFLINE_ANALYSER_VERSION, AnalysisMode, analyse_offline


class Analyser(Protocol):
    @property
    def version(self) -> str:
        """Changes whenever the same input could get a different answer: part of the cache key."""
        ...

    def describe(self) -> str: ...

    def check(self) -> str: ...

    def analyse(self, posts: list[AnalysisInput], mode: AnalysisMode) -> dict[str, Analysis]:
        """One Analysis per post link; a post the service could not judge gets Analysis.error set."""
        ...


class OfflineAnalyser:
    version = OFFLINE_ANALYSER_VERSION

    def describe(self) -> str:
        return f"offline rules ({self.version}), no model"

    def check(self) -> str:
        return "ready (needs no account)"

    def analyse(self, posts: list[AnalysisInput], mode: AnalysisMode) -> dict[str, Analysis]:
        return {post.post_link: analyse_offline(post.content, post.x_handle, mode) for post in posts}
