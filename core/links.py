"""Finding and canonicalising X/Twitter status links in Discord text."""

from __future__ import annotations

import re

from core.models import DiscordMessage, Embed, StatusLink

_NO_HANDLE = "i"  # what x.com itself puts in place of a handle: x.com/i/web/status/<id>

_HOST = (
    r"(?:(?:www|mobile|m|d)\.)?"
    r"(?:twitter|x|fxtwitter|vxtwitter|fixupx|fixvx)\.com"
)
# Requiring "/" right after the host rejects look-alikes such as x.com.evil.net.
# "#!/" is how twitter.com wrote its paths until 2012 (twitter.com/#!/<handle>/status/<id>).
_OLD_HASHBANG = r"(?:#!/)?"
_PATH = (
    rf"/{_OLD_HASHBANG}(?:(?P<handle>[A-Za-z0-9_]{{1,15}})/status(?:es)?|i/web/status)"
    r"/(?P<id>\d{1,20})(?!\w)"
)

# The lookbehind keeps a host from matching as the tail of a longer one
# (box.com, fakex.com, api.x.com) or as a path inside some other URL.
_STATUS_LINK_IN_TEXT = re.compile(rf"(?<![\w.@/-])(?:https?://)?{_HOST}{_PATH}", re.IGNORECASE)
_STATUS_URL = re.compile(rf"(?:https?://)?{_HOST}{_PATH}(?:[/?#]\S*)?", re.IGNORECASE)
_PROFILE_URL = re.compile(
    rf"(?:https?://)?{_HOST}/{_OLD_HASHBANG}(?P<handle>[A-Za-z0-9_]{{1,15}})/?(?:[?#]\S*)?",
    re.IGNORECASE,
)
_HANDLE_IN_AUTHOR_NAME = re.compile(r"\(@(?P<handle>[A-Za-z0-9_]{1,15})\)\s*$")


def find_status_links(text: str) -> list[StatusLink]:
    """Every status link in `text`, in order of appearance, first one per status id."""
    links: dict[int, StatusLink] = {}
    for match in _STATUS_LINK_IN_TEXT.finditer(text):
        link = _status_link(match)
        links.setdefault(link.status_id, link)
    return list(links.values())


def canonical_status_url(url: str) -> str | None:
    """`https://x.com/<handle>/status/<id>` for a single status URL, else None.

    The whole string must be the URL; a sentence that merely contains one is
    not a URL (use `find_status_links` for free text).
    """
    link = parse_status_url(url)
    return link.url if link else None


def status_links_in_message(
    message: DiscordMessage,
) -> list[tuple[StatusLink, Embed | None]]:
    """Each distinct status in a message, paired with the embed that previews it.

    Links in the content come first, then those found only in embeds. The
    embed is kept so callers have the tweet text; it also supplies the handle
    when the link itself had none.
    """
    embed_by_status_id: dict[int, Embed] = {}
    for embed in message.embeds:
        embed_link = parse_status_url(embed.url)
        if embed_link:
            embed_by_status_id.setdefault(embed_link.status_id, embed)

    links: dict[int, StatusLink] = {}
    for text in _texts_with_links(message):
        for link in find_status_links(text):
            links.setdefault(link.status_id, link)

    pairs: list[tuple[StatusLink, Embed | None]] = []
    for link in links.values():
        preview = embed_by_status_id.get(link.status_id)
        if preview and link.handle.lower() == _NO_HANDLE:
            link = StatusLink(link.status_id, _handle_from_embed(preview) or link.handle)
        pairs.append((link, preview))
    return pairs


def _status_link(match: re.Match[str]) -> StatusLink:
    return StatusLink(int(match["id"]), match["handle"] or _NO_HANDLE)


def parse_status_url(url: str) -> StatusLink | None:
    """The status a single status URL points to, else None (the whole string must be the URL)."""
    match = _STATUS_URL.fullmatch(url.strip())
    return _status_link(match) if match else None


def _texts_with_links(message: DiscordMessage) -> list[str]:
    # An embed's description is the tweet's own text: a status it quotes was not shared in Discord.
    return [message.content, *(embed.url for embed in message.embeds)]


def _handle_from_embed(embed: Embed) -> str | None:
    """The tweet author's handle as the embed states it, most reliable source first."""
    embed_link = parse_status_url(embed.url)
    profile = _PROFILE_URL.fullmatch(embed.author_url.strip())
    named = _HANDLE_IN_AUTHOR_NAME.search(embed.author_name)
    candidates = (
        embed_link.handle if embed_link else None,
        profile["handle"] if profile else None,
        named["handle"] if named else None,
    )
    return next((h for h in candidates if h and h.lower() != _NO_HANDLE), None)
