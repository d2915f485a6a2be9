"""X's own conformance suite for length and validity (twitter/twitter-text conformance/validate.yml,
Apache-2.0, vendored in twitter_text/) run against the functions drafts are measured and checked with.

The current config is v3 (weighted, emoji counted as one 2-weight character). Its cases are the sections
WeightedTweetsWithDiscountedEmojiCounterTest and UnicodeDirectionalMarkerCounterTest: every case is run,
for its weighted length and its validity. Not run, as they are other configs' cases: WeightedTweetsCounterTest
(v2, emoji counted per code point) and `tweets` (v1: the deprecated 140-character check; twitter-text's own
runners use isValidTweetText for it, and its "141 characters" cases are valid posts under 280).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.draft import is_valid_post, x_length

SUITE = Path(__file__).parent / "twitter_text" / "validate.yml"
CURRENT_CONFIG_SECTIONS = ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")


def current_config_cases() -> list[Any]:
    tests = yaml.safe_load(SUITE.read_text(encoding="utf-8"))["tests"]
    return [
        pytest.param(case["text"], case["expected"], id=f"{section}: {case['description']}")
        for section in CURRENT_CONFIG_SECTIONS
        for case in tests[section]
    ]


CASES = current_config_cases()


def test_the_suite_has_the_current_configs_cases() -> None:
    assert len(CASES) == 24  # 22 weighted-length cases and 2 with directional and invalid characters


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_weighted_length(text: str, expected: dict[str, Any]) -> None:
    assert x_length(text) == expected["weightedLength"]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_validity(text: str, expected: dict[str, Any]) -> None:
    assert is_valid_post(text) is expected["valid"]
