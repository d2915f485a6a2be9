import codecs
import gzip
import json
import pickle
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import playerdata
from core.playerdata import (
    ALLOW_REMOVALS,
    REPLACE_UNREADABLE,
    SHARP_DROP,
    Export,
    PlayerDataError,
    PlayerDataFile,
    UnreadablePlayerData,
    check_guild,
    check_guild_shape,
    compress,
    encode,
    export_file_name,
    guild_ids,
    guild_name,
    outline_player_data,
    parse_player_data,
    plan_export,
    plan_restore,
    read_export,
    restore_target_data,
    serialize_like,
    server_export,
)
from tests.conftest import REPO

SAMPLE = (REPO / "examples" / "playerData.json").read_bytes()
DATA = json.loads(SAMPLE)
FILE = outline_player_data(SAMPLE, "playerData.json")
GUILDS = guild_ids(DATA)
AT = datetime(2026, 11, 22, 0, 41, 5, 123456, tzinfo=timezone.utc)

# Non-guild keys first; whitespace (CR, tabs, none) in odd places; strings with quotes, backslashes, braces
# and brackets; non-ASCII raw and escaped (2-, 3- and 4-byte UTF-8, a surrogate pair); repeated keys.
ODD = (
    '\ufeff \r\n\t{ \n "environmentConfig" \t : \r\n {"motd": "}{ \\"quoted\\" \\\\ ][", "v": [1, {"a": "{"}]} ,'
    '\n"/* Server ID */"\n:\n{"serverName":"Template"},"579805515301131997":{"serverName":"🐉 Drachenhöhle",'
    '"players":{"1":{"username":"Zoë","bio":"say \\"hi\\" \\\\o/ {}"}}}\n,"579805515301131998":  {"players":{},'
    '"serverName":"\\u00c9cole \\ud83d\\udc09 \\"Nord\\""},"579805515301131999":[{"serverName":"not a guild object"}],'
    '"579805515301132000":{"serverName":""},"579805515301132001":{"serverName":7},"clé":"valeur 测试",'
    '"579805515301132002":{"serverName":"first"},"579805515301132002":{"serverName":"last"},"579805515301132003":null,'
    '"579805515301132004":{"serverName":"old","serverName":"new"},"579805515301132005":{"serverName":"x","serverName":0}'
    "}\r\n"
).encode()


def test_sample_has_guilds_and_the_two_other_keys() -> None:
    assert len(GUILDS) == 5
    assert set(DATA) - set(GUILDS) == {"/* Server ID */", "environmentConfig"}


def test_server_export_wraps_the_guild_unchanged() -> None:
    guild = GUILDS[0]
    export = server_export(FILE, guild, AT)
    assert export == {
        "exportVersion": "1.0",
        "exportDate": "2026-11-22T00:41:05.123Z",
        "dataType": "playerData",
        "guildId": guild,
        "guildName": DATA[guild]["serverName"],
        "data": DATA[guild],
    }


def test_guild_without_a_name_is_unknown() -> None:
    assert server_export(FILE, GUILDS[-1], AT)["guildName"] == "Unknown"


def test_unknown_guild_and_template_key_are_refused() -> None:
    with pytest.raises(PlayerDataError, match="guild 123456789012345678 is not in playerData \\(5 guilds"):
        server_export(FILE, "123456789012345678", AT)
    with pytest.raises(PlayerDataError, match="is not in playerData"):
        check_guild(FILE, "/* Server ID */")
    check_guild(FILE, GUILDS[0])


def test_server_export_of_an_odd_file_parses_just_that_guild() -> None:
    odd = outline_player_data(ODD, "odd.json")
    for guild in odd.guilds:
        export = server_export(odd, guild, AT)
        assert export["data"] == json.loads(ODD)[guild]
        assert export["guildName"] == odd.guilds[guild]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"{broken", "not valid JSON"), (b"[1, 2]", "must hold a JSON object keyed by guild id, not a list")],
)
def test_bad_player_data_names_the_file(raw: bytes, expected: str) -> None:
    for read in (parse_player_data, outline_player_data):
        with pytest.raises(PlayerDataError, match=f"^playerData.json .*{expected}"):
            read(raw, "playerData.json")


# --- the outline: what an export reads instead of parsing the file ------------------------------------


