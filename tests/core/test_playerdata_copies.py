"""A copy folder (`--copy-to`): which exports rotation deletes, the last known good export it never deletes,
whether a new export looks degraded against the previous one, and the folder's index."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.playerdata import (
    ExportFile,
    ExportPlan,
    KeptExport,
    compress,
    copy_index,
    degraded_warning,
    encode,
    export_file_name,
    exports_in_folder,
    exports_to_delete,
    last_known_good,
    measure_export,
    outline_player_data,
    plan_export,
    planned_export,
    read_copy_index,
    server_export,
)
from tests.conftest import REPO

SAMPLE = (REPO / "examples" / "playerData.json").read_bytes()
GUILD = "579805515301131997"
START = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def kept(hours: int, guilds: int, size: int, scope: str = "ALL") -> KeptExport:
    """An export made `hours` after START."""
    name = export_file_name(scope, START + timedelta(hours=hours), False)
    [(key, names)] = exports_in_folder([name]).items()
    return KeptExport(scope, key.split("-", 1)[1], names, guilds, size)


def test_exports_in_a_folder_are_grouped_with_every_part() -> None:
    old_parts = [export_file_name("ALL", START, True, (part, 2)) for part in (1, 2)]
    newer = export_file_name("ALL", START + timedelta(days=1), False)
    guild = export_file_name(GUILD, START, False)
    exports = exports_in_folder([*reversed(old_parts), newer, guild, "playerData.json", "notes.txt", ".x.tmp"])
    assert exports == {
        "ALL-2026-11-20T12-00-00-000Z": tuple(old_parts),
        "ALL-2026-11-21T12-00-00-000Z": (newer,),
        f"{GUILD}-2026-11-20T12-00-00-000Z": (guild,),
    }


def test_rotation_keeps_the_newest_n_of_each_scope() -> None:
    exports = [kept(hour, 5, 1000) for hour in range(4)] + [kept(0, 1, 100, scope=GUILD)]
    assert exports_to_delete(exports, keep=2) == [exports[1], exports[0]]
    assert exports_to_delete(exports, keep=4) == []


def test_a_run_of_degraded_exports_never_pushes_out_the_last_good_one() -> None:
    """The issue's case: the file's guild count fell 31 -> 17 -> 1 and rotation kept only the bad copies."""
    good, worse, worst = kept(0, 31, 90_000), kept(1, 17, 50_000), kept(2, 1, 3_000)
    assert exports_to_delete([good, worse, worst], keep=2) == []
    assert last_known_good([good, worse, worst]) == good
    assert exports_to_delete([good, worse, worst], keep=2, keep_last_good=False) == [good]
    recovered = kept(3, 31, 91_000)  # once a complete export is newer, the old good one may go
    assert exports_to_delete([good, worse, worst, recovered], keep=2) == [worse, good]


def test_an_export_that_lost_most_of_its_data_is_not_good() -> None:
    good, wiped, wiped_again = kept(0, 5, 60_000), kept(1, 5, 2_000), kept(2, 5, 2_100)
    assert last_known_good([good, wiped, wiped_again]) == good
    assert exports_to_delete([good, wiped, wiped_again], keep=1) == [wiped]
    # A normal shrink (players left) is not a loss: the newest export is the good one.
    assert last_known_good([good, kept(1, 5, 40_000)]).stamp == kept(1, 5, 0).stamp


scopes = st.sampled_from(["ALL", GUILD, "1300000000000000111"])
exports_lists = st.lists(
    st.builds(kept, st.integers(0, 500), st.integers(0, 40), st.integers(0, 10_000), scopes),
    max_size=25,
    unique_by=lambda export: export.key,
)


@given(exports_lists, st.integers(1, 6), st.booleans())
def test_rotation_deletes_only_beyond_the_newest_and_never_the_last_good(
    exports: list[KeptExport], keep: int, keep_last_good: bool
) -> None:
    doomed = exports_to_delete(exports, keep, keep_last_good)
    assert len(doomed) == len(set(doomed)) and set(doomed) <= set(exports)
    for scope in {export.scope for export in exports}:
        of_scope = sorted((e for e in exports if e.scope == scope), key=lambda e: e.stamp, reverse=True)
        beyond = set(of_scope[keep:])
        deleted = {export for export in doomed if export.scope == scope}
        if keep_last_good:
            good = last_known_good(of_scope)
            assert good.guilds == max(e.guilds for e in of_scope) and good not in deleted
            assert deleted == beyond - {good}
        else:
            assert deleted == beyond


@pytest.mark.parametrize(
    ("previous", "export", "expected"),
    [
        (kept(0, 31, 90_000), kept(1, 17, 50_000), "⚠️ Degraded export? 17 guild(s) where the previous export had 31."),
        (
            kept(0, 17, 50_000),
            kept(1, 1, 3_000),
            "⚠️ Degraded export? 1 guild(s) where the previous export had 17; 2.9 KiB of JSON where the previous "
            "export had 48.8 KiB (94% less).",
        ),
        (kept(0, 1, 40_000, GUILD), kept(1, 1, 100, GUILD), "0.1 KiB of JSON where the previous export had 39.1 KiB"),
    ],
)
def test_fewer_guilds_or_less_than_half_the_data_is_flagged(
    previous: KeptExport, export: KeptExport, expected: str
) -> None:
    warning = degraded_warning(previous, export)
    assert expected in warning and warning.endswith("Check playerData before relying on this backup.")


@pytest.mark.parametrize(
    "previous",
    [None, kept(0, 5, 0), kept(0, 5, 30_000), kept(0, 4, 20_000), kept(0, 5, 60_000)],
    ids=["no previous", "previous unreadable", "same", "a guild more now", "exactly half"],
)
def test_growth_and_normal_churn_are_not_flagged(previous: KeptExport | None) -> None:
    assert degraded_warning(previous, kept(1, 5, 30_000)) == ""


def test_a_planned_export_is_measured_from_its_plan() -> None:
    at = START + timedelta(minutes=5)
    plan = plan_export("all", SAMPLE, outline_player_data(SAMPLE, "x"), "ALL", at, cap=len(compress(SAMPLE)) // 2)
    export = planned_export(plan)
    assert (export.scope, export.guilds, export.size) == ("ALL", 5, len(SAMPLE))
    assert export.names == tuple(sorted(file.name for file in plan.files)) and len(export.names) >= 2
    assert export.key == "ALL-2026-11-20T12-05-00-000Z"


def test_an_export_on_disk_is_measured_as_its_plan_was() -> None:
    """For copies the folder's index does not list (made before it, or an index lost)."""
    data = outline_player_data(SAMPLE, "x")
    wrapper = encode(server_export(data, GUILD, START))
    assert measure_export(GUILD, [("g.json", wrapper)]) == (1, len(wrapper))
    assert measure_export("ALL", [("a.json.gz", compress(SAMPLE))]) == (5, len(SAMPLE))
    parts = plan_export("all", SAMPLE, data, "ALL", START, cap=len(compress(SAMPLE)) // 2).files
    guilds, size = measure_export("ALL", [(file.name, file.content) for file in parts])
    assert guilds == 5 and abs(size - len(SAMPLE)) < len(SAMPLE) * 0.1  # the parts drop the file's layout


@pytest.mark.parametrize("raw", [b"", b"{cut", compress(SAMPLE)[:50], b"[1]"])
def test_a_damaged_copy_measures_nothing_so_it_is_never_good(raw: bytes) -> None:
    assert measure_export("ALL", [("a.json.gz", raw)]) == (0, 0)


def test_the_index_round_trips_and_a_damaged_one_lists_nothing() -> None:
    exports = [kept(0, 31, 90_000), kept(1, 1, 120, GUILD)]
    assert read_copy_index(copy_index(exports)) == {export.key: (export.guilds, export.size) for export in exports}
    assert read_copy_index(None) == read_copy_index(b"{cut") == read_copy_index(b"[]") == {}
    raw = json.dumps({"a": {"guilds": 1, "bytes": 2}, "b": {"guilds": "1", "bytes": 2}, "c": 3, "d": {"guilds": -1}})
    assert read_copy_index(raw.encode()) == {"a": (1, 2)}


def test_the_message_carries_the_degraded_line() -> None:
    from core.playerdata_export import ExportTarget, export_message

    plan = ExportPlan([ExportFile("p.json", b"{}", 1)], 2)
    text = export_message(ExportTarget("all", "1300000000000000111"), plan, START, ["A"], None, "⚠️ Degraded export? x")
    assert text.splitlines()[-2:] == ["⚠️ Degraded export? x", "Next export: none scheduled"]
