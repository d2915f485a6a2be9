import importlib.util
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.collection import CollectionWindow, dedupe_posts, posts_in_messages
from core.models import Analysis, Post
from core.offline_analysis import analyse_offline
from integrations.discord_source import ExportFileSource
from tests.conftest import REPO, SAMPLE_EXPORTS

DEX_LAUNCH = (
    "gm fam, new DEX dropping https://x.com/SwapX_fi/status/1789\n\n"
    "🚀 SwapX is live! The first intent-based DEX on Base. Trade now: https://swapx.xyz"
)
TOKEN_TGE = "$NOVA TGE is tomorrow! Claim your tokens at 14:00 UTC and stake for boosted rewards."
TESTNET_LIVE = "Our public testnet is live 🔥 Spin up a node and start testing today: https://docs.aurora.dev"
NFT_MINT = "Mint opens tomorrow for Pixel Pals, 5,555 hand-drawn NFTs on Ethereum. Allowlist spots are going fast!"
RESTAKING_RAISE = (
    "We raised a $20M seed round led by Paradigm to build Restake Labs, "
    "the restaking protocol securing the next wave of rollups."
)

SPORTS = "LIVE: Lakers vs Celtics from Crypto.com Arena. LeBron launches a three at the buzzer! 🏀"
COOKING_APP = (
    "We are launching our cooking app next week! Thousands of recipes, live cooking classes and a smart shopping list."
)
AI_MODEL = (
    "Introducing Gemini 3: our most capable model yet, with a 2M token context window "
    "and Model Context Protocol support."
)
MEME = "me explaining to my mom why I bought a picture of a monkey 😭😭 https://x.com/memes/status/1"
PRICE_ONLY = "Acme just closed a $12M round to expand across Europe."

PROJECTS = [DEX_LAUNCH, TOKEN_TGE, TESTNET_LIVE, NFT_MINT, RESTAKING_RAISE]
NON_PROJECTS = [SPORTS, COOKING_APP, AI_MODEL, MEME, PRICE_ONLY]
ALL_POSTS = PROJECTS + NON_PROJECTS

SENTENCE_END = re.compile(r"[.!?…](?:\s|$)")


@pytest.mark.parametrize(
    ("content", "x_handle", "project"),
    [
        (DEX_LAUNCH, "SwapX_fi", "SwapX"),
        (TOKEN_TGE, "novaxyz", "NOVA"),
        (TESTNET_LIVE, "auroradev", "Auroradev"),
        (NFT_MINT, "pixelpals", "Pixel Pals"),
        (RESTAKING_RAISE, "restakelabs", "Restake Labs"),
    ],
)
def test_recognises_project_announcements_and_names_them(content: str, x_handle: str, project: str) -> None:
    analysis = analyse_offline(content, x_handle, "summary")

    assert analysis.is_project
    assert analysis.project == project


@pytest.mark.parametrize("content", NON_PROJECTS)
def test_rejects_posts_that_announce_no_project(content: str) -> None:
    analysis = analyse_offline(content, "someone", "summary")

    assert not analysis.is_project
    assert analysis.project == ""


@pytest.mark.parametrize(
    ("content", "is_project"),
    [
        ("Introducing our new tokenizer, launching today.", False),
        ("Introducing the NOVA token, launching today.", True),
        ("Serving 100 tokens per second, launching today.", False),
    ],
)
def test_token_counts_only_in_its_crypto_sense(content: str, is_project: bool) -> None:
    assert analyse_offline(content, "", "summary").is_project is is_project


@pytest.mark.parametrize(
    ("content", "is_project"),
    [
        ("not crypto but $40M for AI meeting notes\n\nNoteLoom raises $40M Series B for meeting notes.", False),
        ("Acme raises $40M for non-crypto payments.", False),
        ("No token, no airdrop: just our wallet redesign, live today.", False),
        ("Crypto wallet Acme raises $40M.", True),
        ("Not a joke: the airdrop is live.", True),
    ],
)
def test_a_negated_signal_does_not_count(content: str, is_project: bool) -> None:
    assert analyse_offline(content, "", "summary").is_project is is_project


def test_generic_signals_alone_do_not_make_a_project() -> None:
    content = "Launching our wallet redesign, live now on every chain of stores."

    assert not analyse_offline(content, "", "summary").is_project


def test_one_strong_signal_is_enough() -> None:
    assert analyse_offline("Airdrop claims close Friday.", "", "summary").is_project


