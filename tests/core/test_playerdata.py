import gzip
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.playerdata import (
    DISCORD_UPLOAD_CAP,
    PlayerDataError,
    compress,
    encode,
    export_file_name,
    guild_ids,
    parse_player_data,
    plan_export,
    plan_restore,
    read_export,
    serialize_like,
    server_export,
)
from tests.conftest import REPO

SAMPLE = (REPO / "examples" / "playerData.json").read_bytes()
DATA = json.loads(SAMPLE)
GUILDS = guild_ids(DATA)
AT = datetime(2026, 11, 22, 0, 41, 5, 123456, tzinfo=timezone.utc)


def test_sample_has_guilds_and_the_two_other_keys() -> None:
    assert len(GUILDS) == 5
    assert set(DATA) - set(GUILDS) == {"/* Server ID */", "environmentConfig"}


def test_server_export_wraps_the_guild_unchanged() -> None:
    guild = GUILDS[0]
    export = server_export(DATA, guild, AT)
    assert export == {
        "exportVersion": "1.0",
        "exportDate": "2026-11-22T00:41:05.123Z",
        "dataType": "playerData",
        "guildId": guild,
        "guildName": DATA[guild]["serverName"],
        "data": DATA[guild],
    }


def test_guild_without_a_name_is_unknown() -> None:
    assert server_export(DATA, GUILDS[-1], AT)["guildName"] == "Unknown"


def test_unknown_guild_and_template_key_are_refused() -> None:
    with pytest.raises(PlayerDataError, match="guild 123456789012345678 is not in playerData \\(5 guilds"):
        server_export(DATA, "123456789012345678", AT)
    with pytest.raises(PlayerDataError, match="is not in playerData"):
        server_export(DATA, "/* Server ID */", AT)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"{broken", "not valid JSON"), (b"[1, 2]", "must hold a JSON object keyed by guild id, not a list")],
)
def test_bad_player_data_names_the_file(raw: bytes, expected: str) -> None:
    with pytest.raises(PlayerDataError, match=f"playerData.json .*{expected}|{expected}"):
        parse_player_data(raw, "playerData.json")


def test_file_names() -> None:
    assert export_file_name("ALL", AT, False) == "playerdata-scheduled-ALL-2026-11-22T00-41-05-123Z.json"
    assert (
        export_file_name("42", AT, True, (2, 3))
        == "playerdata-scheduled-42-2026-11-22T00-41-05-123Z-part-2-of-3.json.gz"
    )


def test_small_all_export_is_the_file_unchanged() -> None:
    plan = plan_export("all", SAMPLE, DATA, "ALL", AT)
    [file] = plan.files
    assert file.content == SAMPLE and file.name.endswith(".json") and file.guilds == 5
    assert plan.warning == ""


def test_close_to_the_cap_warns() -> None:
    plan = plan_export("all", SAMPLE, DATA, "ALL", AT, cap=int(len(SAMPLE) / 0.85))
    assert "85% of the" in plan.warning


def test_over_the_cap_is_gzipped() -> None:
    plan = plan_export("all", SAMPLE, DATA, "ALL", AT, cap=len(SAMPLE) - 1)
    [file] = plan.files
    assert file.name.endswith(".json.gz") and gzip.decompress(file.content) == SAMPLE


def test_still_over_the_cap_splits_by_guild_into_valid_parts() -> None:
    cap = len(gzip.compress(SAMPLE)) // 2
    plan = plan_export("all", SAMPLE, DATA, "ALL", AT, cap=cap)
    assert len(plan.files) >= 2
    assert all(len(file.content) <= cap for file in plan.files)
    parts = [json.loads(gzip.decompress(file.content)) for file in plan.files]
    merged = {key: value for part in parts for key, value in part.items()}
    assert merged == DATA
    assert sum(file.guilds for file in plan.files) == 5
    assert [file.name.split("-part-")[1] for file in plan.files][0] == f"1-of-{len(plan.files)}.json.gz"


def test_a_guild_too_large_even_alone_fails_clearly() -> None:
    with pytest.raises(PlayerDataError, match="alone is .* gzipped, over the .* upload cap"):
        plan_export("all", SAMPLE, DATA, "ALL", AT, cap=1000)
    wrapper = encode(server_export(DATA, GUILDS[0], AT))
    with pytest.raises(PlayerDataError, match=f"guild {GUILDS[0]} is .* even gzipped"):
        plan_export("server", wrapper, DATA, GUILDS[0], AT, cap=1000)


