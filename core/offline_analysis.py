"""Rule-based analyser: the embedded offline default when no model is configured.

It scores crypto/Web3 vocabulary to decide whether a post announces a project,
names the project, and writes a short summary or a few keywords. No model, no
network, no clock: the same input always gives the same Analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from core.models import Analysis

OFFLINE_ANALYSER_VERSION = "offline-3"  # bump when rules change: it is part of the cache key

AnalysisMode = Literal["summary", "keywords"]
Strength = Literal["strong", "crypto", "generic"]

SUMMARY_MAX_CHARS = 200
MIN_KEYWORDS = 3
MAX_KEYWORDS = 5
MIN_WORD_LENGTH = 4
# Placeholders so that even an empty post gets three keywords on the sheet.
_FALLBACK_KEYWORDS = ("post", "shared", "unclassified")


@dataclass(frozen=True)
class _Signal:
    keyword: str  # normalised form, also used as a keyword
    strength: Strength  # strong: enough alone; crypto: Web3-specific; generic: ambiguous alone


def _term(alternatives: str, *, before: str = "", after: str = "") -> re.Pattern[str]:
    """A case-insensitive whole-word pattern that ignores $TICKERs and domain names.

    "Crypto.com" or "mint.io" are names, not words; "#NFT" still counts.
    """
    return re.compile(rf"(?<![\w$]){before}(?:{alternatives})(?!\w|\.\w){after}", re.IGNORECASE)


# Order matters: it is the order of the signal keywords (strongest first).
_SIGNALS: tuple[tuple[_Signal, re.Pattern[str]], ...] = (
    (_Signal("mainnet", "strong"), _term("mainnet")),
    (_Signal("testnet", "strong"), _term("testnet")),
    (_Signal("devnet", "strong"), _term("devnet")),
    (_Signal("airdrop", "strong"), _term(r"air-?drops?|air-?dropp(?:ed|ing)")),
    (_Signal("tge", "strong"), _term("tge")),
    (_Signal("presale", "strong"), _term(r"pre-?sales?")),
    (_Signal("mint", "strong"), _term(r"mint(?:s|ed|ing)?")),
    (_Signal("nft", "crypto"), _term("nfts?")),
    (_Signal("defi", "crypto"), _term("defi")),
    (_Signal("dex", "crypto"), _term("dex(?:s|es)?")),
    (_Signal("perps", "crypto"), _term("perps?")),
    (_Signal("appchain", "crypto"), _term("appchains?")),
    (_Signal("stablecoin", "crypto"), _term("stablecoins?")),
    (_Signal("zk", "crypto"), _term(r"zk|zero-knowledge")),
    (_Signal("l1", "crypto"), _term(r"l1|layer[ -]?1")),
    (_Signal("l2", "crypto"), _term(r"l2|layer[ -]?2")),
    (_Signal("rollup", "crypto"), _term(r"roll-?ups?")),
    (_Signal("restaking", "crypto"), _term(r"restak(?:e|ed|ing)")),
    (_Signal("staking", "crypto"), _term("staking")),
    # Not the AI sense: "1M token context window", "100 tokens per second".
    (
        _Signal("token", "crypto"),
        _term(
            "tokens?",
            before=r"(?<!\d[kmb] )(?<!\d )",
            after=r"(?!\s+(?:context|window|limit|per|usage|count|budget)\b)",
        ),
    ),
    (_Signal("tokenomics", "crypto"), _term("tokenomics")),
    (_Signal("onchain", "crypto"), _term("on-?chain")),
    (_Signal("blockchain", "crypto"), _term("blockchains?")),
    (_Signal("web3", "crypto"), _term("web3")),
    (_Signal("crypto", "crypto"), _term("crypto(?:currency|currencies)?")),
    (_Signal("dapp", "crypto"), _term("dapps?")),
    (_Signal("allowlist", "crypto"), _term(r"(?:allow|white)-?list(?:s|ed)?")),
    (_Signal("launch", "generic"), _term(r"launch(?:es|ed|ing)?|introducing|announcing|unveil(?:s|ed|ing)?|live")),
    (_Signal("protocol", "generic"), _term("protocols?")),
    (_Signal("chain", "generic"), _term("chains?")),
    (_Signal("wallet", "generic"), _term("wallets?")),
    (_Signal("raise", "generic"), _term(r"rais(?:e|es|ed|ing)|seed round|funding round")),
)

_TICKER = re.compile(r"(?<![\w$])\$([A-Za-z]{2,10})(?!\w)")  # $NOVA, not $12M
_NAME_WORD = r"[A-Z][A-Za-z0-9]*(?:[.'’-][A-Za-z0-9]+)*"
_NAME_AFTER_CUE = re.compile(
    rf"\b(?i:introducing|announcing|meet)(?:\s*[:\-–—])?\s+(?P<first>{_NAME_WORD})(?:[ \t]+(?P<second>{_NAME_WORD}))?"
)
_CAPITALISED_WORD = re.compile(r"(?<![\w$@#])[A-Z][A-Za-z0-9]+(?!\w)")
_CAPITALISED_RUN = re.compile(r"(?<![\w$@#])[A-Z][A-Za-z0-9]*(?:[ \t]+[A-Z][A-Za-z0-9]*)*(?!\w)")  # "Pixel Punks NFT"
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]")
MIN_NAME_IN_HANDLE = 3  # letters; shorter words ("We", "On") start too many handles
# A signal right after one of these does not count: "not crypto", "non-crypto", "no token".
_NEGATED = re.compile(r"\b(?:not|no|non|never|nothing to do with)[\s-]*$", re.IGNORECASE)
_NEGATION_REACH = 24  # characters before a signal searched for a negation
_WORD = re.compile(r"[^\W\d_]+")
_ALPHANUMERIC = re.compile(r"[^\W_]")

_DISCORD_TAG = re.compile(r"<[@#][!&]?\d+>|<a?:\w+:\d+>|<t:\d+(?::\w)?>")
_MASKED_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?https?://[^\s)>]*>?\s*\)")
_URL = re.compile(r"<?(?:https?://|www\.)[^\s>]+>?", re.IGNORECASE)
_MARKDOWN = re.compile(r"\*\*|__|~~|\|\||`")
_MENTION = re.compile(r"(?<![\w@])@(\w+)")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+")
_SENTENCE_END = (".", "!", "?", "…")

_STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between big both breaking but by can check come could did do does doing done
    down during each even ever every excited few follow for from further get gets go going gm
    got had has have having he her here hers him his how huge i if in into is it its just join
    know let like link make many me meet more most much must my new news next no not now of off
    on once one only or other our ours out over own please read really same see she should so
    some soon such than thanks that the their them then there these they thing this those
    thread through to today too tweet under until up us very via want was way we well were what
    when where which while who whom why will with would yes yet you your yours
    """.split()
)


