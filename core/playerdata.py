"""playerData.json exports: what goes in an export, what it is called, how it fits Discord's upload cap,
and how an export is restored. Pure: bytes and dicts in, bytes and dicts out.

An export never parses the whole file into Python objects (several times the file's size): it outlines
the top level (outline_player_data), ships the bytes unchanged, and parses one guild where it needs one."""

from __future__ import annotations

import codecs
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from json.decoder import scanstring  # type: ignore[attr-defined]  # public in CPython, missing from typeshed
from typing import Any, Literal, NamedTuple

from core.errors import UserFacingError

EXPORT_VERSION = "1.0"
DATA_TYPE = "playerData"
DISCORD_UPLOAD_CAP = 10 * 1024 * 1024  # bytes per attachment; boosted servers allow more
WARN_SHARE = 0.8  # of the cap: say so in the message before it starts failing
# A restore that keeps less than this share of the players or bytes of what it replaces, or an export less
# than this share of the previous one's bytes, "shrinks sharply": a damaged file, not a game's normal churn.
SHARP_DROP = 0.5
ALLOW_REMOVALS = "--allow-removals"
REPLACE_UNREADABLE = "--replace-unreadable"

ExportType = Literal["server", "all"]

_GUILD_ID = re.compile(r"\d{17,20}")  # a Discord snowflake; other keys are templates or config
_PART = re.compile(r"-part-(\d+)-of-(\d+)\.json(?:\.gz)?$")
_GZIP_MAGIC = b"\x1f\x8b"
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace
_SKIP = json.JSONDecoder(object_pairs_hook=lambda pairs: None)  # reads a value, keeping none of its objects
_UTF8_CHUNK = 1024 * 1024


class PlayerDataError(UserFacingError, ValueError):
    """Bad playerData or export input; the message names the input and the fix."""


class UnreadablePlayerData(PlayerDataError):
    """A file that is no playerData object (corrupt, cut short, empty, another JSON value); `problem` says
    what is wrong without the fix, for a restore that may replace the file whole."""

    def __init__(self, source: str, problem: str, fix: str) -> None:
        super().__init__(f"{source} {problem}; {fix}")
        self.source, self.problem, self.fix = source, problem, fix

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:  # Prefect pickles a failed run's exception
        return type(self), (self.source, self.problem, self.fix)


def is_guild_id(key: str) -> bool:
    return _GUILD_ID.fullmatch(key) is not None


def guild_ids(data: dict[str, Any]) -> list[str]:
    return [key for key in data if is_guild_id(key)]


def guild_name(guild: Any) -> str:
    name = guild.get("serverName") if isinstance(guild, dict) else None
    return name if isinstance(name, str) and name else "Unknown"


def parse_player_data(raw: bytes, source: str) -> dict[str, Any]:
    """The playerData object; corrupt JSON or a non-object root is an error naming the file."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _not_json(source, error) from None
    if not isinstance(data, dict):
        raise _not_an_object(source, data)
    return data


def _not_json(source: str, error: ValueError) -> UnreadablePlayerData:
    return UnreadablePlayerData(source, f"is not valid JSON ({error})", "fix or restore the file")


def _not_an_object(source: str, root: Any) -> UnreadablePlayerData:
    return UnreadablePlayerData(
        source,
        f"must hold a JSON object keyed by guild id, not a {type(root).__name__}",
        "is it the bot's playerData.json?",
    )


# --- the file as an export reads it -----------------------------------------------------------------


@dataclass(frozen=True)
class PlayerDataFile:
    """A playerData.json checked and outlined, not parsed: its bytes (an `all` export ships them unchanged),
    its guilds' names, and where each top-level value lies in the bytes, to take one guild or split."""

    raw: bytes = field(repr=False)
    source: str
    guilds: dict[str, str]  # guild id -> server name ("Unknown" without one), in file order
    spans: dict[str, tuple[int, int]] = field(repr=False)  # every top-level key -> its value's bytes in raw

    @property
    def keys(self) -> list[str]:
        return list(self.spans)

    def value_bytes(self, key: str) -> memoryview:
        """A top-level value as the file writes it, without a copy."""
        start, end = self.spans[key]
        return memoryview(self.raw)[start:end]

    def value(self, key: str) -> Any:
        """A top-level value parsed on its own, such as one guild's data."""
        start, end = self.spans[key]
        return json.loads(self.raw[start:end])