@pytest.mark.parametrize(
    ("content", "x_handle", "project"),
    [
        ("Introducing Nova Swap: the first DEX on Base.", "novaswap", "Nova Swap"),
        ("Announcing: SwapX, the DEX for everyone. Mainnet in May.", "swapx", "SwapX"),
        ("Meet Restake Labs. The restaking protocol for rollups.", "restake", "Restake Labs"),
        ("Introducing Nova DEX, live on Base.", "", "Nova"),
        ("We are introducing our new testnet today.", "aurora", "Aurora"),
        ("Our testnet is live.", "@aurora", "Aurora"),
        ("Our testnet is live.", "Aurora_Labs", "Aurora"),
        ("Our testnet is live.", "dYdX", "dYdX"),
        ("Aurora mainnet is live, with Sepolia ETH bridged.", "aurora_dev", "Aurora"),
        ("Mint Labs mainnet is live.", "mintlabs_xyz", "Mint Labs"),
        ("Pixel Punks NFT mint opens today.", "pixelpunksclub", "Pixel Punks"),
        ("Airdrop for early users: MossDAO snapshot is done. The $MOSS claim opens soon.", "moss_dao", "MossDAO"),
        ("The $MOSS airdrop is here.", "moss_dao", "MOSS"),
        ("The $nova airdrop is live.", "novaxyz", "NOVA"),
        ("Big news! Zephyr mainnet is live.", "i", "Zephyr"),
        ("Big news! Zephyr mainnet is live.", "", "Zephyr"),
    ],
)
def test_extracts_the_project_name(content: str, x_handle: str, project: str) -> None:
    assert analyse_offline(content, x_handle, "summary").project == project


def test_summary_prefers_the_tweet_text() -> None:
    analysis = analyse_offline(DEX_LAUNCH, "SwapX_fi", "summary")

    assert analysis.summary == "🚀 SwapX is live! The first intent-based DEX on Base."
    assert analysis.keywords == ()


def test_summary_falls_back_to_the_message_when_the_tweet_part_is_empty() -> None:
    content = "Nova mainnet is live.\n\nhttps://x.com/nova/status/1"

    assert analyse_offline(content, "nova", "summary").summary == "Nova mainnet is live."


@pytest.mark.parametrize("content", ALL_POSTS)
def test_summary_is_short_clean_and_at_most_two_sentences(content: str) -> None:
    summary = analyse_offline(content, "someone", "summary").summary

    assert 0 < len(summary) <= 200
    assert "http" not in summary and "x.com" not in summary
    assert summary == " ".join(summary.split())
    assert len(SENTENCE_END.findall(summary)) <= 2


def test_summary_keeps_only_the_first_two_sentences() -> None:
    content = "Nova is live. Bridge now. Stake later. Farm forever."

    assert analyse_offline(content, "", "summary").summary == "Nova is live. Bridge now."


def test_summary_drops_a_second_sentence_that_does_not_fit() -> None:
    second = "Then " + "very " * 50 + "long."
    content = f"Nova is live. {second}"

    assert analyse_offline(content, "", "summary").summary == "Nova is live."


def test_summary_treats_line_breaks_as_sentence_ends() -> None:
    content = "Nova is live\nBridge   now\nStake later"

    assert analyse_offline(content, "", "summary").summary == "Nova is live. Bridge now"


def test_long_summary_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    sentence = "Nova " + " ".join(f"word{i}" for i in range(60)) + " ends here"

    summary = analyse_offline(sentence, "", "summary").summary

    assert len(summary) <= 200
    assert summary.endswith("…")
    kept = summary.removesuffix("…")
    assert sentence.startswith(kept)
    assert sentence[len(kept)] == " "


def test_summary_drops_discord_markup_and_mention_noise() -> None:
    content = "<@123456> <:pepe:789> **huge**\n\n@alice @bob\nBuilt with @eigenlayer on [Base](https://base.org)."

    assert analyse_offline(content, "", "summary").summary == "Built with eigenlayer on Base."


def test_empty_content_gives_an_empty_summary() -> None:
    assert analyse_offline("", "", "summary") == Analysis(is_project=False)


@pytest.mark.parametrize("content", ALL_POSTS)
def test_keywords_are_three_to_five_distinct_lowercase_words(content: str) -> None:
    analysis = analyse_offline(content, "someone", "keywords")

    assert 3 <= len(analysis.keywords) <= 5
    assert len(set(analysis.keywords)) == len(analysis.keywords)
    assert all(keyword and keyword == keyword.lower() for keyword in analysis.keywords)
    assert analysis.summary == ""


def test_keywords_start_with_the_signals_then_frequent_words() -> None:
    assert analyse_offline(DEX_LAUNCH, "SwapX_fi", "keywords").keywords == ("dex", "launch", "dropping")


def test_keywords_never_come_from_urls_handles_or_stop_words() -> None:
    content = "@novaswap check https://novaswap.xyz/path this this this recipes recipes cooking"

    assert analyse_offline(content, "", "keywords").keywords == ("recipes", "cooking", "post")


