from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from core.draft import PROJECT_LINE_LIMIT, X_LIMIT, build_daily_draft, draft_id, fit_line, x_length
from tests.core.factories import post

DAY = date(2026, 11, 21)


def test_urls_count_as_23_and_emoji_as_2() -> None:
    assert x_length("https://x.com/a/status/1") == 23
    assert x_length("see https://example.com/" + "a" * 200) == 4 + 23
    assert x_length("🚀") == 2


def test_no_projects_gives_no_draft() -> None:
    assert build_daily_draft([], DAY) is None


def test_short_draft_is_one_tweet_without_numbering() -> None:
    draft = build_daily_draft([post(1, project="Nova", summary="A DEX on Base.")], DAY)
    assert draft is not None
    assert len(draft.tweets) == 1
    assert draft.tweets[0] == (
        "New Web3 projects spotted by our community, 21 Nov 2026:\n• Nova: A DEX on Base. https://x.com/h1/status/1"
    )


def test_long_draft_becomes_a_numbered_thread_within_the_limit() -> None:
    projects = [post(i, message_id=i, project=f"Project{i}", summary="x" * 90 + ".") for i in range(1, 9)]
    draft = build_daily_draft(projects, DAY)
    assert draft is not None and len(draft.tweets) > 1
    assert all(x_length(tweet) <= X_LIMIT for tweet in draft.tweets)
    total = len(draft.tweets)
    assert [tweet.rsplit(" ", 1)[-1] for tweet in draft.tweets] == [f"({n}/{total})" for n in range(1, total + 1)]
    assert all(f"https://x.com/h{i}/status/{i}" in draft.text for i in range(1, 9))


def test_a_project_posted_twice_is_listed_once_but_both_posts_are_covered() -> None:
    projects = [
        post(1, message_id=1, project="Nova", summary="First."),
        post(2, message_id=2, project="NOVA", summary="Again."),
    ]
    draft = build_daily_draft(projects, DAY)
    assert draft is not None
    assert draft.text.count("• ") == 1 and "First." in draft.text
    assert draft.post_links == ("https://x.com/h1/status/1", "https://x.com/h2/status/2")


def test_draft_id_depends_only_on_the_posts_covered() -> None:
    a, b = post(1, project="A", summary="a"), post(2, project="B", summary="b")
    first = build_daily_draft([a, b], DAY)
    later = build_daily_draft([b, a], date(2026, 12, 1))
    assert first is not None and later is not None
    assert first.id == later.id == draft_id([a.post_link, b.post_link])
    assert first.id != draft_id([a.post_link])


def test_long_summaries_are_shortened_so_two_projects_share_a_tweet() -> None:
    projects = [post(i, message_id=i, project=f"P{i}", summary="word " * 60) for i in range(1, 5)]
    draft = build_daily_draft(projects, DAY)
    assert draft is not None and len(draft.tweets) == 3  # the header and one project, then two per tweet
    lines = [line for tweet in draft.tweets for line in tweet.split("\n") if line.startswith("•")]
    assert all(x_length(line) <= PROJECT_LINE_LIMIT + len(" (1/3)") for line in lines)


def test_an_overlong_line_is_shortened_before_its_url() -> None:
    line = "• Huge: " + "word " * 100 + "https://x.com/h/status/1"
    fitted = fit_line(line, X_LIMIT)
    assert x_length(fitted) <= X_LIMIT
    assert fitted.endswith("… https://x.com/h/status/1")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=30).filter(str.strip), st.text(max_size=400)),
        min_size=1,
        max_size=25,
        unique_by=lambda pair: pair[0].casefold(),
    )
)
def test_every_tweet_fits_and_every_project_appears(projects: list[tuple[str, str]]) -> None:
    posts = [
        post(i, message_id=i, project=name, summary=summary) for i, (name, summary) in enumerate(projects, start=1)
    ]
    draft = build_daily_draft(posts, DAY)
    assert draft is not None
    assert all(x_length(tweet) <= X_LIMIT for tweet in draft.tweets)
    assert all(p.post_link in draft.text for p in posts)
