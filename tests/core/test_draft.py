from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.draft import (
    PROJECT_LINE_LIMIT,
    X_LIMIT,
    build_daily_draft,
    draft_id,
    fit_line,
    is_valid_post,
    post_problem,
    postable_text,
    x_cost,
    x_length,
)
from tests.core.factories import post

DAY = date(2026, 11, 21)
# What X refuses although it counts within the limit: twitter-text's invalid characters, a lone surrogate.
REFUSED = "\ufeff\ufffe\uffff\ud800"


def test_urls_count_as_23_and_emoji_as_2() -> None:
    assert x_length("https://x.com/a/status/1") == 23
    assert x_length("see https://example.com/" + "a" * 200) == 4 + 23
    assert x_length("🚀") == 2


def test_characters_x_refuses_make_a_short_text_invalid() -> None:
    for character in REFUSED:
        assert not is_valid_post(f"Nova{character} is live")
    assert post_problem("Nova\ufeff is\uffff live") == "contains characters X refuses (U+FEFF, U+FFFF)"
    assert post_problem("y" * 281) == "is 281 characters as X counts them (limit 280)"
    assert post_problem("") == "is empty"
    assert post_problem("Nova is live") is None


def test_postable_text_drops_what_x_refuses_and_composes_accents() -> None:
    assert postable_text("\ufeffNova\ufffe is\uffff live\ud800") == "Nova is live"
    assert postable_text("Cafe\u0301 Prot\u00e9g\u00e9") == "Caf\u00e9 Prot\u00e9g\u00e9"


def test_a_draft_from_text_with_characters_x_refuses_is_valid_without_them() -> None:
    projects = [
        post(1, message_id=1, project="\ufeffNova", summary="A DEX\ufffe on Base\uffff.\ud800"),
        post(2, message_id=2, project="Nova", summary="Listed twice."),
        post(3, message_id=3, project="Cafe\u0301", summary="An oracle."),
    ]
    draft = build_daily_draft(projects, DAY)
    assert draft is not None and all(is_valid_post(tweet) for tweet in draft.tweets)
    assert "• Nova: A DEX on Base. https://x.com/h1/status/1" in draft.text
    assert "Listed twice." not in draft.text  # the same project once its invisible character is gone
    assert "• Caf\u00e9: An oracle." in draft.text


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


def texts(min_size: int = 0, max_size: int = 400) -> st.SearchStrategy[str]:
    """Any text, often with characters X refuses (st.text would merge them into its ranges and rarely pick one)."""
    characters = st.sampled_from(REFUSED) | st.characters(codec="utf-8")
    return st.lists(characters, min_size=min_size, max_size=max_size).map("".join)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(texts(1, 30).filter(lambda name: postable_text(name).strip()), texts()),
        min_size=1,
        max_size=25,
        unique_by=lambda pair: postable_text(pair[0]).casefold(),
    )
)
def test_every_tweet_is_a_valid_post_and_every_project_appears(projects: list[tuple[str, str]]) -> None:
    posts = [
        post(i, message_id=i, project=name, summary=summary) for i, (name, summary) in enumerate(projects, start=1)
    ]
    draft = build_daily_draft(posts, DAY)
    assert draft is not None
    assert all(is_valid_post(tweet) for tweet in draft.tweets)
    assert all(p.post_link in draft.text for p in posts)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(texts(1, 30).filter(lambda name: postable_text(name).strip()), texts()),
        min_size=1,
        max_size=40,
        unique_by=lambda pair: postable_text(pair[0]).casefold(),
    ),
    st.integers(min_value=1, max_value=6),
)
def test_a_budgeted_draft_keeps_to_its_tweets_and_says_how_many_more(
    projects: list[tuple[str, str]], max_tweets: int
) -> None:
    posts = [
        post(i, message_id=i, project=name, summary=summary) for i, (name, summary) in enumerate(projects, start=1)
    ]
    draft = build_daily_draft(posts, DAY, max_tweets)
    assert draft is not None and 1 <= len(draft.tweets) <= max_tweets
    assert all(is_valid_post(tweet) for tweet in draft.tweets)
    shown = [p for p in posts if p.post_link in draft.text]
    assert set(draft.post_links) == {p.post_link for p in shown}
    left_out = len(posts) - len(shown)
    assert (f"\n+{left_out} more" in draft.tweets[-1]) == (left_out > 0)
    assert shown  # at least one project always makes the post


def test_the_projects_most_people_posted_make_a_one_tweet_post() -> None:
    quiet = [post(i, message_id=i, project=f"Quiet{i}", summary="word " * 8) for i in range(1, 6)]
    loud = [
        post(10 + i, message_id=10 + i, project="Loud", summary="word " * 8, author_link=f"https://d/u/{i}")
        for i in range(3)
    ]
    draft = build_daily_draft(quiet + loud, DAY, max_tweets=1)
    assert draft is not None and len(draft.tweets) == 1
    assert draft.text.count("• ") == 2  # two lines and "+N more" fit in one tweet, three do not
    assert "• Loud: " in draft.text and "• Quiet1: " in draft.text  # then the one waiting longest
    assert draft.text.endswith("\n+4 more")
    assert set(draft.post_links) == {p.post_link for p in [quiet[0], *loud]}  # the others stay unpublished


def test_a_day_within_the_budget_lists_everything_without_more() -> None:
    projects = [post(i, message_id=i, project=f"P{i}", summary="short.") for i in range(1, 4)]
    draft = build_daily_draft(projects, DAY, max_tweets=5)
    assert draft is not None and "more" not in draft.text and len(draft.post_links) == 3


def test_x_charges_20_cents_for_a_post_with_a_url_and_less_without() -> None:
    assert x_cost(("a post https://x.com/h/status/1", "see example.com", "no link")) == pytest.approx(0.415)
