from __future__ import annotations

import string
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.links import canonical_status_url, find_status_links, status_links_in_message
from core.models import DiscordMessage, Embed, StatusLink

HOSTS = ["twitter.com", "x.com", "fxtwitter.com", "vxtwitter.com", "fixupx.com", "fixvx.com"]
HOST_PREFIXES = ["", "www.", "mobile.", "m.", "d."]
SCHEMES = ["", "http://", "https://"]


def message(content: str = "", *embeds: Embed) -> DiscordMessage:
    return DiscordMessage(
        id=1,
        channel_id=2,
        timestamp=datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc),
        author_id=3,
        author_name="member",
        author_is_bot=False,
        content=content,
        embeds=embeds,
    )


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("prefix", HOST_PREFIXES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_host_variant_canonicalises_to_x_com(scheme: str, prefix: str, host: str) -> None:
    url = f"{scheme}{prefix}{host}/jack/status/20"
    assert canonical_status_url(url) == "https://x.com/jack/status/20"


@pytest.mark.parametrize("url", ["HTTPS://X.COM/jack/status/20", "https://Mobile.Twitter.com/jack/status/20"])
def test_host_and_scheme_are_case_insensitive(url: str) -> None:
    assert canonical_status_url(url) == "https://x.com/jack/status/20"


def test_handle_is_kept_as_written() -> None:
    assert canonical_status_url("https://x.com/SolanaFndn/status/5") == "https://x.com/SolanaFndn/status/5"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://twitter.com/jack/statuses/20", "https://x.com/jack/status/20"),
        ("https://x.com/i/web/status/20", "https://x.com/i/status/20"),
        ("https://x.com/i/status/20", "https://x.com/i/status/20"),
    ],
)
def test_old_and_handleless_path_forms(url: str, canonical: str) -> None:
    assert canonical_status_url(url) == canonical


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/#!/jack/status/20",
        "http://twitter.com/#!/jack/statuses/20",
        "twitter.com/#!/jack/status/20?s=20",
        "https://m.twitter.com/jack/status/20",
        "m.twitter.com/jack/status/20",
    ],
)
def test_mobile_host_and_old_hashbang_paths(url: str) -> None:
    assert canonical_status_url(url) == "https://x.com/jack/status/20"
    assert find_status_links(f"old link {url} here") == [StatusLink(20, "jack")]


def test_hashbang_profile_url_gives_the_handle() -> None:
    embed = Embed(url="https://twitter.com/i/web/status/40", author_url="https://twitter.com/#!/Carol_X")
    assert status_links_in_message(message("", embed)) == [(StatusLink(40, "Carol_X"), embed)]


@pytest.mark.parametrize(
    "suffix",
    [
        "?s=20",
        "?s=20&t=AbC-dEf_123",
        "?ref_src=twsrc%5Etfw%7Ctwcamp%5Etweetembed",
        "#reply",
        "/",
        "/photo/1",
        "/video/1",
        "/analytics",
        "/photo/1?s=46&t=x",
    ],
)
def test_query_fragment_and_suffixes_are_dropped(suffix: str) -> None:
    assert canonical_status_url(f"https://x.com/jack/status/20{suffix}") == "https://x.com/jack/status/20"
    assert find_status_links(f"look https://x.com/jack/status/20{suffix} now") == [StatusLink(20, "jack")]


def test_surrounding_whitespace_is_ignored() -> None:
    assert canonical_status_url("  https://x.com/jack/status/20\n") == "https://x.com/jack/status/20"