def analyse_offline(content: str, x_handle: str, mode: AnalysisMode) -> Analysis:
    """Analyse one post with rules only; `content` is the Discord text, then "\\n\\n" and the tweet."""
    if mode not in ("summary", "keywords"):
        raise ValueError(f"unknown analysis mode {mode!r}: use 'summary' or 'keywords'")
    text = _MENTION.sub(" ", _strip_markup(content))
    signals = _matched_signals(text)
    is_project = _is_project(signals)
    handle = _real_handle(x_handle)
    project = _project_name(text, handle) if is_project else ""
    if mode == "summary":
        return Analysis(is_project=is_project, project=project, summary=_summarise(content))
    return Analysis(is_project=is_project, project=project, keywords=_keywords(text, signals, project, handle))


def _strip_markup(text: str) -> str:
    """Drop Discord tags, URLs and Markdown emphasis; keep the words of masked links."""
    text = _DISCORD_TAG.sub(" ", text)
    text = _MASKED_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    return _MARKDOWN.sub("", text)


def _matched_signals(text: str) -> list[_Signal]:
    """Distinct signals in keyword order: the first $TICKER, then the vocabulary table."""
    signals: list[_Signal] = []
    if ticker := _TICKER.search(text):
        signals.append(_Signal(ticker.group(1).lower(), "strong"))
    for signal, pattern in _SIGNALS:
        if _affirmed(pattern, text) and signal.keyword not in {s.keyword for s in signals}:
            signals.append(signal)
    return signals


def _affirmed(pattern: re.Pattern[str], text: str) -> bool:
    """Whether the pattern occurs in the text other than negated."""
    return any(
        not _NEGATED.search(text, max(0, match.start() - _NEGATION_REACH), match.start())
        for match in pattern.finditer(text)
    )


def _is_project(signals: list[_Signal]) -> bool:
    """One strong signal, or two distinct ones of which at least one is Web3-specific.

    Generic signals alone ("launching", "live", "protocol", "wallet") also fit
    cooking apps, sports and AI news, so they never decide on their own.
    """
    strengths = {signal.strength for signal in signals}
    return "strong" in strengths or (len(signals) >= 2 and "crypto" in strengths)


def _is_signal_word(word: str) -> bool:
    return any(pattern.fullmatch(word) for _, pattern in _SIGNALS)


