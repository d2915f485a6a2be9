"""Discord's limits, each at its edge and over random messages: nothing is ever cut off, nothing is over a limit."""

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.delivery import Attachment, Button, Message, MessageField
from core.discord_message import (
    BLANK,
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBEDS_PER_MESSAGE,
    EMBEDS_TOTAL_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FIELDS_PER_EMBED,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    DiscordMessageError,
    DiscordPost,
    discord_length,
    discord_posts,
    split_text,
)

CAP = 10 * 1024 * 1024
WORDS = ["a", "guild", "export", "😀", "naïve", "x" * 30, "https://example.com/a/very/long/path", "**bold**"]


def text_of(length: int, seed: int) -> str:
    """Random prose of about `length` characters: words, spaces, line and paragraph breaks, astral emoji."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < length:
        part = rng.choice(WORDS) + rng.choice([" ", " ", " ", "\n", "\n\n", ""])
        parts.append(part)
        size += len(part)
    return "".join(parts)[:length]


def squeezed(text: str) -> str:
    """The text without whitespace: what a split must keep, in order."""
    return re.sub(r"\s", "", text)


def visible(text: str) -> str:
    """What a reader sees of Markdown text, near enough: no whitespace, bold markers, subtext marks or BLANKs."""
    return re.sub(r"\s|\*\*|^-# |\u200b", "", text, flags=re.MULTILINE)


def check_within_limits(post: DiscordPost) -> None:
    assert discord_length(post.content) <= CONTENT_LIMIT
    assert len(post.embeds) <= EMBEDS_PER_MESSAGE and sum(embed.size for embed in post.embeds) <= EMBEDS_TOTAL_LIMIT
    for embed in post.embeds:
        assert discord_length(embed.title) <= TITLE_LIMIT and discord_length(embed.description) <= DESCRIPTION_LIMIT
        assert discord_length(embed.footer) <= FOOTER_LIMIT and len(embed.fields) <= FIELDS_PER_EMBED
        for item in embed.fields:
            assert (
                0 < discord_length(item.name) <= FIELD_NAME_LIMIT
                and 0 < discord_length(item.value) <= FIELD_VALUE_LIMIT
            )
    assert post.content or post.embeds or post.attachments


# split_text


@settings(deadline=None)
@given(length=st.integers(0, 9000), seed=st.integers(), limit=st.integers(50, 4096))
def test_split_text_keeps_everything_within_the_limit(length: int, seed: int, limit: int) -> None:
    text = text_of(length, seed)
    pieces = split_text(text, limit)
    assert all(0 < discord_length(piece) <= limit for piece in pieces)
    assert squeezed("".join(pieces)) == squeezed(text)
    assert len(pieces) <= 1 + 4 * discord_length(text) // limit  # no confetti of tiny pieces


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    paragraph = "word " * 300  # 1,500 characters
    assert split_text(f"{paragraph}\n\n{paragraph}", 2000) == [paragraph.strip(), paragraph.strip()]
    lines = "\n".join(["line " * 20] * 30)  # 30 lines of 100
    assert all(piece.endswith("line") for piece in split_text(lines, 2000))
    assert split_text("x" * 4500, 2000) == ["x" * 1996, "x" * 1996, "x" * 508]  # no break anywhere: cut anyway


def test_astral_characters_count_twice() -> None:
    assert discord_length("😀") == 2 and discord_length("é") == 1
    pieces = split_text("😀" * 1500, CONTENT_LIMIT)
    assert [len(piece) for piece in pieces] == [998, 502] and "".join(pieces) == "😀" * 1500


def test_a_code_block_cut_in_two_is_closed_and_opened_again() -> None:
    code = "```python\n" + "".join(f"value_{n} = {n}\n" for n in range(400)) + "```\nafter the code"
    pieces = split_text(code, CONTENT_LIMIT)
    assert len(pieces) > 1
    for piece in pieces:
        assert len(re.findall(r"^```", piece, re.MULTILINE)) % 2 == 0 and discord_length(piece) <= CONTENT_LIMIT
    assert all(piece.startswith("```python\n") for piece in pieces)
    assert squeezed("".join(pieces)).replace("```python", "").replace("```", "") == squeezed(code).replace(
        "```python", ""
    ).replace("```", "")
    assert not any(re.fullmatch(r"```\w*\n```", piece) for piece in split_text("```\n" + "y" * 5000 + "\n```", 2000))


# markdown format


@pytest.mark.parametrize(("length", "posts"), [(CONTENT_LIMIT, 1), (CONTENT_LIMIT + 1, 2), (3 * CONTENT_LIMIT, 4)])
def test_markdown_content_splits_at_2000(length: int, posts: int) -> None:
    result = discord_posts(Message("", "x" * length), "markdown", CAP)
    assert len(result) == posts and all(len(post.content) <= CONTENT_LIMIT for post in result)
    assert "".join(post.content for post in result) == "x" * length


def test_markdown_shows_title_fields_and_footer() -> None:
    message = Message("Daily", "body", (MessageField("Posts", "3"),), url="https://e.x/r", footer="guildflow")
    [post] = discord_posts(message, "markdown", CAP)
    assert post.content == "**[Daily](<https://e.x/r>)**\n\nbody\n\n**Posts**: 3\n\n-# guildflow" and not post.embeds


# embed format


def test_the_title_url_and_footer_sit_on_the_first_and_last_embed() -> None:
    message = Message("Daily", "b" * 5000, (MessageField("n", "v"),), url="https://e.x/r", footer="f")
    embeds = [embed for post in discord_posts(message, "embed", CAP) for embed in post.embeds]
    assert (embeds[0].title, embeds[0].url, embeds[0].description) == ("Daily", "https://e.x/r", "b" * 4092)
    assert embeds[-1].footer == "f" and embeds[-1].fields == (MessageField("n", "v"),)
    assert embeds[0].payload() == {"type": "rich", "title": "Daily", "url": "https://e.x/r", "description": "b" * 4092}


@pytest.mark.parametrize(("length", "embeds"), [(DESCRIPTION_LIMIT, 1), (DESCRIPTION_LIMIT + 1, 2)])
def test_a_description_splits_at_4096(length: int, embeds: int) -> None:
    posts = discord_posts(Message("", "d" * length), "embed", CAP)
    assert sum(len(post.embeds) for post in posts) == embeds


def test_embeds_of_one_message_stay_under_6000_together() -> None:
    three = "\n\n".join(letter * 3001 for letter in "pqr")  # three descriptions of 3,001
    assert [len(post.embeds) for post in discord_posts(Message("", three), "embed", CAP)] == [1, 1, 1]
    two = "\n\n".join(letter * 3000 for letter in "pq")  # 6,000 together: one message
    assert [len(post.embeds) for post in discord_posts(Message("", two), "embed", CAP)] == [2]


def test_25_fields_per_embed_and_10_embeds_per_message() -> None:
    fields = tuple(MessageField(f"f{n}", "v") for n in range(FIELDS_PER_EMBED * 11 + 1))
    posts = discord_posts(Message("T", "", fields), "embed", CAP)
    assert [len(post.embeds) for post in posts] == [10, 2]
    assert [len(embed.fields) for post in posts for embed in post.embeds] == [25] * 11 + [1]
    assert [item.name for post in posts for embed in post.embeds for item in embed.fields] == [f.name for f in fields]


def test_long_field_values_continue_in_blank_named_fields() -> None:
    value = "v" * (FIELD_VALUE_LIMIT * 2 + 10)
    [post] = discord_posts(Message("", "", (MessageField("Long", value),)), "embed", CAP)
    names = [item.name for item in post.embeds[0].fields]
    assert names == ["Long", BLANK, BLANK] and "".join(item.value for item in post.embeds[0].fields) == value


def test_what_does_not_fit_its_place_moves_to_the_description() -> None:
    title, name, footer = "t" * (TITLE_LIMIT + 1), "n" * (FIELD_NAME_LIMIT + 1), "f" * (FOOTER_LIMIT + 1)
    message = Message(title, "body", (MessageField(name, "value"), MessageField("", "")), footer=footer)
    posts = discord_posts(message, "embed", CAP)
    [embed] = [embed for post in posts for embed in post.embeds]
    assert embed.title == "" and embed.footer == ""
    assert embed.description == f"**{title}**\n\nbody\n\n**{name}**\nvalue\n\n{footer}"
    assert embed.fields == (MessageField(BLANK, BLANK),)  # Discord refuses empty names and values


@settings(max_examples=60, deadline=None)
@given(
    title=st.integers(0, 300),
    body=st.integers(0, 30000),
    field_count=st.integers(0, 60),
    value=st.integers(0, 2500),
    footer=st.integers(0, 2500),
    seed=st.integers(),
    form=st.sampled_from(["embed", "markdown"]),
)
def test_every_post_of_any_message_is_within_every_limit_and_keeps_everything(
    title: int, body: int, field_count: int, value: int, footer: int, seed: int, form: str
) -> None:
    message = Message(
        text_of(title, seed).replace("\n", " ").strip(),
        text_of(body, seed + 1),
        tuple(MessageField(f"field {n}", text_of(value, seed + n) or "-") for n in range(field_count)),
        footer=text_of(footer, seed + 2),
    )
    parts = [message.title, message.body, message.footer, *(f.value for f in message.fields)]
    if not any(part.strip() for part in parts):
        with pytest.raises(DiscordMessageError, match="the message is empty"):
            discord_posts(message, form, CAP)
        return
    posts = discord_posts(message, form, CAP)
    for post in posts:
        check_within_limits(post)
    shown = "\n".join(
        "\n".join([post.content, *(e.title + "\n" + e.description for e in post.embeds)])
        + "\n".join(f"\n{f.name}\n{f.value}" for e in post.embeds for f in e.fields)
        + "\n".join(f"\n{e.footer}" for e in post.embeds)
        for post in posts
    )
    for part in parts:
        assert visible(part) in visible(shown)


# files


def test_files_ride_on_the_last_post_ten_and_one_cap_at_a_time() -> None:
    files = tuple(Attachment(f"part-{n}.gz", b"x" * 10) for n in range(12))
    posts = discord_posts(Message("", "y" * 2500, attachments=files), "markdown", CAP)
    assert [len(post.attachments) for post in posts] == [0, 10, 2]
    assert posts[1].content.startswith("y") and posts[2].content == "(continued: part-10.gz, part-11.gz)"
    large = tuple(Attachment(f"big-{n}.gz", b"x" * 600) for n in range(3))
    posts = discord_posts(Message("", "export", attachments=large), "markdown", 1000)
    assert [[item.name for item in post.attachments] for post in posts] == [["big-0.gz"], ["big-1.gz"], ["big-2.gz"]]
    only_files = discord_posts(Message("", "", attachments=files[:1]), "embed", CAP)
    assert only_files == [DiscordPost("", (), files[:1])]


def test_what_discord_cannot_take_is_refused_before_anything_is_posted() -> None:
    with pytest.raises(DiscordMessageError, match="attachment big.json is 2.0 MiB, over Discord's upload cap of 1.0"):
        discord_posts(Message("", "x", attachments=(Attachment("big.json", b"x" * (2 << 20)),)), "embed", 1 << 20)
    with pytest.raises(DiscordMessageError, match="the message is empty"):
        discord_posts(Message("", " \n "), "markdown", CAP)


def test_buttons_go_on_the_last_post_only() -> None:
    buttons = (Button("guildflow:backup-now:x", "Run backup now"),)
    message = Message("", "word " * 1000, attachments=(Attachment("a.json", b"{}"),), buttons=buttons)
    posts = discord_posts(message, "markdown", 10 * 1024 * 1024)
    assert len(posts) > 1
    assert [post.buttons for post in posts] == [()] * (len(posts) - 1) + [buttons]
    assert discord_posts(Message("t", "b"), "embed", 1024)[-1].buttons == ()
