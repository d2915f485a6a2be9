"""Item 2: analysing 200 new posts with the Gemini emulator, then the same 200 posts again.

guildflow: the analysis flow (flows.analyse.analyse_posts) on a Prefect server, posts read from and
results written to the Sheets emulator. The re-run gives it the same 200 unprocessed posts again (as after
a failed save, or a restored sheet): Prefect's cache must answer every batch. Baseline: benchmarks.naive.analyse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from statistics import median

from benchmarks import naive
from benchmarks.common import fresh_prefect_state, sample_posts, services, timed
from flows.analyse import analyse_posts
from guildflow.settings import load_settings

POSTS = 200


@dataclass
class AnalysisResult:
    batch_size: int
    model_calls: int
    seconds: float
    rerun_model_calls: int
    rerun_seconds: float
    naive_model_calls: int
    naive_seconds: float  # measured, without the delays
    naive_delay_seconds: float  # the sleeps between model calls it would have made
    naive_rerun_model_calls: int
    naive_rerun_seconds: float

    @property
    def target_model_calls(self) -> int:
        return math.ceil(POSTS / self.batch_size)


def _analyse() -> int:
    state = analyse_posts(load_settings(), return_state=True)
    return state.result().analysed


def run(repeats: int) -> AnalysisResult:
    posts = sample_posts(POSTS)
    seconds, rerun_seconds, naive_seconds, naive_rerun_seconds = [], [], [], []
    for _ in range(repeats):
        with services(posts=posts) as emulated, fresh_prefect_state():
            analysed, elapsed = timed(_analyse)
            assert analysed == POSTS, analysed
            seconds.append(elapsed)
            model_calls = emulated.gemini.generate_calls()
            emulated.refill_spreadsheet(posts)
            analysed, elapsed = timed(_analyse)
            assert analysed == POSTS, analysed
            rerun_seconds.append(elapsed)
            rerun_model_calls = emulated.gemini.generate_calls() - model_calls
        with services(posts=posts) as emulated:
            first, second = naive.NaiveRun(), naive.NaiveRun()
            naive_seconds.append(timed(partial(naive.analyse, first))[1])
            emulated.refill_spreadsheet(posts)
            naive_rerun_seconds.append(timed(partial(naive.analyse, second))[1])
    return AnalysisResult(
        batch_size=load_settings().analysis_batch_size,
        model_calls=model_calls,
        seconds=median(seconds),
        rerun_model_calls=rerun_model_calls,
        rerun_seconds=median(rerun_seconds),
        naive_model_calls=first.model_calls,
        naive_seconds=median(naive_seconds),
        naive_delay_seconds=first.delay_seconds,
        naive_rerun_model_calls=second.model_calls,
        naive_rerun_seconds=median(naive_rerun_seconds),
    )