class _Member(NamedTuple):
    key: str  # as read in the latin-1 view
    key_span: tuple[int, int]  # the key's quotes included
    value_span: tuple[int, int]
    value: Any  # what the value reader returned


def outline_player_data(raw: bytes, source: str) -> PlayerDataFile:
    """The file checked as parse_player_data checks it (same errors), with its top level outlined.

    It is read once in its latin-1 view: one character per byte, so an index is a byte offset, and the
    bytes of UTF-8's multi-byte characters are all >= 0x80, so they never look like JSON's structure. That
    view costs the file's size once, where json.loads's text costs up to 4x (a single emoji makes every
    character 4 bytes) and its objects several times more. Values are read and dropped (_SKIP); keys and
    server names with a non-ASCII character are decoded again from their UTF-8 bytes.
    """
    try:
        _check_utf8(raw)
        text = raw.decode("latin-1")
        start = _space(text, len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)
        if not text.startswith("{", start):
            root, end = _SKIP.raw_decode(text, start)
            _check_end(text, end)
            raise _not_an_object(source, root)
        members, end = _read_object(text, start, _read_top_level_value)
        _check_end(text, end)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _not_json(source, error) from None
    spans: dict[str, tuple[int, int]] = {}
    guilds: dict[str, str] = {}
    for member in members:  # a repeated key keeps its first place and its last value, as in json.loads
        key = _decoded(raw, member.key, member.key_span)
        spans[key] = member.value_span
        if is_guild_id(key):
            name: _Member | None = member.value
            guilds[key] = _decoded(raw, name.value, name.value_span) if name else "Unknown"
    return PlayerDataFile(raw, source, guilds, spans)


def _check_utf8(raw: bytes) -> None:
    """Raise the error json.loads's decoding of the file would, without holding the decoded text."""
    if raw.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    view = memoryview(raw)
    for start in range(0, len(raw), _UTF8_CHUNK):
        pending = len(decoder.getstate()[0])  # an unfinished character carried over from the last chunk
        try:
            decoder.decode(view[start : start + _UTF8_CHUNK], final=start + _UTF8_CHUNK >= len(raw))
        except UnicodeDecodeError as error:
            offset = start - pending
            raise UnicodeDecodeError("utf-8", raw, offset + error.start, offset + error.end, error.reason) from None


def _space(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]  # matches the empty string too


def _check_end(text: str, pos: int) -> None:
    pos = _space(text, pos)
    if pos != len(text):
        raise json.JSONDecodeError("Extra data", text, pos)


def _read_object(text: str, pos: int, read_value: Callable[[str, int], tuple[Any, int]]) -> tuple[list[_Member], int]:
    """The members of the object at text[pos] ("{"), each value read by read_value(text, start) ->
    (result, end), and the index after the object. Mistakes raise what json.loads raises."""
    members: list[_Member] = []
    pos = _space(text, pos + 1)
    if text.startswith("}", pos):
        return members, pos + 1
    while True:
        if not text.startswith('"', pos):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
        key, key_end = scanstring(text, pos + 1)
        colon = _space(text, key_end)
        if not text.startswith(":", colon):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, colon)
        value_start = _space(text, colon + 1)
        value, value_end = read_value(text, value_start)
        members.append(_Member(key, (pos, key_end), (value_start, value_end), value))
        pos = _space(text, value_end)
        if text.startswith("}", pos):
            return members, pos + 1
        if not text.startswith(",", pos):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _space(text, pos + 1)


def _read_top_level_value(text: str, start: int) -> tuple[_Member | None, int]:
    """Skip a top-level value; of an object (a guild), keep its serverName member if that is a non-empty
    string (the last one, as json.loads keeps the last of a repeated key)."""
    if not text.startswith("{", start):
        return None, _SKIP.raw_decode(text, start)[1]
    members, end = _read_object(text, start, _SKIP.raw_decode)
    names = [member for member in members if member.key == "serverName"]
    name = names[-1] if names and isinstance(names[-1].value, str) and names[-1].value else None
    return name, end