def test_canonical_status_url_wants_a_url_not_a_sentence() -> None:
    assert canonical_status_url("see https://x.com/jack/status/20") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/solana",
        "https://x.com/i/spaces/1YqJDqWYQrNJV",
        "https://twitter.com/home",
        "https://x.com/jack/status/",
        "https://x.com/jack/status/abc",
        "https://x.com/jack/status/12abc",
        "https://x.com/jack/likes",
        "https://x.com/jack/status/" + "1" * 21,
        "https://x.com/" + "a" * 16 + "/status/20",
        "https://x.com/ja-ck/status/20",
        "https://example.com/jack/status/20",
        "",
    ],
)
def test_non_status_links_are_ignored(url: str) -> None:
    assert canonical_status_url(url) is None
    assert find_status_links(f"see {url} please") == []


@pytest.mark.parametrize(
    "text",
    [
        "https://notx.com/jack/status/20",
        "https://fakex.com/jack/status/20",
        "https://box.com/jack/status/20",
        "box.com/jack/status/20",
        "https://nottwitter.com/jack/status/20",
        "https://x.com.evil.net/jack/status/20",
        "https://twitter.com.evil.net/jack/status/20",
        "https://api.x.com/jack/status/20",
        "https://x.co/jack/status/20",
        "https://evil.net/redirect/x.com/jack/status/20",
        "mail me at me@x.com/jack/status/20",
    ],
)
def test_look_alike_hosts_are_ignored(text: str) -> None:
    assert find_status_links(text) == []
    assert canonical_status_url(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "<https://x.com/jack/status/20>",
        "[the thread](https://x.com/jack/status/20)",
        "[https://x.com/jack/status/20](https://x.com/jack/status/20)",
        "||https://x.com/jack/status/20||",
        "**https://x.com/jack/status/20**",
        "(see https://x.com/jack/status/20).",
        "wow https://x.com/jack/status/20!",
        "is it https://x.com/jack/status/20?",
        "x.com/jack/status/20, and more",
        "gm\nhttps://x.com/jack/status/20\nwagmi",
        '"https://x.com/jack/status/20"',
    ],
)
def test_links_inside_discord_markup(text: str) -> None:
    assert find_status_links(text) == [StatusLink(20, "jack")]


def test_several_links_in_order_of_appearance() -> None:
    text = (
        "first https://x.com/alice/status/3 then <https://twitter.com/bob/status/1>\n"
        "and [this](https://fxtwitter.com/carol/status/2?s=20)"
    )
    assert find_status_links(text) == [StatusLink(3, "alice"), StatusLink(1, "bob"), StatusLink(2, "carol")]


def test_same_status_twice_gives_one_link_first_occurrence_wins() -> None:
    text = "https://x.com/i/web/status/7 again https://twitter.com/Jack/status/7?s=20 https://x.com/jack/status/7"
    assert find_status_links(text) == [StatusLink(7, "i")]


def test_no_links_in_plain_text() -> None:
    assert find_status_links("gm everyone, status update: 123 shipped") == []


def test_message_links_come_with_their_embed() -> None:
    tweet = Embed(
        url="https://twitter.com/jack/status/20",
        description="just setting up my twttr",
        author_name="jack (@jack)",
        author_url="https://twitter.com/jack",
    )
    other = Embed(url="https://example.com/article", title="An article")
    msg = message("https://x.com/jack/status/20 and https://x.com/bob/status/21", other, tweet)
    assert status_links_in_message(msg) == [(StatusLink(20, "jack"), tweet), (StatusLink(21, "bob"), None)]


def test_links_only_in_embeds_follow_content_links() -> None:
    tweet = Embed(url="https://twitter.com/carol/status/30", description="gm")
    msg = message("gm https://x.com/alice/status/10", tweet)
    assert status_links_in_message(msg) == [(StatusLink(10, "alice"), None), (StatusLink(30, "carol"), tweet)]


def test_status_quoted_inside_tweet_text_is_not_a_shared_post() -> None:
    tweet = Embed(url="https://twitter.com/carol/status/30", description="quoting x.com/dave/status/31")
    assert status_links_in_message(message("", tweet)) == [(StatusLink(30, "carol"), tweet)]


