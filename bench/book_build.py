"""Cold and warm build times of the whole book, and each chapter's execution time.

Cold: the execution cache, the stage cache (trained models) and the built site are
removed first, so every chapter runs at its full parameters and trains everything it
needs. Warm: the same build again with nothing changed. Chapter times come from the
execution cache that Jupyter Book fills.

    python -m bench.book_build
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from jupyter_cache import get_cache

from helpers.cache import cache_root

BUILD = Path("_build")
CACHE = BUILD / ".jupyter_cache"
RESULTS = BUILD / "bench" / "book_build.json"
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
COMMAND = [JUPYTER_BOOK, "build", ".", "--builder", "html", "-W", "-n", "--keep-going"]


def build() -> float:
    start = time.perf_counter()
    subprocess.run(COMMAND, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    for folder in (CACHE, cache_root() / "stages", BUILD / "html", BUILD / "jupyter_execute", BUILD / ".doctrees"):
        shutil.rmtree(folder, ignore_errors=True)
    cold = build()
    chapters = {
        Path(record.uri).name: record.data["execution_seconds"] for record in get_cache(str(CACHE)).list_cache_records()
    }
    warm = build()
    print(f"cold build: {cold:.1f} s; warm rebuild: {warm:.1f} s")
    for name, seconds in sorted(chapters.items()):
        print(f"  {name}: {seconds:.1f} s to execute at full parameters")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"cold_seconds": cold, "warm_seconds": warm, "chapters": chapters}, indent=2))
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