def test_keywords_keep_at_most_five_signals() -> None:
    content = "Mainnet, testnet, airdrop, TGE, presale and mint for our NFT DEX."

    keywords = analyse_offline(content, "", "keywords").keywords

    assert keywords == ("mainnet", "testnet", "airdrop", "tge", "presale")


def test_short_text_keywords_are_padded_from_the_project_and_handle() -> None:
    assert analyse_offline("$NOVA TGE", "NovaXYZ", "keywords").keywords == ("nova", "tge", "novaxyz")


def test_empty_text_still_gets_three_keywords() -> None:
    assert len(analyse_offline("", "", "keywords").keywords) == 3


@pytest.mark.parametrize("mode", ["summary", "keywords"])
def test_is_deterministic(mode: str) -> None:
    first = [analyse_offline(content, "someone", mode) for content in ALL_POSTS]
    second = [analyse_offline(content, "someone", mode) for content in ALL_POSTS]

    assert first == second


def test_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match=r"^unknown analysis mode 'x': use 'summary' or 'keywords'$"):
        analyse_offline("Nova mainnet is live.", "nova", "x")  # type: ignore[arg-type]


# --- the demo sample's intended answer ---------------------------------------------------------------

SAMPLE_ANSWER = json.loads((REPO / "tests" / "core" / "data" / "sample_projects.json").read_text())["posts"]
INTENDED = {post["post_link"]: post["project"] for post in SAMPLE_ANSWER}
SAMPLE_MESSAGES = ExportFileSource(SAMPLE_EXPORTS).read_messages(CollectionWindow("since-last"), {})


def found_projects(posts: list[Post]) -> dict[str, str | None]:
    """Post link -> the project the offline rules name, None when they find none."""
    analyses = {post.post_link: analyse_offline(post.content, post.x_handle, "summary") for post in posts}
    return {link: analysis.project if analysis.is_project else None for link, analysis in analyses.items()}


def test_the_intended_answer_is_the_sample_generators() -> None:
    """tests/core/data/sample_projects.json agrees with examples/make_sample_export.py on which posts are projects."""
    spec = importlib.util.spec_from_file_location("make_sample_export", REPO / "examples" / "make_sample_export.py")
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    meant = {f"https://x.com/{t['handle']}/status/{t['id']}": t["is_project"] for t in generator.TWEETS.values()}

    assert {link: project is not None for link, project in INTENDED.items()} == meant


@pytest.mark.parametrize("include_bots", [False, True])
def test_the_demo_finds_exactly_the_samples_projects(include_bots: bool) -> None:
    """What `make demo` collects and analyses: each post once, from its first message."""
    collected = {
        post["post_link"]
        for post in SAMPLE_ANSWER
        if include_bots or any(not message["bot"] for message in post["messages"])
    }
    posts = dedupe_posts(posts_in_messages(SAMPLE_MESSAGES, include_bots), set()).new

    assert found_projects(posts) == {link: INTENDED[link] for link in collected}


def test_every_message_of_a_post_gives_the_intended_answer() -> None:
    """Whichever message a post is collected from (a bot's, a repost, a link without a preview)."""
    posts = posts_in_messages(SAMPLE_MESSAGES, include_bots=True)
    intended_sightings = {
        (message["message_id"], post["post_link"]) for post in SAMPLE_ANSWER for message in post["messages"]
    }
    assert {(str(post.message_id), post.post_link) for post in posts} == intended_sightings

    for post in posts:
        assert found_projects([post]) == {post.post_link: INTENDED[post.post_link]}, post.content


VOCABULARY = [
    "Introducing",
    "Meet",
    "$NOVA",
    "$12M",
    "mainnet",
    "token",
    "NFT",
    "mint",
    "@nova",
    "https://x.com/a/status/1",
    "<@123>",
    "**",
    "\n\n",
    "\n",
    ". ",
    "…",
    "🚀",
    "Crypto.com",
]
posts = st.lists(st.one_of(st.sampled_from(VOCABULARY), st.text()), max_size=40).map(" ".join)


@given(
    content=st.one_of(st.text(), posts), x_handle=st.text(max_size=20), mode=st.sampled_from(["summary", "keywords"])
)
def test_any_text_gives_a_well_shaped_analysis(content: str, x_handle: str, mode: str) -> None:
    analysis = analyse_offline(content, x_handle, mode)  # type: ignore[arg-type]

    assert analysis == analyse_offline(content, x_handle, mode)  # type: ignore[arg-type]
    assert len(analysis.summary) <= 200
    if mode == "keywords":
        assert 3 <= len(analysis.keywords) <= 5
        assert len(set(analysis.keywords)) == len(analysis.keywords)
    else:
        assert analysis.keywords == ()
    if not analysis.is_project:
        assert analysis.project == ""