def test_message_with_embed_but_no_content() -> None:
    tweet = Embed(url="https://x.com/carol/status/30?s=20")
    assert status_links_in_message(message("", tweet)) == [(StatusLink(30, "carol"), tweet)]


def test_link_in_content_and_embed_is_listed_once() -> None:
    tweet = Embed(url="https://twitter.com/carol/status/30")
    msg = message("https://fixupx.com/carol/status/30", tweet)
    assert status_links_in_message(msg) == [(StatusLink(30, "carol"), tweet)]


@pytest.mark.parametrize(
    "embed",
    [
        Embed(url="https://twitter.com/i/web/status/40", author_url="https://twitter.com/Carol_X"),
        Embed(url="https://twitter.com/i/web/status/40", author_url="https://x.com/Carol_X?lang=en"),
        Embed(url="https://twitter.com/i/web/status/40", author_name="Carol (@Carol_X)"),
        Embed(url="https://twitter.com/Carol_X/status/40", author_name="Carol"),
    ],
)
def test_handleless_link_takes_handle_from_its_embed(embed: Embed) -> None:
    msg = message("https://x.com/i/web/status/40", embed)
    assert status_links_in_message(msg) == [(StatusLink(40, "Carol_X"), embed)]


def test_handleless_link_stays_handleless_without_usable_embed_author() -> None:
    embed = Embed(url="https://x.com/i/web/status/40", author_name="Carol", author_url="https://example.com/carol")
    msg = message("https://x.com/i/web/status/40", embed)
    assert status_links_in_message(msg) == [(StatusLink(40, "i"), embed)]


def test_handle_fallback_only_uses_the_embed_of_the_same_status() -> None:
    unrelated = Embed(url="https://twitter.com/dave/status/41", author_name="Dave (@dave)")
    msg = message("https://x.com/i/web/status/40", unrelated)
    assert status_links_in_message(msg)[0] == (StatusLink(40, "i"), None)


def test_handle_in_content_is_not_replaced_by_embed_author() -> None:
    embed = Embed(url="https://twitter.com/carol/status/40", author_name="Someone (@someone)")
    msg = message("https://x.com/Carol/status/40", embed)
    assert status_links_in_message(msg) == [(StatusLink(40, "Carol"), embed)]


handles = st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True)
status_ids = st.integers(min_value=1, max_value=10**19)
tracking_queries = st.one_of(
    st.sampled_from(["", "?s=20", "?s=46&t=Q1w2E3r4", "#m", "/photo/1?s=20"]),
    st.text(alphabet=string.ascii_letters + string.digits + "=&%-_.", max_size=30).map(lambda q: "?" + q),
)
words = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), max_size=15)
separators = st.sampled_from([" ", "\n", "  ", "\t"])


@st.composite
def status_urls(draw: st.DrawFn) -> tuple[str, int, str]:
    handle = draw(handles)
    status_id = draw(status_ids)
    host = draw(st.sampled_from(SCHEMES)) + draw(st.sampled_from(HOST_PREFIXES)) + draw(st.sampled_from(HOSTS))
    host = draw(st.sampled_from([str.lower, str.upper]))(host)
    segment = draw(st.sampled_from(["status", "statuses"]))
    return f"{host}/{handle}/{segment}/{status_id}{draw(tracking_queries)}", status_id, handle


@given(status_urls())
def test_any_status_url_variant_canonicalises(url_parts: tuple[str, int, str]) -> None:
    url, status_id, handle = url_parts
    assert canonical_status_url(url) == f"https://x.com/{handle}/status/{status_id}"


@given(status_urls(), words, separators, words, separators)
def test_status_url_between_random_words_is_found_once(
    url_parts: tuple[str, int, str], before: str, sep_before: str, after: str, sep_after: str
) -> None:
    url, status_id, handle = url_parts
    text = f"{before}{sep_before}{url}{sep_after}{after}"
    assert find_status_links(text) == [StatusLink(status_id, handle)]
