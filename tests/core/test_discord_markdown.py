import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.discord_markdown import unescape_discord_markdown


@pytest.mark.parametrize(
    ("escaped", "shown"),
    [
        ("Mainnet Update\\! Read more\\.", "Mainnet Update! Read more."),
        ("Orbit Protocol\\. \\#DeFi \\- TGE \\(soon\\)", "Orbit Protocol. #DeFi - TGE (soon)"),
        (
            "\\*\\*not bold\\*\\* \\_nor\\_ \\~\\~struck\\~\\~ \\`code\\` \\|\\|spoiler\\|\\|",
            "**not bold** _nor_ ~~struck~~ `code` ||spoiler||",
        ),
        (
            "\\> quote \\[link\\]\\(x\\) a\\+b\\=c 50\\% \\@here \\<3 \\:fire\\:",
            "> quote [link](x) a+b=c 50% @here <3 :fire:",
        ),
        ("¯\\\\\\_(ツ)\\_/¯", "¯\\_(ツ)_/¯"),  # an escaped backslash, then an escaped underscore
        ("\\\\", "\\"),
        ("C:\\Users\\n 5\\3", "C:\\Users\\n 5\\3"),  # letters and digits cannot be escaped: kept
        ("ends with \\", "ends with \\"),
        ("a \\ b\\\nc", "a \\ b\\\nc"),  # nor can whitespace
        ("no escapes at all", "no escapes at all"),
    ],
)
def test_discord_escapes_are_removed(escaped: str, shown: str) -> None:
    assert unescape_discord_markdown(escaped) == shown


def discord_escape(text: str) -> str:
    """What Discord does to text it puts in a link preview: escape every character it could read as markdown."""
    return re.sub(r"([^0-9A-Za-z\s])", r"\\\1", text)


@given(st.text())
def test_unescaping_undoes_discords_escaping(text: str) -> None:
    assert unescape_discord_markdown(discord_escape(text)) == text


@given(st.text(alphabet=st.characters(blacklist_characters="\\")))
def test_text_without_backslashes_is_unchanged(text: str) -> None:
    assert unescape_discord_markdown(text) == text