def test_the_outline_lists_the_guilds_in_order_with_their_names() -> None:
    assert FILE.guilds == {guild: guild_name(DATA[guild]) for guild in GUILDS}
    assert list(FILE.guilds) == GUILDS and FILE.guilds[GUILDS[0]] == DATA[GUILDS[0]]["serverName"]
    assert FILE.guilds[GUILDS[-1]] == "Unknown"
    assert FILE.keys == list(DATA) and FILE.raw is SAMPLE


def test_every_top_level_value_is_its_bytes_in_the_file() -> None:
    for key in DATA:
        assert json.loads(bytes(FILE.value_bytes(key))) == FILE.value(key) == DATA[key]


def test_an_odd_file_is_outlined_as_json_loads_reads_it() -> None:
    data = json.loads(ODD)
    odd = outline_player_data(ODD, "odd.json")
    assert odd.keys == list(data)
    assert odd.keys[:2] == ["environmentConfig", "/* Server ID */"] and "clé" in odd.keys
    assert {key: odd.value(key) for key in odd.keys} == data
    assert odd.guilds == {
        "579805515301131997": "🐉 Drachenhöhle",
        "579805515301131998": 'École 🐉 "Nord"',
        "579805515301131999": "Unknown",  # not an object
        "579805515301132000": "Unknown",  # empty
        "579805515301132001": "Unknown",  # not a string
        "579805515301132002": "last",  # a repeated key: its first place, its last value
        "579805515301132003": "Unknown",
        "579805515301132004": "new",  # a repeated serverName: the last
        "579805515301132005": "Unknown",
    }
    assert odd.guilds == {guild: guild_name(data[guild]) for guild in guild_ids(data)}


def test_the_spans_are_byte_offsets_past_non_ascii() -> None:
    odd = outline_player_data(ODD, "odd.json")
    start, end = odd.spans["579805515301131998"]
    assert ODD[start:end].startswith(b'{"players"') and ODD[start:end].endswith(b'"}')
    assert bytes(odd.value_bytes("clé")) == '"valeur 测试"'.encode()
    assert bytes(odd.value_bytes("579805515301132003")) == b"null"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{broken",
        b'{"a": 1,}',
        b'{"a" 1}',
        b'{"a": 1 "b": 2}',
        b'{"a": }',
        b'{"a": 1',
        b'{"a": 1}}',
        b'{"a": [1, 2}',
        b'{"a": {"b": 1, "c"}}',
        b'{"a\tb": 1}',
        b'{"a": "tab\there"}',
        b'{"a": "unterminated}',
        b"[1, 2] x",
        b"\xff{}",
        b'{"a": "\xe9"}',
        b'{"a": "caf\xc3\xa9 \xf0\x9f\x90"}',
    ],
)
def test_corrupt_json_is_refused_as_json_loads_refuses_it(raw: bytes) -> None:
    with pytest.raises(PlayerDataError) as parsed:
        parse_player_data(raw, "playerData.json")
    with pytest.raises(PlayerDataError) as outlined:
        outline_player_data(raw, "playerData.json")
    assert str(outlined.value) == str(parsed.value)
    assert "playerData.json is not valid JSON (" in str(outlined.value)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8])
