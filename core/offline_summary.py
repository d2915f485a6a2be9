"""The extractive summariser: the embedded offline default when no model is configured. It picks representative
messages (those richest in the conversation's frequent words, decisions first), counts participants, finds
action-like sentences and jargon. No model, no network, no clock: the same messages always get the same summary,
in the same schema as a model's (core.summaries.ChannelSummary)."""

from __future__ import annotations

import math
import re
from collections import Counter

from core.models import DiscordMessage
from core.summaries import (
    KEY_POINTS,
    ActionItem,
    ChannelSummary,
    KeyPoint,
    Participant,
    SummaryOptions,
    TechnicalTerm,
    message_text,
)

OFFLINE_SUMMARISER_VERSION = "offline-summary-1"  # bump when the rules change: it is part of the cache keys

POINT_MAX_CHARS = 220
MAX_ACTION_ITEMS = 15
MAX_TERMS = {"brief": 5, "detailed": 8, "comprehensive": 12}
TOP_TOPICS = 3
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'_-]{2,}")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_STOPWORDS = frozenset(
    """about above after again also always among another anyone anything around because been before being below
    between both but can cannot could did does doing done down during each either else even ever every few for from
    further get gets getting going gonna got had has have having her here hers him his how however into its itself
    just know last least less let like likely lol made make many maybe might mine more most much must need needs
    never next nice now off okay once one only other our ours out over own pretty probably quite rather really right
    said same say see seems should since some something still such sure than thanks thank that the their theirs them
    then there these they thing things think this those though through too under until upon very want was way well
    were what whatever when where whether which while who whom whose why will with within without would yeah yes yet
    you your yours yep nope ok all and any are not had his its our out was who get got has let may new use used using
    one two also the this that with""".split()
)
_DECISION = re.compile(
    r"\b(decided|decision|agreed|we'?ll go with|going with|let'?s go with|approved|final(?:ly|ised|ized)?|"
    r"ship(?:ping)? it|conclusion|resolved|settled on)\b",
    re.IGNORECASE,
)
_ACTION = re.compile(
    r"\b(todo|to-do|action item|i'?ll|i will|i can take|can you|could you|please|needs? to|has to|have to|"
    r"let'?s|assign(?:ed)? to|owns?|will (?:handle|fix|write|update|review|send|prepare|draft))\b",
    re.IGNORECASE,
)
MIN_ACTION_WORDS = 5
_FIRST_PERSON = re.compile(r"\b(i'?ll|i will|i can take)\b", re.IGNORECASE)
_MENTION = re.compile(r"@([A-Za-z0-9_.-]{2,32})")
_DUE = re.compile(
    r"\b(?:by|before|until|due|on)\s+(?P<due>(?:next\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|tomorrow|tonight|today|eod|end of (?:day|week|month)|\d{4}-\d\d-\d\d|\d{1,2}(?:st|nd|rd|th)?\s+\w+))\b",
    re.IGNORECASE,
)
_ACRONYM = re.compile(r"(?<![\w$])[A-Z][A-Z0-9]{1,6}s?(?!\w)")
_CODE = re.compile(r"`([^`\n]{2,40})`")
_COMPOUND = re.compile(
    r"(?<!\w)[a-z]+(?:[A-Z][a-z0-9]+)+(?!\w)|(?<!\w)[a-z0-9]+(?:_[A-Za-z0-9]+)+(?!\w)|(?<!\w)[a-z]{1,4}\d{2,3}(?!\w)"
)
# "X is the/a/an ...", "X is when ...", "X means ...", "X stands for ...", where a sentence or clause starts.
_DEFINITION = re.compile(
    r"(?:^|[.!?:;]\s+)(?:(?:a|an|the)\s+)?(?P<term>[\w-]{2,30})\s+(?P<link>is (?:the|a|an|when)|means|stands for)\s+"
    r"(?P<what>[^.!?\n]{8,160})",
    re.IGNORECASE,
)
_COMMON_CAPS = frozenset(
    {"I", "OK", "LOL", "AM", "PM", "UTC", "THE", "AND", "IMO", "TBH", "BTW", "FYI", "ASAP", "USD", "EUR"}
)
MIN_TOPIC_WORDS = 5  # shorter messages ("sounds good") say nothing about the topics


def summarise_offline(messages: list[DiscordMessage], options: SummaryOptions) -> ChannelSummary:
    """The summary of some messages (oldest first)."""
    frequencies = _word_frequencies(messages)
    participants = _participants(messages)
    key_points = _key_points(messages, frequencies, KEY_POINTS[options.length])
    topics = [word for word, _ in frequencies.most_common(TOP_TOPICS)]
    return ChannelSummary(
        overview=_overview(len(messages), participants, topics, key_points, options),
        key_points=key_points,
        action_items=_action_items(messages) if options.action_items else [],
        technical_terms=_technical_terms(messages, MAX_TERMS[options.length]) if options.technical_terms else [],
        participants=participants,
    )


def combine_offline(summaries: list[ChannelSummary], options: SummaryOptions) -> ChannelSummary:
    """One summary of several consecutive ones: participants added up, key points taken from each in turn."""
    counts: Counter[str] = Counter()
    for summary in summaries:
        for participant in summary.participants:
            counts[participant.name] += participant.messages
    participants = [Participant(name=name, messages=count) for name, count in _ranked(counts)]
    key_points = _round_robin([summary.key_points for summary in summaries], KEY_POINTS[options.length])
    actions: dict[str, ActionItem] = {}
    for summary in summaries:
        for item in summary.action_items:
            actions.setdefault(item.text.lower(), item)
    terms: dict[str, TechnicalTerm] = {}
    for summary in summaries:
        for term in summary.technical_terms:
            terms.setdefault(term.term.lower(), term)
    topic_words: Counter[str] = Counter()
    for point in key_points:
        topic_words.update(word.lower() for word in _WORD.findall(point.text) if _content_word(word))
    topics = [word for word, _ in _ranked(topic_words)[:TOP_TOPICS]]
    return ChannelSummary(
        overview=_overview(sum(counts.values()), participants, topics, key_points, options),
        key_points=key_points,
        action_items=list(actions.values())[:MAX_ACTION_ITEMS],
        technical_terms=list(terms.values())[: MAX_TERMS[options.length]],
        participants=participants,
    )