def _decoded(raw: bytes, view: str, span: tuple[int, int]) -> str:
    """A string of the file as json.loads decodes it: its latin-1 view is right when all ASCII (a non-ASCII
    byte would show as a non-ASCII character), else its bytes are decoded again as UTF-8."""
    return view if view.isascii() else json.loads(raw[span[0] : span[1]])


def check_guild(player_data: PlayerDataFile, guild_id: str) -> None:
    """A server export's guild must be in the file; the error names the guilds there are."""
    if guild_id not in player_data.guilds:
        known = list(player_data.guilds)
        raise PlayerDataError(
            f"guild {guild_id} is not in playerData ({len(known)} guilds there"
            f"{': ' + ', '.join(known[:5]) + (' ...' if len(known) > 5 else '') if known else ''}); "
            "check the guild id"
        )


def server_export(player_data: PlayerDataFile, guild_id: str, exported_at: datetime) -> dict[str, Any]:
    """The wrapper a `server` export ships: one guild's object, unchanged, with its provenance. Only that
    guild is parsed."""
    check_guild(player_data, guild_id)
    guild = player_data.value(guild_id)
    return {
        "exportVersion": EXPORT_VERSION,
        "exportDate": iso_utc(exported_at),
        "dataType": DATA_TYPE,
        "guildId": guild_id,
        "guildName": guild_name(guild),
        "data": guild,
    }


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z, as JavaScript's toISOString writes it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def export_file_name(scope: str, exported_at: datetime, compressed: bool, part: tuple[int, int] | None = None) -> str:
    """playerdata-scheduled-<guild id or ALL>-<timestamp, ':' and '.' as '-'>[-part-i-of-n].json[.gz]"""
    stamp = iso_utc(exported_at).replace(":", "-").replace(".", "-")
    suffix = f"-part-{part[0]}-of-{part[1]}" if part else ""
    return f"playerdata-scheduled-{scope}-{stamp}{suffix}.json{'.gz' if compressed else ''}"


def encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def compress(content: bytes) -> bytes:
    # mtime=0 keeps the output a pure function of the input.
    return gzip.compress(content, compresslevel=6, mtime=0)


@dataclass(frozen=True)
class ExportFile:
    name: str
    content: bytes
    guilds: int


@dataclass(frozen=True)
class ExportPlan:
    files: list[ExportFile]
    uncompressed_size: int
    warning: str = ""  # set when a file is close to the cap


def plan_export(
    export_type: ExportType,
    content: bytes,
    player_data: PlayerDataFile,
    scope: str,
    exported_at: datetime,
    cap: int = DISCORD_UPLOAD_CAP,
) -> ExportPlan:
    """The file(s) to upload: as is, else gzipped, else (an `all` export) split by guild.

    content is what a single file would hold (the wrapper, or the playerData file's own bytes, so an
    `all` export is the file unchanged); player_data gives the guild count and the members to split.
    """
    guilds = 1 if export_type == "server" else len(player_data.guilds)
    if len(content) <= cap:
        return _plan([ExportFile(export_file_name(scope, exported_at, False), content, guilds)], len(content), cap)
    packed = compress(content)
    if len(packed) <= cap:
        return _plan([ExportFile(export_file_name(scope, exported_at, True), packed, guilds)], len(content), cap)
    if export_type == "server":
        raise _over_cap(f"guild {scope} is {_mib(len(packed))} even gzipped", cap)
    del packed  # the split holds its parts instead
    return _plan(_split_by_guild(player_data, scope, exported_at, cap), len(content), cap)


def _over_cap(what: str, cap: int) -> PlayerDataError:
    return PlayerDataError(
        f"{what}, over the {_mib(cap)} upload cap: raise the cap if the server is boosted, "
        "or export to a local copy folder"
    )


def _plan(files: list[ExportFile], uncompressed: int, cap: int) -> ExportPlan:
    largest = max(len(file.content) for file in files)
    warning = ""
    if largest > WARN_SHARE * cap:
        warning = f"⚠️ {_mib(largest)} is {largest / cap:.0%} of the {_mib(cap)} upload cap"
    return ExportPlan(files, uncompressed, warning)