def test_utf8_is_checked_across_chunks(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(playerdata, "_UTF8_CHUNK", chunk)
    raw = '{"a": "é测🐉'.encode() + b'\xf0\x9f"}'
    with pytest.raises(PlayerDataError) as parsed:
        parse_player_data(raw, "x.json")
    with pytest.raises(PlayerDataError) as outlined:
        outline_player_data(raw, "x.json")
    assert str(outlined.value) == str(parsed.value)
    assert outline_player_data(ODD, "odd.json").keys == list(json.loads(ODD))


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"x"', b"null", b" 3 ", b"[{}]"])
def test_a_root_that_is_no_object_is_refused_with_its_type(raw: bytes) -> None:
    with pytest.raises(PlayerDataError) as parsed:
        parse_player_data(raw, "playerData.json")
    with pytest.raises(PlayerDataError, match="must hold a JSON object keyed by guild id") as outlined:
        outline_player_data(raw, "playerData.json")
    assert str(outlined.value) == str(parsed.value)


def test_an_empty_object_has_no_guilds() -> None:
    empty = outline_player_data(b" { } ", "empty.json")
    assert (empty.guilds, empty.keys) == ({}, [])


def test_file_names() -> None:
    assert export_file_name("ALL", AT, False) == "playerdata-scheduled-ALL-2026-11-22T00-41-05-123Z.json"
    assert (
        export_file_name("42", AT, True, (2, 3))
        == "playerdata-scheduled-42-2026-11-22T00-41-05-123Z-part-2-of-3.json.gz"
    )


def test_small_all_export_is_the_file_unchanged() -> None:
    plan = plan_export("all", SAMPLE, FILE, "ALL", AT)
    [file] = plan.files
    assert file.content == SAMPLE and file.name.endswith(".json") and file.guilds == 5
    assert plan.warning == ""


def test_close_to_the_cap_warns() -> None:
    plan = plan_export("all", SAMPLE, FILE, "ALL", AT, cap=int(len(SAMPLE) / 0.85))
    assert "85% of the" in plan.warning


def test_over_the_cap_is_gzipped() -> None:
    plan = plan_export("all", SAMPLE, FILE, "ALL", AT, cap=len(SAMPLE) - 1)
    [file] = plan.files
    assert file.name.endswith(".json.gz") and gzip.decompress(file.content) == SAMPLE


def test_still_over_the_cap_splits_by_guild_into_valid_parts() -> None:
    cap = len(gzip.compress(SAMPLE)) // 2
    plan = plan_export("all", SAMPLE, FILE, "ALL", AT, cap=cap)
    assert len(plan.files) >= 2
    assert all(len(file.content) <= cap for file in plan.files)
    parts = [json.loads(gzip.decompress(file.content)) for file in plan.files]
    merged = {key: value for part in parts for key, value in part.items()}
    assert merged == DATA
    assert sum(file.guilds for file in plan.files) == 5
    assert [file.name.split("-part-")[1] for file in plan.files][0] == f"1-of-{len(plan.files)}.json.gz"


def test_a_guild_too_large_even_alone_fails_clearly() -> None:
    with pytest.raises(PlayerDataError, match="alone is .* gzipped, over the .* upload cap"):
        plan_export("all", SAMPLE, FILE, "ALL", AT, cap=1000)
    wrapper = encode(server_export(FILE, GUILDS[0], AT))
    with pytest.raises(PlayerDataError, match=f"guild {GUILDS[0]} is .* even gzipped"):
        plan_export("server", wrapper, FILE, GUILDS[0], AT, cap=1000)


def test_by_default_only_a_file_over_discords_10_mib_is_gzipped() -> None:
    def player_data_of(size: int) -> bytes:
        head, tail = b'{"579805515301131997": {"serverName": "Big", "motd": "', b'"}}'
        return head + b"x" * (size - len(head) - len(tail)) + tail

    at_cap, over_cap = player_data_of(10 * 1024 * 1024), player_data_of(10 * 1024 * 1024 + 1)
    [plain] = plan_export("all", at_cap, outline_player_data(at_cap, "playerData.json"), "ALL", AT).files
    [packed] = plan_export("all", over_cap, outline_player_data(over_cap, "playerData.json"), "ALL", AT).files
    assert plain.content == at_cap and not plain.name.endswith(".gz")
    assert packed.name.endswith(".json.gz") and gzip.decompress(packed.content) == over_cap


def test_restore_of_a_server_export_reports_player_changes() -> None:
    guild = GUILDS[0]
    exported = server_export(FILE, guild, AT)
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
    exported = encode(server_export(FILE, GUILDS[0], AT))
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
    plan = plan_export("all", SAMPLE, FILE, "ALL", AT, cap=largest_guild + 100)
    assert len(plan.files) >= 3
    files = [(file.name, file.content) for file in plan.files]
    restored = plan_restore({}, read_export(list(reversed(files)))).restored
    assert serialize_like(SAMPLE, restored) == SAMPLE  # byte-identical after restore
    with pytest.raises(PlayerDataError, match=f"part\\(s\\) 2 of {len(files)} are missing"):
        read_export([files[0], *files[2:]])


def test_split_parts_of_an_odd_file_hold_its_bytes_and_restore_to_its_data() -> None:
    odd = outline_player_data(ODD, "odd.json")
    cap = len(compress(ODD)) // 2
    plan = plan_export("all", ODD, odd, "ALL", AT, cap=cap)
    assert len(plan.files) >= 2 and all(len(file.content) <= cap for file in plan.files)
    assert sum(file.guilds for file in plan.files) == len(odd.guilds) == 9
    parts = [gzip.decompress(file.content) for file in plan.files]
    assert parts[0].startswith(b'{"environmentConfig":' + bytes(odd.value_bytes("environmentConfig")))
    assert all(compress(part) == file.content for part, file in zip(parts, plan.files))  # gzip -6, mtime 0
    # Its guild 579805515301131999 is an array: no guild's shape, so a restore refuses it (see check_guild_shape).
    with pytest.raises(PlayerDataError, match="guild 579805515301131999 is an array, not a guild object"):
        read_export([(file.name, file.content) for file in plan.files])


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
    plan = plan_export("all", content, outline_player_data(content, "x.json"), "ALL", AT, cap=cap)
    parts = [
        json.loads(gzip.decompress(f.content)) if f.name.endswith(".gz") else json.loads(f.content) for f in plan.files
    ]
    assert {k: v for part in parts for k, v in part.items()} == data
    assert sum(len(part) for part in parts) == len(data)
    assert all(len(f.content) <= cap for f in plan.files)


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
)
guilds = st.fixed_dictionaries({"serverName": st.text() | values}, optional={"players": values}) | values
layouts = st.sampled_from(
    [{"indent": None}, {"indent": 2}, {"indent": "\t"}, {"indent": 0}, {"indent": 1, "separators": (" ,\r\n", " :\t")}]
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(guild_id | st.text(), guilds, max_size=6), layouts, st.booleans())
def test_any_layout_is_outlined_as_json_loads_reads_it(data: dict[str, Any], layout: dict, ascii_only: bool) -> None:
    raw = json.dumps(data, ensure_ascii=ascii_only, **layout).encode()
    outlined = outline_player_data(raw, "x.json")
    assert isinstance(outlined, PlayerDataFile) and outlined.keys == list(data)
    assert {key: outlined.value(key) for key in outlined.keys} == data
    assert outlined.guilds == {guild: guild_name(data[guild]) for guild in guild_ids(data)}


