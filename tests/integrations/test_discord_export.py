import json
import os
from pathlib import Path

import pytest

from core.collection import CollectionWindow
from integrations.discord_source import ExportFileSource
from integrations.errors import SourceError
from tests.conftest import SAMPLE_EXPORTS

SINCE_LAST = CollectionWindow("since-last")


def export(channel_id: str, *messages: dict) -> dict:
    return {"guild": {"id": "1", "name": "g"}, "channel": {"id": channel_id, "name": "c"}, "messages": list(messages)}


def raw_message(id: str, content: str = "", edited: str | None = None) -> dict:
    return {
        "id": id,
        "timestamp": "2026-11-20T10:00:00.000+01:00",
        "timestampEdited": edited,
        "content": content,
        "author": {"id": "42", "name": "alice", "isBot": False},
        "embeds": [],
    }


def write(path: Path, document: object) -> str:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return str(path)


def test_sample_exports_parse_with_utc_times() -> None:
    messages = ExportFileSource(SAMPLE_EXPORTS).read_messages(SINCE_LAST, {})
    assert len(messages) >= 60
    assert len({m.channel_id for m in messages}) == 2
    assert all(m.timestamp.utcoffset().total_seconds() == 0 for m in messages)
    assert [m.id for m in messages] == sorted(m.id for m in messages)


def test_offsets_are_converted_to_utc(tmp_path: Path) -> None:
    source = ExportFileSource(write(tmp_path / "a.json", export("5", raw_message("10"))))
    [only] = source.read_messages(SINCE_LAST, {})
    assert only.timestamp.isoformat() == "2026-11-20T09:00:00+00:00"


def test_overlapping_exports_keep_the_edited_version_once(tmp_path: Path) -> None:
    write(tmp_path / "old.json", export("5", raw_message("10", "first")))
    write(tmp_path / "new.json", export("5", raw_message("10", "fixed", edited="2026-11-20T11:00:00+00:00")))
    messages = ExportFileSource(str(tmp_path / "*.json")).read_messages(SINCE_LAST, {})
    assert [m.content for m in messages] == ["fixed"]


def test_cursor_limits_what_is_read(tmp_path: Path) -> None:
    source = ExportFileSource(write(tmp_path / "a.json", export("5", raw_message("10"), raw_message("11"))))
    assert [m.id for m in source.read_messages(SINCE_LAST, {5: 10})] == [11]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{not json", "not valid JSON"),
        ([1, 2], "the file should be a JSON object"),
        ({"channel": {"id": "5"}}, "field messages is missing"),
        ({"channel": {"id": "5"}, "messages": [{"id": "1"}]}, "message 1 .number 1 in the file.: field timestamp"),
        (export("5", {**raw_message("1"), "timestamp": "yesterday"}), "field timestamp must be an ISO 8601 time"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON .recursion limit exceeded"),
    ],
)
def test_bad_exports_name_the_file_and_the_fix(tmp_path: Path, document: object, expected: str) -> None:
    path = write(tmp_path / "bad.json", document)
    with pytest.raises(SourceError, match=expected) as raised:
        ExportFileSource(path).read_messages(SINCE_LAST, {})
    assert "bad.json" in str(raised.value) and "DiscordChatExporter" in str(raised.value)


def with_author(**author: object) -> dict:
    return {**raw_message("12"), "author": {"id": "42", "name": "alice", **author}}