def _split_by_guild(player_data: PlayerDataFile, scope: str, exported_at: datetime, cap: int) -> list[ExportFile]:
    """Parts of whole guilds, each valid JSON and gzipped under the cap; other keys go in part 1.

    A part is an object of the members' values as the file writes them ({"key":<value's bytes>,...}),
    gzipped while it is assembled, so no guild is parsed and no part is held uncompressed; restore lays
    the file out like the original again."""
    others = [key for key in player_data.spans if key not in player_data.guilds]
    groups: list[list[str]] = [others]
    budget = _gzipped_size(_object(player_data, others)) if others else 0
    for guild in player_data.guilds:
        size = _gzipped_size(_object(player_data, [guild]))
        if size > cap:
            raise _over_cap(f"guild {guild} alone is {_mib(size)} gzipped", cap)
        if budget + size > cap and groups[-1]:
            groups.append([])
            budget = 0
        groups[-1].append(guild)
        budget += size
    # Compressing guilds together is never larger than the sum of compressing them apart (in practice).
    parts = [(group, b"".join(_gzipped(_object(player_data, group)))) for group in groups if group]
    if any(len(content) > cap for _, content in parts):
        raise PlayerDataError(f"could not split the export under the {_mib(cap)} upload cap")
    return [
        ExportFile(
            export_file_name(scope, exported_at, True, (index, len(parts))),
            content,
            sum(1 for key in group if key in player_data.guilds),
        )
        for index, (group, content) in enumerate(parts, start=1)
    ]


def _object(player_data: PlayerDataFile, keys: list[str]) -> Iterator[bytes | memoryview]:
    """The pieces of a JSON object of these top-level members, their values' bytes as in the file."""
    for index, key in enumerate(keys):
        yield (b"," if index else b"{") + json.dumps(key, ensure_ascii=False).encode() + b":"
        yield player_data.value_bytes(key)
    yield b"}" if keys else b"{}"


def _gzipped(pieces: Iterable[bytes | memoryview]) -> Iterator[bytes]:
    """compress() of the pieces joined, without joining them (the same bytes: level 6, mtime 0)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: in a gzip container
    for piece in pieces:
        yield packer.compress(piece)
    yield packer.flush()


def _gzipped_size(pieces: Iterable[bytes | memoryview]) -> int:
    return sum(len(chunk) for chunk in _gzipped(pieces))


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 100 * 1024 else f"{size / 1024:.1f} KiB"


# --- a copy folder: which exports it keeps, and whether a new one looks degraded ----------------------

COPY_INDEX = ".playerdata-copies.json"  # in a copy folder: the guilds and size of each export kept there
_EXPORT_FILE = re.compile(
    r"playerdata-scheduled-(?P<scope>\d+|ALL)-(?P<stamp>[\dT-]+Z)(?:-part-\d+-of-\d+)?\.json(?:\.gz)?"
)


@dataclass(frozen=True)
class KeptExport:
    """An export in a copy folder: its file(s), and how many guilds and bytes of JSON it holds."""

    scope: str  # a guild id, or ALL
    stamp: str  # its time as in the file name; sorts as the time does
    names: tuple[str, ...]
    guilds: int
    size: int  # bytes of JSON before any gzip; 0 for an export that cannot be read

    @property
    def key(self) -> str:
        return f"{self.scope}-{self.stamp}"


def exports_in_folder(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The exports among these file names, by KeptExport.key, with the names of all their parts; names
    export_file_name did not make are left out."""
    exports: dict[str, list[str]] = {}
    for name in names:
        if match := _EXPORT_FILE.fullmatch(name):
            exports.setdefault(f"{match['scope']}-{match['stamp']}", []).append(name)
    return {key: tuple(sorted(names)) for key, names in exports.items()}


def kept_export(key: str, names: tuple[str, ...], guilds: int, size: int) -> KeptExport:
    scope, stamp = key.split("-", 1)
    return KeptExport(scope, stamp, names, guilds, size)


def planned_export(plan: ExportPlan) -> KeptExport:
    """The export a plan writes, as a copy folder will hold it."""
    [(key, names)] = exports_in_folder(file.name for file in plan.files).items()
    return kept_export(key, names, sum(file.guilds for file in plan.files), plan.uncompressed_size)