def test_a_utf8_bom_is_allowed_as_json_loads_allows_it() -> None:
    raw = codecs.BOM_UTF8 + b'{"579805515301131997": {"serverName": "A"}}'
    outlined = outline_player_data(raw, "bom.json")
    assert outlined.guilds == {"579805515301131997": "A"}
    assert outlined.value("579805515301131997") == parse_player_data(raw, "bom.json")["579805515301131997"]


# --- restores that cannot destroy data ---------------------------------------------------------------


def all_export(data: dict[str, Any]) -> Export:
    return read_export([("all.json", encode(data))])


def test_a_damaged_all_export_says_what_it_removes_and_needs_the_flag() -> None:
    """The issue's case: restoring a file that kept 1 guild over the whole file deleted every other guild."""
    kept = GUILDS[0]
    plan = plan_restore(DATA, all_export({kept: DATA[kept]}))
    removed_players = sum(len(DATA[guild]["players"]) for guild in GUILDS[1:])
    assert plan.guilds_removed == {guild: guild_name(DATA[guild]) for guild in GUILDS[1:]}
    assert plan.keys_removed == ["/* Server ID */", "environmentConfig"]
    assert plan.players_removed == removed_players and plan.players == (removed_players + 12, 12)
    assert plan.flags_needed == [ALLOW_REMOVALS]
    lines = plan.describe().splitlines()
    assert lines[0] == f"removes 4 guilds, 2 non-guild keys, {removed_players} players"
    assert lines[1].startswith(f"  guilds removed: {GUILDS[1]} (Pixel Tavern), ")
    assert lines[2] == "  non-guild keys removed: /* Server ID */, environmentConfig"
    assert f"guild {GUILDS[1]}: removed, with 12 players" in lines
    refusal = plan.refusal("playerData.json", [])
    assert refusal.startswith("refusing to restore into playerData.json: it removes 4 guilds and the non-guild ")
    assert f"keeps 12 of {removed_players + 12} players in the whole file" in refusal
    assert refusal.endswith(f"If this is what you want, pass {ALLOW_REMOVALS}")
    assert plan.refusal("playerData.json", [ALLOW_REMOVALS]) == ""