def _content_word(word: str) -> bool:
    return word.lower() not in _STOPWORDS and not word.isdigit()


def _word_frequencies(messages: list[DiscordMessage]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in dict.fromkeys(message_text(message) for message in messages):  # a repeated text counts once
        if len(text.split()) >= MIN_TOPIC_WORDS:
            counts.update({word.lower() for word in _WORD.findall(text) if _content_word(word)})
    return Counter({word: count for word, count in counts.items() if count > 1})


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


def _participants(messages: list[DiscordMessage]) -> list[Participant]:
    counts = Counter(message.author_name or str(message.author_id) for message in messages)
    return [Participant(name=name, messages=count) for name, count in _ranked(counts)]


def _score(message: DiscordMessage, frequencies: Counter[str]) -> float:
    words = [word.lower() for word in _WORD.findall(message_text(message)) if _content_word(word)]
    if len(words) < 3:
        return 0.0
    score = sum(frequencies.get(word, 0) for word in set(words)) / math.sqrt(len(words))
    return score * 2 if _DECISION.search(message.content) else score


def _key_points(messages: list[DiscordMessage], frequencies: Counter[str], count: int) -> list[KeyPoint]:
    scored = [(score, message) for message in messages if (score := _score(message, frequencies)) > 0]
    best = sorted(scored, key=lambda item: (-item[0], item[1].id))[:count]
    chosen = sorted((message for _, message in best), key=lambda message: message.id)
    return [
        KeyPoint(text=f"{message.author_name}: {_shortened(message_text(message))}", message_ids=[str(message.id)])
        for message in chosen
    ]


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= POINT_MAX_CHARS:
        return text
    cut = text[:POINT_MAX_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "..."


def _overview(
    count: int, participants: list[Participant], topics: list[str], points: list[KeyPoint], options: SummaryOptions
) -> str:
    people = len(participants)
    most = ", ".join(person.name for person in participants[:3])
    sentences = [
        f"{count} message{'s' if count != 1 else ''} from {people} participant{'s' if people != 1 else ''}"
        + (f", most active: {most}." if most else ".")
    ]
    if topics:
        sentences.append(f"Most discussed: {', '.join(topics)}.")
    if options.length != "brief" and points:
        sentences.append(f"Highlight: {points[0].text}")
    return " ".join(sentences)


def _action_items(messages: list[DiscordMessage]) -> list[ActionItem]:
    items: dict[str, ActionItem] = {}
    for message in messages:
        for sentence in _SENTENCE.split(message.content):
            sentence = sentence.strip()
            if (
                len(sentence) < 8
                or not _ACTION.search(sentence)
                or sentence.endswith("?")
                and "can you" not in sentence.lower()
            ):
                continue
            mention = _MENTION.search(sentence)
            owner = mention[1] if mention else message.author_name if _FIRST_PERSON.search(sentence) else ""
            due = _DUE.search(sentence)
            text = _shortened(sentence)
            items.setdefault(
                text.lower(),
                ActionItem(text=text, owner=owner, due=due["due"] if due else "", message_id=str(message.id)),
            )
    return list(items.values())[:MAX_ACTION_ITEMS]


def _technical_terms(messages: list[DiscordMessage], limit: int) -> list[TechnicalTerm]:
    """Terms the messages define ("TVL is the total value locked"), then jargon by how often it is used
    (acronyms, `code`, camelCase and snake_case names, p99-like names), with where it was first used."""
    counts: Counter[str] = Counter()
    first_use: dict[str, str] = {}
    defined: dict[str, TechnicalTerm] = {}
    for message in messages:
        text = message.content
        for definition in _DEFINITION.finditer(text):
            term = definition["term"]
            key = term.lower()
            if key not in defined and _content_word(term):
                link = definition["link"].removeprefix("is ")
                defined[key] = TechnicalTerm(term=term, definition=f"{link} {definition['what'].strip()}")
        found = [match for match in _ACRONYM.findall(text) if match.rstrip("s") not in _COMMON_CAPS]
        found += _CODE.findall(text) + _COMPOUND.findall(text)
        for term in found:
            counts[term] += 1
            first_use.setdefault(term, f"{message.author_name}: {_shortened(text)}")
    terms = list(defined.values())
    for term, count in _ranked(counts):
        if term.lower() not in defined:
            uses = f"used {count} time{'s' if count != 1 else ''}"
            terms.append(TechnicalTerm(term=term, definition=f'{uses}; first: "{first_use[term][:120]}"'))
    return terms[:limit]


def _round_robin(lists: list[list[KeyPoint]], count: int) -> list[KeyPoint]:
    """Points from each list in turn (so every part of a long window is represented), in their original order."""
    picked: set[tuple[int, int]] = set()
    depth = 0
    while len(picked) < count and any(depth < len(points) for points in lists):
        for index, points in enumerate(lists):
            if depth < len(points) and len(picked) < count:
                picked.add((index, depth))
        depth += 1
    return [lists[index][position] for index, position in sorted(picked)]