def measure_export(scope: str, files: Iterable[tuple[str, bytes]]) -> tuple[int, int]:
    """(guilds, bytes of JSON) of an export's file(s) as written, for one the folder's index does not list;
    (0, 0) for a damaged one, so it never counts as good."""
    guilds = size = 0
    try:
        for name, raw in files:
            content = _unpacked(name, raw)
            guilds += 1 if is_guild_id(scope) else len(outline_player_data(content, name).guilds)
            size += len(content)
    except PlayerDataError:
        return 0, 0
    return guilds, size


def read_copy_index(raw: bytes | None) -> dict[str, tuple[int, int]]:
    """KeptExport.key -> (guilds, size) as the index lists them; an index that cannot be read lists nothing
    (the exports are measured again)."""
    try:
        entries = json.loads(raw) if raw else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {
        key: (entry["guilds"], entry["bytes"])
        for key, entry in entries.items()
        if isinstance(entry, dict)
        and all(type(entry.get(field)) is int and entry[field] >= 0 for field in ("guilds", "bytes"))
    }


def copy_index(exports: Iterable[KeptExport]) -> bytes:
    return encode({export.key: {"guilds": export.guilds, "bytes": export.size} for export in exports})


def exports_to_delete(exports: Iterable[KeptExport], keep: int, keep_last_good: bool = True) -> list[KeptExport]:
    """All but the newest `keep` exports of each guild (or of ALL), except, with keep_last_good, each one's
    last known good export (last_known_good), which a run of degraded exports must not push out."""
    by_scope: dict[str, list[KeptExport]] = {}
    for export in exports:
        by_scope.setdefault(export.scope, []).append(export)
    doomed = []
    for scope_exports in by_scope.values():
        newest_first = sorted(scope_exports, key=lambda export: export.stamp, reverse=True)
        spared = last_known_good(newest_first) if keep_last_good else None
        doomed += [export for export in newest_first[keep:] if export != spared]
    return doomed


def last_known_good(exports: Iterable[KeptExport]) -> KeptExport:
    """The newest of the exports with the most guilds that keeps at least SHARP_DROP of the largest of
    those's bytes: neither a lost guild nor most of the data gone makes an export good."""
    exports = list(exports)
    most = max(export.guilds for export in exports)
    complete = [export for export in exports if export.guilds == most]
    largest = max(export.size for export in complete)
    return max((export for export in complete if export.size >= largest * SHARP_DROP), key=lambda e: e.stamp)


def degraded_warning(previous: KeptExport | None, export: KeptExport) -> str:
    """A warning line when an export holds fewer guilds than the previous export of the same guild (or of
    ALL), or less than SHARP_DROP of its bytes: a damaged playerData.json, to be looked at before its
    backups replace the good ones. "" otherwise, or with nothing (readable) to compare with."""
    if previous is None or previous.size == 0:
        return ""
    drops = []
    if export.guilds < previous.guilds:
        drops.append(f"{export.guilds} guild(s) where the previous export had {previous.guilds}")
    if export.size < previous.size * SHARP_DROP:
        drops.append(
            f"{_mib(export.size)} of JSON where the previous export had {_mib(previous.size)} "
            f"({1 - export.size / previous.size:.0%} less)"
        )
    if not drops:
        return ""
    return f"⚠️ Degraded export? {'; '.join(drops)}. Check playerData before relying on this backup."


# --- restore ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """An export read back: a server export's guild, or a whole playerData (parts merged)."""

    export_type: ExportType
    data: dict[str, Any]
    guild_id: str = ""


def read_export(files: list[tuple[str, bytes]]) -> Export:
    """One export file (.json or .json.gz), or every part of a split `all` export; every guild in it must
    have a guild's shape (check_guild_shape)."""
    if not files:
        raise PlayerDataError("no export file given")
    if len(files) == 1 and not _PART.search(files[0][0]):
        name, raw = files[0]
        return _single_export(name, parse_player_data(_unpacked(name, raw), name))
    return Export("all", _merged_parts(files))


def _unpacked(name: str, raw: bytes) -> bytes:
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise PlayerDataError(f"{name} is a damaged gzip file ({error}); download it again") from None


