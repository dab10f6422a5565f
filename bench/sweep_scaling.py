"""How a sweep scales with workers: the same four runs of the Data chapter (four synthetic
markets, full size) on a LocalCluster of one worker and of two, every run pinned to one
thread of torch, BLAS and joblib in both arms, so the second arm gains only from running
two runs at once. Each arm starts from an empty output folder, so nothing is read back.

    python -m bench.sweep_scaling
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench import write_results
from bench.book_build import reference_seconds
from helpers.sweep import grid_runs, sweep

RESULTS = Path("_build/bench/sweep_scaling.json")
CHAPTER = Path("notebooks/01_data.md")
GRID = {"product": {"seed": [0, 1, 2, 3]}, "fixed": {"source": "synthetic"}}


def arm_seconds(workers: int) -> float:
    """Wall time of the four-run sweep on `workers` one-thread workers, cluster start included."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        table = sweep(CHAPTER, grid_runs(GRID), out, workers=workers)
        seconds = time.perf_counter() - start
    if not (table["status"] == "ok").all():
        raise SystemExit(f"the {workers}-worker arm had failed runs: {table['error'].tolist()}")
    return seconds


def main() -> None:
    reference = reference_seconds()
    one, two = arm_seconds(1), arm_seconds(2)
    summary = {"runs": len(grid_runs(GRID)), "one_worker_seconds": one, "two_workers_seconds": two,
               "speed_up": one / two, "one_worker_ratio_to_reference": one / reference}
    print(f"sweep of {summary['runs']} runs: {one:.1f} s on one worker, {two:.1f} s on two "
          f"({summary['speed_up']:.2f}x; target 1.6x)")
    write_results(RESULTS, summary)


if __name__ == "__main__":
    main()
