from datetime import timedelta

import pytest

from core.collection import (
    advance_cursors,
    collection_window,
    dedupe_posts,
    in_window,
    posts_in_message,
    posts_in_messages,
)
from core.models import Embed
from tests.core.factories import T0, message, post


def test_since_last_window_uses_each_channels_cursor() -> None:
    window = collection_window("since-last", 24, T0)
    cursors = {1: 100, 2: 500}
    assert in_window(message(101, channel_id=1), window, cursors)
    assert not in_window(message(100, channel_id=1), window, cursors)
    assert not in_window(message(400, channel_id=2), window, cursors)
    assert in_window(message(7, channel_id=3), window, cursors)  # a new channel starts from the beginning


@pytest.mark.parametrize(
    ("mode", "lookback", "delta"), [("hours", 6, timedelta(hours=6)), ("days", 2, timedelta(days=2))]
)
def test_lookback_windows_ignore_cursors(mode: str, lookback: int, delta: timedelta) -> None:
    window = collection_window(mode, lookback, T0)
    assert window.since == T0 - delta
    assert in_window(message(1, at=T0 - delta), window, {1: 999})
    assert not in_window(message(2, at=T0 - delta - timedelta(seconds=1)), window, {})


def test_unknown_collection_mode_names_the_choices() -> None:
    with pytest.raises(ValueError, match="'weeks'.*since-last.*hours.*days"):
        collection_window("weeks", 1, T0)


def test_cursors_only_move_forward() -> None:
    cursors = advance_cursors(
        {1: 50, 2: 10}, [message(40, channel_id=1), message(60, channel_id=2), message(5, channel_id=3)]
    )
    assert cursors == {1: 50, 2: 60, 3: 5}


def test_message_maps_to_one_row_per_distinct_post() -> None:
    tweet = Embed(url="https://twitter.com/nova/status/11", description="NovaSwap mainnet is live")
    msg = message(9, "two: https://x.com/nova/status/11?s=20 and https://fxtwitter.com/orbit/status/12", tweet)
    posts = posts_in_message(msg)
    assert [p.post_link for p in posts] == ["https://x.com/nova/status/11", "https://x.com/orbit/status/12"]
    first = posts[0]
    assert first.author == "alice"
    assert first.author_link == "https://discord.com/users/42"
    assert first.x_handle == "nova"
    assert first.content.endswith("\n\nNovaSwap mainnet is live")
    assert posts[1].content == msg.content  # no embed for that one


def test_handleless_link_without_embed_leaves_the_handle_empty() -> None:
    [only] = posts_in_message(message(1, "https://twitter.com/i/web/status/77"))
    assert only.x_handle == ""
    assert only.post_link == "https://x.com/i/status/77"


def test_a_link_without_a_preview_takes_the_tweet_text_from_another_message() -> None:
    """Discord previews no link in <angle brackets>; the tweet's text is the same wherever it was previewed."""
    tweet = Embed(url="https://twitter.com/drift/status/11", description="DriftBridge v1 is live")
    unpreviewed = message(1, "the announcement: <https://x.com/drift/status/11>")
    previewed = message(2, "fast fills https://fixvx.com/drift/status/11", tweet, bot=True)
    other = message(3, "https://x.com/other/status/12")

    first, second, third = posts_in_messages([unpreviewed, previewed, other], include_bots=True)

    assert first.content == "the announcement: <https://x.com/drift/status/11>\n\nDriftBridge v1 is live"
    assert second.content == "fast fills https://fixvx.com/drift/status/11\n\nDriftBridge v1 is live"
    assert third.content == "https://x.com/other/status/12"
    [only] = posts_in_messages([unpreviewed, previewed], include_bots=False)  # a bot's preview counts too
    assert only.content == first.content


def test_bot_messages_are_collected_unless_skipping_them_is_asked_for() -> None:
    messages = [message(1, "https://x.com/a/status/1", bot=True), message(2, "https://x.com/b/status/2")]
    assert [p.status_id for p in posts_in_messages(messages, include_bots=True)] == [1, 2]
    assert [p.status_id for p in posts_in_messages(messages, include_bots=False)] == [2]


def test_a_feed_bots_embed_without_text_is_collected_by_default() -> None:
    tweet = Embed(url="https://x.com/orbit_fi/status/5", description="Orbit mainnet is live", author_name="Orbit")
    relayed = message(1, "", tweet, bot=True)  # TweetShift relays a followed account's tweet as an embed only
    [found] = posts_in_messages([relayed], include_bots=True)
    assert (found.post_link, found.content) == ("https://x.com/orbit_fi/status/5", "Orbit mainnet is live")


def test_dedupe_keeps_first_sighting_and_skips_known_posts() -> None:
    candidates = [post(5, message_id=30), post(5, message_id=10), post(6, message_id=20), post(7, message_id=40)]
    result = dedupe_posts(candidates, known_status_ids={7})
    assert [(p.status_id, p.message_id) for p in result.new] == [(5, 10), (6, 20)]
    assert result.duplicates == 2


def test_dedupe_across_runs_finds_nothing_new() -> None:
    first = dedupe_posts([post(1), post(2)], set())
    second = dedupe_posts([post(1), post(2)], {p.status_id for p in first.new})
    assert second.new == [] and second.duplicates == 2