def _single_export(name: str, document: dict[str, Any]) -> Export:
    if "dataType" not in document and "exportVersion" not in document:
        _check_guilds(name, document)
        return Export("all", document)
    if document.get("dataType") != DATA_TYPE:
        raise PlayerDataError(f"{name} is not a playerData export (dataType is {document.get('dataType')!r})")
    if document.get("exportVersion") != EXPORT_VERSION:
        raise PlayerDataError(
            f"{name} has export version {document.get('exportVersion')!r}; this version restores {EXPORT_VERSION}"
        )
    guild_id, data = document.get("guildId"), document.get("data")
    if not isinstance(guild_id, str) or not is_guild_id(guild_id) or not isinstance(data, dict):
        raise PlayerDataError(f"{name} is incomplete: it needs a guildId and a data object")
    check_guild_shape(data, f"{name}: guild {guild_id}")
    return Export("server", data, guild_id)


def _merged_parts(files: list[tuple[str, bytes]]) -> dict[str, Any]:
    numbered: dict[int, dict[str, Any]] = {}
    totals: set[int] = set()
    for name, raw in files:
        match = _PART.search(name)
        if not match:
            raise PlayerDataError(f"{name} is not a part of a split export; restore it on its own")
        number, total = int(match[1]), int(match[2])
        totals.add(total)
        numbered[number] = parse_player_data(_unpacked(name, raw), name)
        _check_guilds(name, numbered[number])
    if len(totals) != 1:
        raise PlayerDataError("the parts come from different exports (their part counts differ)")
    total = totals.pop()
    missing = sorted(set(range(1, total + 1)) - set(numbered))
    if missing:
        raise PlayerDataError(f"part(s) {', '.join(map(str, missing))} of {total} are missing: give every part")
    merged: dict[str, Any] = {}
    for number in range(1, total + 1):
        merged.update(numbered[number])
    return merged


def _check_guilds(name: str, data: dict[str, Any]) -> None:
    for guild_id in guild_ids(data):
        check_guild_shape(data[guild_id], f"{name}: guild {guild_id}")


def check_guild_shape(guild: Any, where: str) -> None:
    """What every guild of the bot has (examples/playerData.json), and what a restore of anything else
    would break: an object; its players, if any, an object of player objects keyed by user id. Other fields
    are the bot's own: any value is kept as it is. where names the guild in the error ("<file>: guild <id>")."""
    if not isinstance(guild, dict):
        raise _damaged(where, f"is {_json_kind(guild)}, not a guild object")
    players = guild.get("players", {})
    if not isinstance(players, dict):
        raise _damaged(where, f"has players as {_json_kind(players)}, not an object of players keyed by user id")
    for user_id, player in players.items():
        if not isinstance(player, dict):
            raise _damaged(where, f"has player {user_id} as {_json_kind(player)}, not an object")


def _damaged(where: str, problem: str) -> PlayerDataError:
    return PlayerDataError(f"{where} {problem}: the export is damaged, so nothing was restored; use another backup")


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


@dataclass
class GuildChanges:
    players_added: list[str] = field(default_factory=list)
    players_removed: list[str] = field(default_factory=list)
    players_changed: list[str] = field(default_factory=list)
    keys_changed: list[str] = field(default_factory=list)  # the guild's own top-level keys

    @property
    def any(self) -> bool:
        return bool(self.players_added or self.players_removed or self.players_changed or self.keys_changed)


