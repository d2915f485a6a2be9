"""The fault campaign: `.venv/bin/python -m faults [--trials 50] [--seed 1] [--trial N]` (`make faults`).

Progress goes to stderr; stdout gets the table and every violation with the seed and trial that reproduce it.
Exits 1 when any invariant was broken.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

DEFAULT_TRIALS, DEFAULT_SEED = 50, 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=DEFAULT_TRIALS, help="how many trials (1 to N)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the campaign's seed")
    parser.add_argument("--trial", type=int, help="run only this trial of the campaign (to reproduce it)")
    arguments = parser.parse_args()
    # Before Prefect is imported: no telemetry from the campaign itself.
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"
    from faults.campaign import run_campaign

    logging.getLogger("discord").setLevel(logging.ERROR)  # "PyNaCl is not installed": no voice here
    numbers = [arguments.trial] if arguments.trial else range(1, arguments.trials + 1)
    result = run_campaign(numbers, arguments.seed, say=lambda line: print(line, file=sys.stderr, flush=True))
    print(result.table())
    violations = result.violations()
    for violation in violations:
        print(violation)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
