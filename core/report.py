"""The run report: what each phase did, as numbers a community admin can check."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import UserFacingError
from core.sheet import SkippedRow


@dataclass(frozen=True)
class CollectResult:
    messages_read: int
    new_posts: int
    duplicates_skipped: int
    unreadable_rows: tuple[SkippedRow, ...] = ()  # Post Link cells of Posts or Archive that hold no status link

    def summary(self) -> str:
        return (
            f"{self.messages_read} messages, {self.new_posts} new posts, {self.duplicates_skipped} duplicates skipped"
            + _unreadable(self.unreadable_rows)
        )


@dataclass(frozen=True)
class AnalyseResult:
    analysed: int
    projects: int
    left_unprocessed: int
    note: str = ""  # why some posts wait, e.g. the daily quota is spent

    def summary(self) -> str:
        left = f", {self.left_unprocessed} left unprocessed" if self.left_unprocessed else ""
        note = f"; {self.note}" if self.note else ""
        return f"{self.analysed} posts analysed, {self.projects} projects{left}{note}"


@dataclass(frozen=True)
class PublishResult:
    receipt: str  # empty when this run published nothing
    already_published: bool = False
    not_published: str = ""  # why this run published nothing (another run holds the draft)
    tweets: int = 0  # how many this run published
    x_cost_usd: float = 0.0  # their estimated price on X's pay-per-use plan

    def summary(self) -> str:
        if self.not_published:
            return self.not_published
        if self.already_published:
            return f"already published as {self.receipt}"
        cost = f", est. ${self.x_cost_usd:.2f} on X" if self.x_cost_usd else ""
        return f"published as {self.receipt} ({self.tweets} tweet(s){cost})"


@dataclass(frozen=True)
class ArchiveResult:
    archived: int
    unreadable_rows: tuple[SkippedRow, ...] = ()  # Posts rows left where they are

    def summary(self) -> str:
        return f"{self.archived} rows moved to Archive" + _unreadable(self.unreadable_rows)


def _unreadable(rows: tuple[SkippedRow, ...]) -> str:
    return f", {len(rows)} unreadable rows left alone" if rows else ""


@dataclass(frozen=True)
class PhaseOutcome:
    name: str
    ok: bool
    detail: str  # a short summary on success, the error on failure


@dataclass
class PipelineReport:
    messages_read: int = 0
    new_posts: int = 0
    duplicates_skipped: int = 0
    analysed: int = 0
    projects_found: int = 0
    receipt: str = ""
    x_cost_usd: float = 0.0
    archived: int = 0
    runtime_seconds: float = 0.0
    phases: list[PhaseOutcome] = field(default_factory=list)
    unreadable_rows: list[SkippedRow] = field(default_factory=list)

    def fill_from(
        self,
        collected: CollectResult | None,
        analysed: AnalyseResult | None,
        published: PublishResult | None,
        archived: ArchiveResult | None,
    ) -> None:
        """Take the figures of the phases that completed (a failed phase contributes nothing)."""
        if collected:
            self.messages_read = collected.messages_read
            self.new_posts = collected.new_posts
            self.duplicates_skipped = collected.duplicates_skipped
        if analysed:
            self.analysed, self.projects_found = analysed.analysed, analysed.projects
        if published:
            self.receipt, self.x_cost_usd = published.receipt, published.x_cost_usd
        if archived:
            self.archived = archived.archived
        # A bad Post Link cell is seen by both collect and archive: each row is listed once.
        found = [*(collected.unreadable_rows if collected else ()), *(archived.unreadable_rows if archived else ())]
        self.unreadable_rows = list(dict.fromkeys(found))

    @property
    def failed_phases(self) -> list[PhaseOutcome]:
        return [phase for phase in self.phases if not phase.ok]

    def to_markdown(self) -> str:
        status = "failed: " + ", ".join(p.name for p in self.failed_phases) if self.failed_phases else "ok"
        lines = [
            f"# Daily pipeline report ({status})",
            "",
            "| measure | value |",
            "| --- | --- |",
            f"| messages read | {self.messages_read} |",
            f"| new posts | {self.new_posts} |",
            f"| duplicates skipped | {self.duplicates_skipped} |",
            f"| posts analysed | {self.analysed} |",
            f"| projects found | {self.projects_found} |",
            f"| publication receipt | {_cell(self.receipt or 'nothing published')} |",
            f"| estimated cost on X | ${self.x_cost_usd:.2f} |",
            f"| rows archived | {self.archived} |",
            f"| unreadable rows left alone | {len(self.unreadable_rows)} |",
            f"| runtime | {self.runtime_seconds:.1f} s |",
            "",
            "| phase | status | detail |",
            "| --- | --- | --- |",
        ]
        lines += [f"| {p.name} | {'ok' if p.ok else 'FAILED'} | {_cell(p.detail)} |" for p in self.phases]
        if self.unreadable_rows:
            lines += ["", "Rows no run reads until they are fixed (edited by hand?):", ""]
            lines += [f"- {_cell(row.describe())}" for row in self.unreadable_rows]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class PipelineFailed(UserFacingError):
    """The run did what it safely could, but a phase failed; the report says which and why."""

    def __init__(self, report: PipelineReport) -> None:
        names = ", ".join(f"{phase.name} ({phase.detail})" for phase in report.failed_phases)
        super().__init__(f"daily pipeline failed in: {names}")
        self.report = report