@dataclass(frozen=True)
class RestorePlan:
    """What a restore writes and what it changes, removes above all; whether it needs a flag to go ahead."""

    restored: dict[str, Any]  # the whole playerData after the restore
    guilds: dict[str, GuildChanges]  # per guild touched
    top_level_keys_changed: list[str]
    scope: str  # what the restore replaces: "the whole file" or "guild <id>"
    guilds_added: dict[str, str]  # id -> server name
    guilds_removed: dict[str, str]  # id -> server name
    keys_removed: list[str]  # top-level keys that are no guild's
    players: tuple[int, int]  # in what it replaces, before and after
    size: tuple[int, int]  # bytes of JSON (compact) of what it replaces, before and after
    unreadable: str  # why the current file cannot be read ("" if it can); the restore replaces it whole

    @property
    def players_removed(self) -> int:
        return sum(len(changes.players_removed) for changes in self.guilds.values())

    @property
    def shrinks_sharply(self) -> bool:
        return any(after < before * SHARP_DROP for before, after in (self.players, self.size))

    @property
    def flags_needed(self) -> list[str]:
        """The flags a real run needs: REPLACE_UNREADABLE over a file that cannot be read, ALLOW_REMOVALS
        to remove guilds or non-guild keys, or to shrink sharply (SHARP_DROP)."""
        flags = [REPLACE_UNREADABLE] if self.unreadable else []
        if self.guilds_removed or self.keys_removed or self.shrinks_sharply:
            flags.append(ALLOW_REMOVALS)
        return flags

    def refusal(self, target: str, flags_given: Iterable[str]) -> str:
        """Why a real run into target without some of the flags it needs must not write anything ("" if it
        may)."""
        missing = [flag for flag in self.flags_needed if flag not in set(flags_given)]
        reasons = []
        if REPLACE_UNREADABLE in missing:
            reasons.append(
                f"{self.unreadable}: to restore over it, pass {REPLACE_UNREADABLE} (the broken file is kept as a "
                ".bak), or fix it first"
            )
        if ALLOW_REMOVALS in missing:
            losses = "; it ".join(self._losses())
            reasons.append(
                f"refusing to restore into {target}: it {losses}. Is the export damaged or partial? "
                f"If this is what you want, pass {ALLOW_REMOVALS}"
            )
        return "\n".join(reasons)

    def _losses(self) -> list[str]:
        losses = []
        removed = [
            _counted(len(self.guilds_removed), "guild") if self.guilds_removed else "",
            f"the non-guild key(s) {', '.join(self.keys_removed)}" if self.keys_removed else "",
        ]
        if any(removed):
            losses.append("removes " + " and ".join(part for part in removed if part))
        if self.players[1] < self.players[0] * SHARP_DROP:
            losses.append(f"keeps {self.players[1]} of {self.players[0]} players in {self.scope}")
        if self.size[1] < self.size[0] * SHARP_DROP:
            losses.append(f"keeps {_mib(self.size[1])} of {_mib(self.size[0])} of JSON in {self.scope}")
        return losses

    def _summary(self) -> list[str]:
        """What the restore removes, then what it leaves, in plain words: before the per-guild lines."""
        lines = [f"{self.unreadable}: the restore replaces it whole (it is kept as a .bak)"] if self.unreadable else []
        removes = [
            _counted(len(self.guilds_removed), "guild") if self.guilds_removed else "",
            _counted(len(self.keys_removed), "non-guild key") if self.keys_removed else "",
            _counted(self.players_removed, "player") if self.players_removed else "",
        ]
        lines.append("removes " + (", ".join(part for part in removes if part) or "nothing"))
        if self.guilds_removed:
            lines.append(f"  guilds removed: {_listed(self.guilds_removed)}")
        if self.keys_removed:
            lines.append(f"  non-guild keys removed: {', '.join(self.keys_removed)}")
        if self.guilds_added:
            lines.append(f"adds {_counted(len(self.guilds_added), 'guild')}: {_listed(self.guilds_added)}")
        lines.append(
            f"{self.scope}: {self.players[0]} -> {self.players[1]} players, "
            f"{_mib(self.size[0])} -> {_mib(self.size[1])} of JSON"
        )
        return lines

    def describe(self) -> str:
        lines = self._summary()
        for guild, changes in self.guilds.items():
            if guild in self.guilds_removed:
                lines.append(f"guild {guild}: removed, with {_counted(len(changes.players_removed), 'player')}")
            elif not changes.any:
                lines.append(f"guild {guild}: no changes")
            else:
                lines.append(
                    f"guild {guild}: players +{len(changes.players_added)} -{len(changes.players_removed)} "
                    f"~{len(changes.players_changed)}"
                    + (f"; keys changed: {', '.join(changes.keys_changed)}" if changes.keys_changed else "")
                )
        others = [key for key in self.top_level_keys_changed if not is_guild_id(key) and key not in self.keys_removed]
        if others:
            lines.append(f"non-guild keys changed: {', '.join(others)}")
        return "\n".join(lines)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _listed(guilds: dict[str, str], shown: int = 10) -> str:
    listed = ", ".join(f"{guild} ({name})" for guild, name in list(guilds.items())[:shown])
    return listed + (f" and {len(guilds) - shown} more" if len(guilds) > shown else "")


