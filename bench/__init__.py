"""make bench: training speed, the nonlinearity dial, book build times."""
from __future__ import annotations

import json
from pathlib import Path


def write_results(path: Path, results: dict) -> None:
    """Keep a benchmark's figures as JSON under _build/bench, and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"written {path}")
