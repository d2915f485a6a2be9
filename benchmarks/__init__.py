"""Benchmarks of issue 6: API calls, wall time, orchestration overhead and export throughput.

Run from the repository root with `.venv/bin/python -m benchmarks` (not part of `make test`, ~5 minutes):
it prints one table and writes benchmarks/RESULTS.md. One module per item (collection, analysis,
pipeline, playerdata), the naive baseline in naive.py, shared helpers in common.py, the table in report.py.
"""
