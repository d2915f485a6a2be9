from core.archive import plan_archive, ready_to_archive
from tests.core.factories import post


def test_only_finished_rows_are_ready() -> None:
    assert ready_to_archive(post(1, summary="not a project"))
    assert ready_to_archive(post(2, project="Nova", summary="s", publication_receipt="outbox:a.json"))
    assert not ready_to_archive(post(3, project="Nova", summary="s"))  # waiting to be published
    assert not ready_to_archive(post(4))  # not analysed yet


def test_plan_copies_before_deleting_and_skips_rows_already_archived() -> None:
    rows = [post(1, summary="s"), post(2, summary="s"), post(3, project="P", summary="s")]
    plan = plan_archive(rows, archived_links={rows[0].post_link})
    # Row 1 was copied by a run that crashed before deleting: delete it now without a second copy.
    assert [p.post_link for p in plan.copy] == [rows[1].post_link]
    assert plan.delete == [rows[0].post_link, rows[1].post_link]


def test_nothing_to_archive() -> None:
    plan = plan_archive([post(1)], set())
    assert plan.copy == [] and plan.delete == []
