from core.report import ArchiveResult, CollectResult, PipelineReport
from core.sheet import SkippedRow

BAD_LINK = SkippedRow("Posts", 4, "Post Link", "see | sheet", "is not an X status link")
BAD_DATE = SkippedRow("Posts", 6, "Date", "yesterday", "is not a date")
BAD_KEY = SkippedRow("Archive", 2, "Post Link", "n/a", "is not an X status link")


def test_unreadable_rows_are_listed_once_each_in_the_report() -> None:
    report = PipelineReport()
    report.fill_from(
        collected=CollectResult(3, 1, 0, (BAD_LINK, BAD_KEY)),
        analysed=None,
        published=None,
        archived=ArchiveResult(0, (BAD_LINK, BAD_DATE)),
    )
    assert report.unreadable_rows == [BAD_LINK, BAD_KEY, BAD_DATE]
    markdown = report.to_markdown()
    assert "| unreadable rows left alone | 3 |" in markdown
    assert "- Posts row 4: Post Link 'see \\| sheet' is not an X status link; fix or clear that row" in markdown
    assert "- Archive row 2: Post Link 'n/a'" in markdown


def test_phase_summaries_count_the_rows_they_left_alone() -> None:
    assert CollectResult(3, 1, 0, (BAD_KEY,)).summary().endswith(", 1 unreadable rows left alone")
    assert ArchiveResult(2).summary() == "2 rows moved to Archive"
    assert "unreadable" not in PipelineReport().to_markdown().split("| runtime")[1]