def _is_name_word(word: str) -> bool:
    return word.lower() not in _STOP_WORDS and not _is_signal_word(word)


def _real_handle(x_handle: str) -> str:
    """The handle without "@", or "" when unknown ("i" comes from x.com/i/web/status links)."""
    handle = x_handle.strip().lstrip("@")
    return "" if handle.lower() == "i" else handle


def _project_name(text: str, handle: str) -> str:
    """The name after Introducing/Announcing/Meet, else a capitalised name the handle spells, else
    $TICKER, else the handle's name, else a capitalised word."""
    for cue in _NAME_AFTER_CUE.finditer(text):
        words = [word for word in cue.group("first", "second") if word]
        while words and not _is_name_word(words[-1]):  # "Nova DEX" -> "Nova"; "Restake Labs" stays
            words.pop()
        if words and words[0].lower() not in _STOP_WORDS:
            return " ".join(words)
    if name := _name_spelled_by_handle(text, handle):
        return name
    if ticker := _TICKER.search(text):
        return ticker.group(1).upper()
    if handle:
        return _handle_name(handle)
    return next((word for word in _CAPITALISED_WORD.findall(text) if _is_name_word(word)), "")


def _name_spelled_by_handle(text: str, handle: str) -> str:
    """The first run of capitalised words that the handle starts with, longest first: "Pixel Punks" for
    @pixelpunksclub, "MossDAO" for @moss_dao, "Zenith" for @zenith_l2."""
    handle_letters = _NOT_ALPHANUMERIC.sub("", handle.lower())
    for run in _CAPITALISED_RUN.finditer(text):
        words = run.group().split()
        for start in range(len(words)):
            if words[start].lower() in _STOP_WORDS:
                continue
            for end in range(len(words), start, -1):
                letters = _NOT_ALPHANUMERIC.sub("", "".join(words[start:end]).lower())
                if len(letters) >= MIN_NAME_IN_HANDLE and handle_letters.startswith(letters):
                    return " ".join(words[start:end])
    return ""


def _handle_name(handle: str) -> str:
    """The handle up to its first "_" ("restakr_fi" -> "Restakr"), capitalised when it is all lower case."""
    name = handle.split("_")[0] or handle
    return name.capitalize() if name.islower() else name


def _summarise(content: str) -> str:
    """The tweet's first sentence, plus the second when both fit in SUMMARY_MAX_CHARS."""
    _, _, tweet = content.partition("\n\n")
    sentences = _sentences(tweet) or _sentences(content)
    if not sentences:
        return ""
    summary = sentences[0]
    if len(sentences) > 1:
        both = f"{_terminated(summary)} {sentences[1]}"
        if len(both) <= SUMMARY_MAX_CHARS:
            summary = both
    return _shorten(summary, SUMMARY_MAX_CHARS)


def _sentences(text: str) -> list[str]:
    """Sentences with collapsed whitespace; a line break ends a sentence too.

    Mention-only sentences are dropped; other mentions keep their name without "@".
    """
    sentences = []
    for line in _strip_markup(text).splitlines():
        for sentence in _SENTENCE_BREAK.split(" ".join(line.split())):
            if _ALPHANUMERIC.search(_MENTION.sub("", sentence)):
                sentences.append(_MENTION.sub(r"\1", sentence))
    return sentences


def _terminated(sentence: str) -> str:
    return sentence if sentence.endswith(_SENTENCE_END) else f"{sentence}."


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary so that the text plus "…" fits in `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    cut = cut.rstrip(" ,;:.-–—") or text[: limit - 1]
    return f"{cut}…"


def _keywords(text: str, signals: list[_Signal], project: str, handle: str) -> tuple[str, ...]:
    """Signal keywords (at most MAX_KEYWORDS), topped up to MIN_KEYWORDS.

    Top-ups come from the most frequent meaningful words, then the project name
    and handle, then placeholders.
    """
    keywords = [signal.keyword for signal in signals][:MAX_KEYWORDS]
    candidates = [*_frequent_words(_TICKER.sub(" ", text)), project.lower(), handle.lower(), *_FALLBACK_KEYWORDS]
    for candidate in candidates:
        if len(keywords) >= MIN_KEYWORDS:
            break
        if candidate and candidate not in keywords:
            keywords.append(candidate)
    return tuple(keywords)


def _frequent_words(text: str) -> list[str]:
    """Meaningful words, most frequent first; ties keep their first-seen order."""
    counts: dict[str, int] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) >= MIN_WORD_LENGTH and word not in _STOP_WORDS and not _is_signal_word(word):
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda word: -counts[word])  # sorted() is stable