def restore_target_data(raw: bytes | None, source: str) -> tuple[dict[str, Any], str]:
    """The playerData a restore goes into ({} when the file does not exist yet) and, when the file cannot
    be read as playerData (corrupt, empty, not an object), why: the moment a restore is needed most, so
    plan_restore plans to replace it whole, and a real run needs REPLACE_UNREADABLE."""
    if raw is None:
        return {}, ""
    try:
        return parse_player_data(raw, source), ""
    except UnreadablePlayerData as error:
        return {}, f"{error.source} {error.problem}"


def plan_restore(
    current: dict[str, Any], export: Export, guild_id: str | None = None, unreadable: str = ""
) -> RestorePlan:
    """What restoring the export into the current playerData changes and removes, and the result.
    unreadable: why the current file could not be read (current is then {})."""
    if export.export_type == "server":
        if guild_id and guild_id != export.guild_id:
            raise PlayerDataError(
                f"the export is of guild {export.guild_id}, not {guild_id}: check --guild or the file"
            )
        guild_id = export.guild_id
        restored = {**current, guild_id: export.data}
    elif guild_id:
        if guild_id not in export.data:
            raise PlayerDataError(f"guild {guild_id} is not in this export; check --guild or the file")
        restored = {**current, guild_id: export.data[guild_id]}
    else:
        restored = export.data
    if guild_id:
        touched, scope = [guild_id], f"guild {guild_id}"
        before = {key: value for key, value in current.items() if key == guild_id}
        after = {guild_id: restored[guild_id]}
    else:
        touched, scope = sorted(set(guild_ids(current)) | set(guild_ids(restored))), "the whole file"
        before, after = current, restored
    top_level = sorted(key for key in set(current) | set(restored) if current.get(key) != restored.get(key))
    return RestorePlan(
        restored=restored,
        guilds={guild: _guild_changes(current.get(guild), restored.get(guild)) for guild in touched},
        top_level_keys_changed=top_level,
        scope=scope,
        guilds_added={g: guild_name(restored[g]) for g in guild_ids(restored) if g not in current},
        guilds_removed={g: guild_name(current[g]) for g in guild_ids(current) if g not in restored},
        keys_removed=[key for key in current if key not in restored and not is_guild_id(key)],
        players=(_player_count(before), _player_count(after)),
        size=(_json_size(before), _json_size(after)),
        unreadable=unreadable,
    )


def _player_count(data: dict[str, Any]) -> int:
    return sum(len(_players(guild)) for key, guild in data.items() if is_guild_id(key) and isinstance(guild, dict))


def _json_size(data: dict[str, Any]) -> int:
    """Bytes of compact JSON (0 for nothing): the same measure whatever layout the file has."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()) if data else 0


def _guild_changes(before: Any, after: Any) -> GuildChanges:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    old_players, new_players = _players(before), _players(after)
    return GuildChanges(
        players_added=sorted(set(new_players) - set(old_players)),
        players_removed=sorted(set(old_players) - set(new_players)),
        players_changed=sorted(p for p in set(old_players) & set(new_players) if old_players[p] != new_players[p]),
        keys_changed=sorted(k for k in set(before) | set(after) if k != "players" and before.get(k) != after.get(k)),
    )


def _players(guild: dict[str, Any]) -> dict[str, Any]:
    players = guild.get("players")
    return players if isinstance(players, dict) else {}


def serialize_like(original: bytes, data: dict[str, Any]) -> bytes:
    """data as JSON in the original file's layout (indent, trailing newline), so a restore of
    unchanged data gives back the same bytes."""
    indent = _indent_of(original)
    body = json.dumps(data, ensure_ascii=False, indent=indent, separators=None if indent is not None else (",", ":"))
    return (body + ("\n" if original.endswith(b"\n") else "")).encode()


def _indent_of(original: bytes) -> int | str | None:
    # Read from the bytes: decoding the whole file to find its first indented key would cost up to 4x its size.
    match = re.search(rb"\{\s*\n([ \t]+)\"", original)
    if not match:
        return None
    whitespace = match[1]
    return "\t" if whitespace.startswith(b"\t") else len(whitespace)