@pytest.mark.parametrize("removed", ["environmentConfig", "/* Server ID */"])
def test_removing_only_a_non_guild_key_needs_the_flag(removed: str) -> None:
    plan = plan_restore(DATA, all_export({key: value for key, value in DATA.items() if key != removed}))
    assert (plan.keys_removed, plan.guilds_removed, plan.flags_needed) == ([removed], {}, [ALLOW_REMOVALS])
    assert plan.describe().splitlines()[0] == "removes 1 non-guild key"


def test_a_normal_rollback_needs_no_flag() -> None:
    """Restoring last night's backup: a player who joined since goes, another's gold changes."""
    newer = json.loads(SAMPLE)
    newer[GUILDS[0]]["players"]["999999999999999999"] = {"userId": "999999999999999999"}
    newer[GUILDS[1]]["players"][next(iter(newer[GUILDS[1]]["players"]))]["gold"] += 5
    newer["environmentConfig"]["maintenance"] = True
    for plan in (plan_restore(newer, all_export(DATA)), plan_restore(newer, all_export(DATA), guild_id=GUILDS[0])):
        assert plan.flags_needed == [] and plan.refusal("p.json", []) == ""
        assert plan.describe().splitlines()[0] == "removes 1 player"
    whole = plan_restore(newer, all_export(DATA))
    assert "non-guild keys changed: environmentConfig" in whole.describe()
    assert plan_restore(DATA, all_export(DATA)).describe().splitlines()[0] == "removes nothing"


def test_a_server_export_that_empties_its_guild_needs_the_flag() -> None:
    """Players are counted in what the restore replaces: one guild wiped is not diluted by the others."""
    wiped = {**server_export(FILE, GUILDS[0], AT), "data": {"serverName": "Dragon's Rest", "players": {}}}
    plan = plan_restore(DATA, read_export([("x.json", encode(wiped))]))
    assert plan.scope == f"guild {GUILDS[0]}" and plan.players == (12, 0)
    assert plan.shrinks_sharply and plan.flags_needed == [ALLOW_REMOVALS]
    assert f"it keeps 0 of 12 players in guild {GUILDS[0]}; it keeps " in plan.refusal("p.json", [])
    assert f"guild {GUILDS[0]}: 12 -> 0 players, " in plan.describe()


def test_half_the_bytes_gone_needs_the_flag_even_with_every_player() -> None:
    stripped = json.loads(SAMPLE)
    for guild in GUILDS:
        for player in stripped[guild]["players"].values():
            player.pop("inventory"), player.pop("quests"), player.pop("stats")
    plan = plan_restore(DATA, all_export(stripped))
    assert plan.players[0] == plan.players[1] and plan.size[1] < plan.size[0] * SHARP_DROP
    assert plan.flags_needed == [ALLOW_REMOVALS] and "of JSON in the whole file" in plan.refusal("p", [])


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "is not valid JSON (Expecting value"),
        (b'{"579805515301131997": {"players": {', "is not valid JSON ("),
        (b"[]", "must hold a JSON object keyed by guild id, not a list"),
    ],
)
def test_an_unreadable_target_is_replaced_whole_only_with_its_flag(raw: bytes, problem: str) -> None:
    current, unreadable = restore_target_data(raw, "playerData.json")
    assert current == {} and unreadable.startswith(f"playerData.json {problem}")
    plan = plan_restore(current, all_export(DATA), unreadable=unreadable)
    assert plan.flags_needed == [REPLACE_UNREADABLE] and plan.restored == DATA
    assert plan.describe().startswith(f"{unreadable}: the restore replaces it whole (it is kept as a .bak)\n")
    assert plan.refusal("playerData.json", []) == (
        f"{unreadable}: to restore over it, pass {REPLACE_UNREADABLE} (the broken file is kept as a .bak), "
        "or fix it first"
    )
    assert plan.refusal("playerData.json", [REPLACE_UNREADABLE]) == ""


def test_a_missing_or_readable_target_is_read_as_it_is() -> None:
    assert restore_target_data(None, "p.json") == ({}, "")
    assert restore_target_data(SAMPLE, "p.json") == (DATA, "")


