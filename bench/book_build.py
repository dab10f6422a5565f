"""Cold and warm build times of the whole book, each chapter's execution time, and the author's loop.

Cold: the execution cache, the stage cache (trained models), the robustness page's sweep
runs and the built site are removed first, so every chapter runs at its full parameters
and trains everything it needs. The book's time is a cold build as `make book` runs it (a
worker per core); then every cache is removed again and the book built one chapter at a
time, so that each chapter's time is its own. Warm: the same build again with nothing
changed. Chapter times come from the execution cache. The author's loop: a one-line edit to
helpers/analysis/regimes.py, then one to helpers/plots.py as well, each followed by a build,
which shows what each edit executes again and how long it takes; both files are restored
at the end (so the next build executes their dependents once more). Machines differ, so
each time is also given as a multiple of the reference training loop that `bench.train_speed`
timed in the same `make bench` run, against the budgets: the book within 25 times that loop,
a chapter 4.

    python -m bench.book_build
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from jupyter_cache import get_cache

from bench import write_results
from helpers.cache import cache_root

BUILD = Path("_build")
CACHE = BUILD / ".jupyter_cache"
RESULTS = BUILD / "bench" / "book_build.json"
REFERENCE = BUILD / "bench" / "train_speed.json"
BOOK_BUDGET, CHAPTER_BUDGET = 25.0, 4.0  # multiples of the reference loop's 100 epochs
EDITS = (Path("helpers/analysis/regimes.py"), Path("helpers/plots.py"))  # edited in turn, cumulatively
EDIT_LINE = "\n# bench.book_build: a one-line edit, removed when the benchmark ends\n"
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
COMMAND = [JUPYTER_BOOK, "build", ".", "--builder", "html", "-W", "-n", "--keep-going"]
WORKERS = os.cpu_count() or 1  # as `make book`
EXECUTING = "executing "  # helpers.execute's line naming the pages it executes


def build(workers: int = WORKERS) -> tuple[float, list[str]]:
    """Seconds of one build as `make book` runs it (the out-of-date chapters executed ahead on
    `workers` processes, then the site), and the pages it executed; a failed build stops the
    benchmark with the warnings that failed it."""
    start, executed = time.perf_counter(), []
    for command in ([sys.executable, "-m", "helpers.execute", ".", "--workers", str(workers)], COMMAND):
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode != 0:
            log = (finished.stdout + finished.stderr).splitlines()
            problems = [line for line in log if "WARNING" in line or "ERROR" in line] or log[-20:]
            raise SystemExit("the book build failed, so no time is reported:\n" + "\n".join(problems))
        executed += [Path(name).name for line in finished.stdout.splitlines() if line.startswith(EXECUTING)
                     for name in line.split(": ", 1)[1].split(", ")]
    return time.perf_counter() - start, executed


def reference_seconds() -> float:
    if not REFERENCE.exists():
        raise SystemExit(f"no {REFERENCE}: run `python -m bench.train_speed` first (make bench runs both)")
    return float(json.loads(REFERENCE.read_text())["reference_seconds_total"])


def against(seconds: float, reference: float, budget: float) -> str:
    ratio = seconds / reference
    verdict = "" if ratio <= budget else ", OVER"
    return f"{seconds:.1f} s = {ratio:.1f}x the reference loop (budget {budget:g}x{verdict})"


def after_edit(path: Path) -> tuple[float, list[str]]:
    """Add one line to a helper, build, and return the build's seconds and the pages it executed."""
    path.write_text(path.read_text() + EDIT_LINE)
    return build()


def author_loop(reference: float) -> dict:
    originals = {path: path.read_text() for path in EDITS}
    loop = {}
    try:
        for path in EDITS:
            seconds, executed = after_edit(path)
            loop[str(path)] = {"seconds": seconds, "ratio": seconds / reference, "executed": executed}
            print(f"after a one-line edit to {path}{' as well' if len(loop) > 1 else ''}: {seconds:.1f} s = "
                  f"{seconds / reference:.1f}x, executing {len(executed)} pages: {', '.join(executed)}")
    finally:
        for path, text in originals.items():
            path.write_text(text)
    return loop


def remove_caches() -> None:
    for folder in (CACHE, cache_root() / "stages", BUILD / "sweeps", BUILD / "html", BUILD / "jupyter_execute",
                   BUILD / ".doctrees"):
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    reference = reference_seconds()
    remove_caches()
    cold, _ = build()  # as `make book` builds it
    remove_caches()
    one_at_a_time, _ = build(workers=1)  # so that each chapter's time is its own
    chapters = {
        Path(record.uri).name: record.data["execution_seconds"] for record in get_cache(str(CACHE)).list_cache_records()
    }
    warm, _ = build()
    print(f"reference loop (bench.train_speed, this run): {reference:.1f} s")
    print(f"cold build on {WORKERS} workers, as `make book` runs it: {against(cold, reference, BOOK_BUDGET)}")
    print(f"cold build one chapter at a time: {one_at_a_time:.1f} s = {one_at_a_time / reference:.1f}x; "
          f"warm rebuild: {warm:.1f} s")
    for name, seconds in sorted(chapters.items()):
        print(f"  {name}: {against(seconds, reference, CHAPTER_BUDGET)} to execute at full parameters")
    loop = author_loop(reference)
    write_results(RESULTS, {
        "reference_seconds": reference, "cold_seconds": cold, "cold_ratio": cold / reference, "workers": WORKERS,
        "one_at_a_time_seconds": one_at_a_time, "warm_seconds": warm,
        "chapters": chapters, "chapter_ratios": {name: seconds / reference for name, seconds in chapters.items()},
        "author_loop": loop,
    })


if __name__ == "__main__":
    main()
