"""Item 5: exporting generated playerData.json files of 1, 10 and 50 MiB (and 50 MiB under a 2 MiB cap,
so the export is split), timed against `gzip -6` of the same file in the same run.

Each export runs in a fresh child process (`python -m benchmarks.playerdata FILE CAP_BYTES`) doing what the
export flow does with the file, minus Prefect and Discord: read_player_data (read and outline), plan_export
(as is / gzip / split to fit the cap, the `all` export's call) and keep_local_copy (write the file(s)
atomically). Peak memory: the child resets its high-water mark after its imports (/proc/self/clear_refs),
then reports VmHWM at the end minus VmRSS at that point, both from /proc/self/status.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

MiB = 1024 * 1024
GUILDS = 10
BYTES_PER_PLAYER = 1300  # a little under what build_player_data writes per player (indent=2), so files reach the size
DEFAULT_CAP = 10 * MiB  # GUILDFLOW_PLAYERDATA_UPLOAD_CAP_MB's default
CASES = [(1, DEFAULT_CAP), (10, DEFAULT_CAP), (50, DEFAULT_CAP), (50, 2 * MiB)]  # (file MiB, cap)


@dataclass
class ExportResult:
    file_bytes: int
    cap: int
    plan: str  # as is / gzip / split into N
    seconds: float
    gzip_seconds: float
    peak_rss: int  # bytes above the child's baseline
    steps_rss: dict[str, int]  # RSS above baseline after each step (one run)
    steps_seconds: dict[str, float]

    @property
    def rss_ratio(self) -> float:
        return self.peak_rss / self.file_bytes


def write_sample(folder: Path, size_mib: int) -> Path:
    """A playerData.json of at least size_mib MiB, written as the example generator writes it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from make_sample_playerdata import build_player_data

    players = math.ceil(size_mib * MiB / (GUILDS * BYTES_PER_PLAYER))
    path = folder / f"playerData-{size_mib}MiB.json"
    data = build_player_data(guilds=GUILDS, players_per_guild=players)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _gzip_seconds(path: Path, out: Path) -> float:
    started = time.perf_counter()
    with out.open("wb") as sink:
        subprocess.run(["gzip", "-6", "-c", str(path)], stdout=sink, check=True)
    return time.perf_counter() - started


def _export_in_child(path: Path, cap: int, *options: str) -> dict:
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.playerdata", str(path), str(cap), *options],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def profile_split(size_mib: int = 10, cap: int = MiB // 4) -> list[tuple[str, int, float, float]]:
    """cProfile of a split export's planning (a smaller file than item 5's, same code path):
    the top functions by own time as (function, calls, own seconds, cumulative seconds)."""
    with tempfile.TemporaryDirectory(prefix="guildflow-bench-playerdata-") as folder:
        child = _export_in_child(write_sample(Path(folder), size_mib), cap, "profile")
    return [tuple(line) for line in child["profile"]]


def run(repeats: int, repeats_50: int) -> list[ExportResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="guildflow-bench-playerdata-") as folder:
        files: dict[int, Path] = {}
        for size_mib, cap in CASES:
            path = files.setdefault(size_mib, write_sample(Path(folder), size_mib))
            runs = repeats_50 if size_mib >= 50 else repeats
            children, gzips = [], []
            for _ in range(runs):
                children.append(_export_in_child(path, cap))
                gzips.append(_gzip_seconds(path, Path(folder) / "gzip-6.out"))
            results.append(
                ExportResult(
                    file_bytes=path.stat().st_size,
                    cap=cap,
                    plan=children[0]["plan"],
                    seconds=median([child["seconds"] for child in children]),
                    gzip_seconds=median(gzips),
                    peak_rss=int(median([child["peak_rss"] for child in children])),
                    steps_rss=children[0]["steps_rss"],
                    steps_seconds=children[0]["steps_seconds"],
                )
            )
    return results


# --- the child --------------------------------------------------------------------------------------


def _status(field: str) -> int:
    """A /proc/self/status memory field in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _child(path: Path, cap: int, profiled: bool) -> None:
    import cProfile
    import pstats
    from datetime import datetime, timezone

    from core.playerdata import plan_export
    from core.playerdata_export import ExportTarget
    from tasks.playerdata import keep_local_copy, read_player_data

    target = ExportTarget.validated("all", None, None)
    with tempfile.TemporaryDirectory(prefix="guildflow-bench-copy-") as copies:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS, so the peak below is the export's
        baseline = _status("VmRSS")
        steps_rss, steps_seconds = {}, {}
        started = last = time.perf_counter()

        def step(name: str) -> None:
            nonlocal last
            now = time.perf_counter()
            steps_seconds[name], last = now - last, now
            steps_rss[name] = _status("VmRSS") - baseline

        player_data = read_player_data.fn(path)
        step("read and outline")
        profiler = cProfile.Profile() if profiled else None
        arguments = ("all", player_data.raw, player_data, target.scope, datetime.now(timezone.utc), cap)
        plan = profiler.runcall(plan_export, *arguments) if profiler else plan_export(*arguments)
        step("plan (gzip/split)")
        keep_local_copy.fn(plan, Path(copies), 10)
        step("write copy")
        seconds = time.perf_counter() - started
        peak = _status("VmHWM") - baseline
    if len(plan.files) > 1:
        kind = f"split into {len(plan.files)}"
    else:
        kind = "gzip" if plan.files[0].name.endswith(".gz") else "as is"
    answer = {"plan": kind, "seconds": seconds, "peak_rss": peak, "steps_rss": steps_rss}
    answer["steps_seconds"] = steps_seconds
    if profiler:
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        top = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:6]
        answer["profile"] = [
            (f"{Path(file).name}:{line}({name})", calls, own, cumulative)
            for (file, line, name), (_, calls, own, cumulative, _) in top
        ]
    print(json.dumps(answer))


if __name__ == "__main__":
    _child(Path(sys.argv[1]), int(sys.argv[2]), profiled=sys.argv[3:] == ["profile"])