@pytest.mark.parametrize(
    ("bad", "where", "field"),
    [
        (with_author(isBot="false"), "message 12", 'field author.isBot should be a valid boolean .it is "false".'),
        (with_author(), "message 12", "field author.isBot is missing"),
        ({**raw_message("-12")}, "message -12", "field id must be a Discord id"),
        ({**raw_message("12"), "id": -12}, "message -12", "field id must be a Discord id"),
        ({**raw_message("12"), "id": 12.0}, "message number 2", "field id must be a Discord id"),
        ({**raw_message("12"), "id": True}, "message number 2", "field id must be a Discord id"),
        ({**raw_message("12"), "id": "0"}, "message 0", "field id must be a Discord id"),
        ({**raw_message("12"), "content": {"text": "hi"}}, "message 12", "field content should be a valid string"),
        ({**raw_message("12"), "content": None}, "message 12", "field content should be a valid string"),
        ({**raw_message("12"), "embeds": "none"}, "message 12", "field embeds should be a valid array"),
        ({**raw_message("12"), "embeds": ["x"]}, "message 12", "field embeds.0. should be a JSON object"),
        ({**raw_message("12"), "embeds": [{"author": "bob"}]}, "message 12", "field embeds.0..author should be a"),
        ({**raw_message("12"), "embeds": [{"description": 7}]}, "message 12", "field embeds.0..description"),
        ({**raw_message("12"), "timestamp": "2026-11-20T10:00:00"}, "message 12", "field timestamp has no UTC offset"),
        ({**raw_message("12"), "timestampEdited": 1700000000}, "message 12", "field timestampEdited must be an ISO"),
        ("not a message", "message number 2", "the message should be a JSON object"),
    ],
)
def test_a_message_that_does_not_fit_the_format_names_file_message_and_field(
    tmp_path: Path, bad: object, where: str, field: str
) -> None:
    path = write(tmp_path / "bad.json", export("5", raw_message("11"), bad))  # type: ignore[arg-type]
    with pytest.raises(SourceError, match=f"bad.json: .*{where}.*: {field}") as raised:
        ExportFileSource(path).read_messages(SINCE_LAST, {})
    assert "nothing was collected" in str(raised.value)


def test_ids_are_digit_strings_or_positive_whole_numbers(tmp_path: Path) -> None:
    document = export("5", raw_message("10"), {**raw_message("11"), "id": 11})
    document["channel"]["id"] = 5
    messages = ExportFileSource(write(tmp_path / "a.json", document)).read_messages(SINCE_LAST, {})
    assert [(m.channel_id, m.id) for m in messages] == [(5, 10), (5, 11)]


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_path_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    write(tmp_path / "a.json", export("5", raw_message("10")))
    special = tmp_path / "b.json"
    os.mkfifo(special) if kind == "fifo" else special.mkdir()
    with pytest.raises(
        SourceError, match="b.json is a (FIFO .named pipe.|folder), not a regular file.*GUILDFLOW_DISCORD_EXPORT"
    ):
        ExportFileSource(str(tmp_path / "*.json")).read_messages(SINCE_LAST, {})


def test_fields_guildflow_does_not_read_are_ignored(tmp_path: Path) -> None:
    extra = {**raw_message("10"), "type": "Reply", "reactions": [{"emoji": {}}], "future": {"nested": [1]}}
    extra["author"] = {**extra["author"], "roles": [{"id": "1"}], "avatarUrl": None}
    [only] = ExportFileSource(write(tmp_path / "a.json", export("5", extra))).read_messages(SINCE_LAST, {})
    assert only.id == 10 and not only.author_is_bot


def test_embed_text_loses_discords_markdown_escapes(tmp_path: Path) -> None:
    tweet = {
        "url": "https://x.com/orbit/status/3",
        "title": r"Orbit \(@orbit\\_fi\) on X",
        "description": r"Orbit Protocol\. Mainnet Update\! \#DeFi",
        "author": {"name": "Orbit (@orbit_fi)", "url": "https://x.com/orbit_fi"},
    }
    message = {**raw_message("10", r"gm \\o/ \*"), "embeds": [tweet]}
    [only] = ExportFileSource(write(tmp_path / "a.json", export("5", message))).read_messages(SINCE_LAST, {})
    [embed] = only.embeds
    assert embed.description == "Orbit Protocol. Mainnet Update! #DeFi"
    assert embed.title == r"Orbit (@orbit\_fi) on X"
    assert only.content == r"gm \\o/ \*"  # what a member typed is kept as written


def test_one_bad_file_fails_the_whole_read(tmp_path: Path) -> None:
    write(tmp_path / "a.json", export("5", raw_message("10")))
    write(tmp_path / "b.json", "[]")
    with pytest.raises(SourceError, match="b.json"):
        ExportFileSource(str(tmp_path / "*.json")).read_messages(SINCE_LAST, {})


def test_nothing_matching_says_which_setting_to_change(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="GUILDFLOW_DISCORD_EXPORT"):
        ExportFileSource(str(tmp_path / "missing*.json")).check()