def test_default_cap_is_discords_10_mib() -> None:
    assert DISCORD_UPLOAD_CAP == 10 * 1024 * 1024


def test_restore_of_a_server_export_reports_player_changes() -> None:
    guild = GUILDS[0]
    exported = server_export(DATA, guild, AT)
    current = json.loads(SAMPLE)
    players = current[guild]["players"]
    gone, changed = list(players)[:2]
    del players[gone]
    players[changed]["gold"] += 1
    players["999999999999999999"] = {"userId": "999999999999999999"}
    current[guild]["prefix"] = "$"
    plan = plan_restore(current, read_export([("x.json", encode(exported))]))
    changes = plan.guilds[guild]
    assert (changes.players_added, changes.players_removed, changes.players_changed) == (
        [gone],
        ["999999999999999999"],
        [changed],
    )
    assert changes.keys_changed == ["prefix"]
    assert plan.restored == DATA
    assert plan.top_level_keys_changed == [guild]
    assert "players +1 -1 ~1" in plan.describe()


def test_restore_checks_the_guild() -> None:
    exported = encode(server_export(DATA, GUILDS[0], AT))
    with pytest.raises(PlayerDataError, match=f"export is of guild {GUILDS[0]}, not {GUILDS[1]}"):
        plan_restore(DATA, read_export([("x.json", exported)]), guild_id=GUILDS[1])


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"exportVersion": "1.0", "dataType": "guildConfig", "guildId": "1" * 18, "data": {}}, "not a playerData"),
        ({"exportVersion": "2.0", "dataType": "playerData", "guildId": "1" * 18, "data": {}}, "export version '2.0'"),
        ({"exportVersion": "1.0", "dataType": "playerData", "data": {}}, "needs a guildId"),
    ],
)
def test_invalid_exports_are_refused(document: dict, expected: str) -> None:
    with pytest.raises(PlayerDataError, match=expected):
        read_export([("bad.json", encode(document))])


def test_split_parts_restore_whole_and_missing_parts_are_named() -> None:
    largest_guild = max(len(compress(encode({g: DATA[g]}))) for g in GUILDS)
    plan = plan_export("all", SAMPLE, DATA, "ALL", AT, cap=largest_guild + 100)
    assert len(plan.files) >= 3
    files = [(file.name, file.content) for file in plan.files]
    restored = plan_restore({}, read_export(list(reversed(files)))).restored
    assert serialize_like(SAMPLE, restored) == SAMPLE  # byte-identical after restore
    with pytest.raises(PlayerDataError, match=f"part\\(s\\) 2 of {len(files)} are missing"):
        read_export([files[0], *files[2:]])


def test_damaged_gzip_is_named() -> None:
    with pytest.raises(PlayerDataError, match="x.json.gz is a damaged gzip file"):
        read_export([("x.json.gz", gzip.compress(SAMPLE)[:100])])


@pytest.mark.parametrize("indent", [2, 4, "\t", None])
def test_serialize_like_keeps_the_layout(indent: int | str | None) -> None:
    original = json.dumps(DATA, indent=indent, ensure_ascii=False, separators=None if indent else (",", ":"))
    raw = (original + "\n").encode()
    assert serialize_like(raw, json.loads(raw)) == raw


guild_id = st.integers(min_value=10**17, max_value=10**19).map(str)
players = st.dictionaries(st.text(min_size=1, max_size=8), st.integers(), max_size=30)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(guild_id, st.fixed_dictionaries({"players": players}), min_size=1, max_size=12))
def test_splitting_keeps_every_guild_exactly_once(guilds: dict) -> None:
    data = {"environmentConfig": {"v": 1}, **guilds}
    content = encode(data)
    largest = max(len(compress(encode({key: value}))) for key, value in guilds.items())
    cap = max(largest + 64, len(gzip.compress(content)) // 3)
    plan = plan_export("all", content, data, "ALL", AT, cap=cap)
    parts = [
        json.loads(gzip.decompress(f.content)) if f.name.endswith(".gz") else json.loads(f.content) for f in plan.files
    ]
    assert {k: v for part in parts for k, v in part.items()} == data
    assert sum(len(part) for part in parts) == len(data)
    assert all(len(f.content) <= cap for f in plan.files)