def test_unreadable_player_data_keeps_its_message_and_pickles() -> None:
    with pytest.raises(UnreadablePlayerData) as caught:
        parse_player_data(b"{cut", "p.json")
    error = caught.value
    assert str(error).startswith("p.json is not valid JSON (") and str(error).endswith("; fix or restore the file")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is UnreadablePlayerData and str(copy) == str(error) and copy.problem == error.problem


guild_maps = st.dictionaries(
    guild_id,
    st.fixed_dictionaries({"players": st.dictionaries(st.sampled_from("abcdefgh"), st.just({}), max_size=8)}),
    max_size=5,
)
other_keys = st.dictionaries(st.sampled_from(["environmentConfig", "/* Server ID */", "x"]), st.integers(), max_size=3)


@settings(max_examples=150, deadline=None)
@given(guild_maps, other_keys, guild_maps, other_keys)
def test_a_restore_needs_the_flag_exactly_when_it_removes_or_shrinks_sharply(
    current_guilds: dict, current_others: dict, export_guilds: dict, export_others: dict
) -> None:
    current, exported = {**current_others, **current_guilds}, {**export_others, **export_guilds}
    plan = plan_restore(current, all_export(exported))
    removes = set(current) - set(exported)
    players = (
        sum(len(guild["players"]) for guild in current_guilds.values()),
        sum(len(guild["players"]) for guild in export_guilds.values()),
    )
    assert set(plan.guilds_removed) | set(plan.keys_removed) == removes and plan.players == players
    sharp = players[1] < players[0] * SHARP_DROP or plan.size[1] < plan.size[0] * SHARP_DROP
    assert (ALLOW_REMOVALS in plan.flags_needed) == bool(removes or sharp)
    assert bool(plan.refusal("p", [])) == bool(removes or sharp) and plan.refusal("p", [ALLOW_REMOVALS]) == ""
    assert plan.describe().splitlines()[0].startswith("removes ")
    assert plan.restored == exported


# --- an export's guild data has a guild's shape --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"players": "oops"}, "has players as a string, not an object of players keyed by user id"),
        ({"players": []}, "has players as an array, not an object of players keyed by user id"),
        ({"players": {"1": 5}}, "has player 1 as a number, not an object"),
        ({"players": {"1": None}}, "has player 1 as null, not an object"),
    ],
)
def test_a_server_export_with_a_damaged_guild_is_refused(data: dict, problem: str) -> None:
    wrapper = {**server_export(FILE, GUILDS[0], AT), "data": data}
    with pytest.raises(PlayerDataError) as caught:
        read_export([("guild.json", encode(wrapper))])
    assert str(caught.value) == (
        f"guild.json: guild {GUILDS[0]} {problem}: the export is damaged, so nothing was restored; use another backup"
    )


@pytest.mark.parametrize("guild", ["oops", None, [1], {"players": {"1": "x"}}])
def test_an_all_export_and_its_parts_with_a_damaged_guild_are_refused(guild: Any) -> None:
    damaged = {**DATA, GUILDS[2]: guild}
    with pytest.raises(PlayerDataError, match=f"^all.json: guild {GUILDS[2]} (is|has) .*the export is damaged"):
        read_export([("all.json", encode(damaged))])
    raw = encode(damaged)
    parts = plan_export("all", raw, outline_player_data(raw, "x"), "ALL", AT, cap=len(compress(raw)) // 2).files
    with pytest.raises(PlayerDataError, match=f"-part-\\d-of-\\d.json.gz: guild {GUILDS[2]} (is|has) "):
        read_export([(file.name, file.content) for file in parts])


def test_unknown_fields_are_kept_and_non_guild_keys_are_not_checked() -> None:
    odd_guild = {"players": {"1": {"anything": [1, {"x": None}]}}, "newField": "kept", "serverName": 7, "tribes": 7}
    document = {**DATA, GUILDS[0]: odd_guild, "environmentConfig": "any value", "/* Server ID */": [1]}
    assert read_export([("all.json", encode(document))]).data == document
    wrapper = {**server_export(FILE, GUILDS[0], AT), "data": odd_guild}
    assert read_export([("g.json", encode(wrapper))]).data == odd_guild
    check_guild_shape({}, "a guild the bot has just joined")
