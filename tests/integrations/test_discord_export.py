import json
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
        ([1, 2], "not a DiscordChatExporter JSON export"),
        ({"channel": {"id": "5"}}, "missing field 'messages'"),
        ({"channel": {"id": "5"}, "messages": [{"id": "1"}]}, "missing field 'author'"),
        (export("5", {**raw_message("1"), "timestamp": "yesterday"}), "not a DiscordChatExporter JSON export"),
    ],
)
def test_bad_exports_name_the_file_and_the_fix(tmp_path: Path, document: object, expected: str) -> None:
    path = write(tmp_path / "bad.json", document)
    with pytest.raises(SourceError, match=expected) as raised:
        ExportFileSource(path).read_messages(SINCE_LAST, {})
    assert "bad.json" in str(raised.value) and "DiscordChatExporter" in str(raised.value)


def test_one_bad_file_fails_the_whole_read(tmp_path: Path) -> None:
    write(tmp_path / "a.json", export("5", raw_message("10")))
    write(tmp_path / "b.json", "[]")
    with pytest.raises(SourceError, match="b.json"):
        ExportFileSource(str(tmp_path / "*.json")).read_messages(SINCE_LAST, {})


def test_nothing_matching_says_which_setting_to_change(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="GUILDFLOW_DISCORD_EXPORT"):
        ExportFileSource(str(tmp_path / "missing*.json")).check()
