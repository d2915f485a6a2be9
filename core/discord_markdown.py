"""Discord markdown in text Discord wrote itself (link previews), read back as plain text."""

from __future__ import annotations

import re

# Discord's markdown (simple-markdown's `escape` rule) lets a backslash escape any character that is not
# an ASCII letter or digit or whitespace; its link previews escape the tweet text that way (`Update\!`).
_ESCAPE = re.compile(r"\\([^0-9A-Za-z\s])")


def unescape_discord_markdown(text: str) -> str:
    """`text` as Discord shows it: each backslash escape replaced by the character it escapes.

    Applied to embed text only: what a member typed is their own markdown and is kept as written.
    """
    return _ESCAPE.sub(r"\1", text)
