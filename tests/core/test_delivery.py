import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.delivery import (
    Attachment,
    Destination,
    DestinationError,
    Message,
    MessageField,
    attachment_file_name,
    message_document,
    message_file_stem,
    message_files_to_delete,
    message_markdown,
    parse_destinations,
)

AT = datetime(2026, 11, 30, 22, 43, 45, 123456, tzinfo=timezone.utc)
WEBHOOK = "https://discord.com/api/webhooks/1300000000000000001/s3cr3t-token"
channel_ids = st.integers(10**16, 10**20 - 1).map(str)
folders = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1).filter(lambda s: s.strip() == s)


@given(
    text=st.one_of(
        st.builds(lambda c, f: f"discord:{c}{f}", channel_ids, st.sampled_from(["", ":embed", ":markdown"])),
        st.builds(lambda p: f"webhook:https://example.com/{p}", st.text("abc/?=&-_", max_size=30)),
        st.builds(lambda u, d: f"email:{u}@{d}.org", st.text("abcdefgh.+", min_size=1), st.text("abc", min_size=1)),
        st.builds(lambda f, form: f"file:{f}{form}", folders, st.sampled_from(["", ":markdown", ":json"])),
    )
)
def test_destinations_round_trip_exactly(text: str) -> None:
    destination = Destination.parse(text)
    assert Destination.parse(str(destination)) == destination
    assert destination.key == Destination.parse(str(destination)).key


def test_a_webhook_url_is_never_spelled_out_by_key_describe_or_repr() -> None:
    destination = Destination.parse(f"webhook:{WEBHOOK}")
    for shown in (destination.key, destination.describe(), repr(destination), repr([destination])):
        assert "s3cr3t-token" not in shown
    assert destination.describe() == "webhook at discord.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slack:#general", "is not one of discord:"),
        ("discord:general", "is not a Discord channel id"),
        ("discord:1300000000000000001:fancy", "format 'fancy' is not one of embed, markdown"),
        ("webhook:ftp://example.com", r"a webhook is an http\(s\) URL"),
        ("email:nobody", "is not an email address"),
    ],
)
def test_bad_destinations_say_what_works(text: str, expected: str) -> None:
    with pytest.raises(DestinationError, match=expected):
        Destination.parse(text)


def test_each_destination_is_kept_once() -> None:
    parsed = parse_destinations(["file:out", "file:out:markdown", "discord:1300000000000000001:embed"])
    assert [str(destination) for destination in parsed] == ["file:out", "discord:1300000000000000001"]
    with pytest.raises(DestinationError, match="give at least one destination"):
        parse_destinations([])


MESSAGE = Message(
    title="Weekly summary",
    body="Hello **world**\n\n- one\n- two\n",
    fields=(MessageField("Posts", "42", inline=True), MessageField("Top", "alpha")),
    attachments=(Attachment("report.csv", b"a,b\n1,2\n"),),
    url="https://example.com/s",
    footer="guildflow",
)


def test_the_digest_follows_the_content_only() -> None:
    assert MESSAGE.digest == Message(**{**MESSAGE.__dict__}).digest
    changed = [
        Message(**{**MESSAGE.__dict__, "body": "Hello"}),
        Message(**{**MESSAGE.__dict__, "attachments": (Attachment("report.csv", b"other"),)}),
        Message(**{**MESSAGE.__dict__, "fields": (MessageField("Posts", "42"),)}),
    ]
    assert len({MESSAGE.digest, *(message.digest for message in changed)}) == 4


def test_markdown_holds_every_part_of_the_message() -> None:
    assert message_markdown(MESSAGE) == (
        "# [Weekly summary](https://example.com/s)\n\n"
        "Hello **world**\n\n- one\n- two\n\n"
        "- **Posts**: 42\n- **Top**: alpha\n\n"
        "Attachments: report.csv (8 bytes)\n\n"
        "---\nguildflow\n"
    )
    assert message_markdown(Message("", "just text")) == "just text\n"


def test_a_field_that_is_a_list_is_its_own_section_in_markdown() -> None:
    fields = (MessageField("Posts", "42"), MessageField("Key points", "- a\n- b"), MessageField("Top", "alpha"))
    assert message_markdown(Message("", "", fields=fields)) == (
        "- **Posts**: 42\n\n**Key points**\n\n- a\n- b\n\n- **Top**: alpha\n"
    )


def test_the_json_document_carries_the_attachments_inline() -> None:
    document = json.loads(json.dumps(message_document(MESSAGE, AT)))
    assert document["title"] == "Weekly summary" and document["digest"] == MESSAGE.digest
    assert document["fields"][0] == {"name": "Posts", "value": "42", "inline": True}
    assert document["delivered_at"] == "2026-11-30T22:43:45.123456+00:00"
    [attachment] = document["attachments"]
    assert base64.b64decode(attachment["content_base64"]) == b"a,b\n1,2\n" and attachment["size"] == 8


def test_file_names_sort_by_time_and_are_safe() -> None:
    stem = message_file_stem(MESSAGE, AT)
    assert stem == f"2026-11-30T22-43-45Z-weekly-summary-{MESSAGE.digest[:8]}"
    assert message_file_stem(Message("!!!", "x"), AT).count("-") == 5  # no empty slug part
    assert attachment_file_name(stem, Attachment("../../etc/passwd", b"")) == f"{stem}._.._etc_passwd"
    assert attachment_file_name(stem, Attachment(".hidden", b"")) == f"{stem}.hidden"


@given(count=st.integers(0, 12), keep=st.integers(1, 10))
def test_pruning_keeps_the_newest_messages_with_their_attachments_and_nothing_else(count: int, keep: int) -> None:
    stems = [message_file_stem(Message(f"m{n}", "x"), AT + timedelta(seconds=n)) for n in range(count)]
    names = [f"{stem}.md" for stem in stems] + [f"{stem}.data.csv" for stem in stems[::2]]
    names += ["notes.txt", "2026-01-01.md", f"{stems[0]}.md.bak" if stems else "x.json"]
    doomed = message_files_to_delete(names, keep)
    old = stems[: max(count - keep, 0)]
    assert sorted(doomed) == sorted(name for name in names if any(name.startswith(f"{stem}.") for stem in old))
    assert "notes.txt" not in doomed and "2026-01-01.md" not in doomed
