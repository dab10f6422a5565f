"""Write every chapter as a notebook with its smoke parameters injected, ready for nbval.

    python -m tests.prepare_smoke OUTPUT_DIR

Each chapter in notebooks/ needs an entry in tests/smoke.yml; papermill only injects the
parameters (prepare_only), and nbval then executes and checks every cell.
"""
from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import papermill
import yaml

ROOT = Path(__file__).resolve().parent.parent
SMOKE_PARAMETERS = ROOT / "tests" / "smoke.yml"


def chapters() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


def smoke_parameters() -> dict[str, dict]:
    return yaml.safe_load(SMOKE_PARAMETERS.read_text()) or {}


def prepare(output_dir: Path) -> list[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    parameters = smoke_parameters()
    missing = [str(c.relative_to(ROOT)) for c in chapters() if str(c.relative_to(ROOT)) not in parameters]
    if missing:
        raise SystemExit(f"no smoke parameters for {missing}: add them to {SMOKE_PARAMETERS.relative_to(ROOT)}")
    written = []
    for chapter in chapters():
        source = output_dir / f"{chapter.stem}.source.ipynb"
        target = output_dir / f"{chapter.stem}.ipynb"
        jupytext.write(jupytext.read(chapter), source)
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters[str(chapter.relative_to(ROOT))],
            prepare_only=True,
            progress_bar=False,
        )
        source.unlink()
        written.append(target)
    return written


if __name__ == "__main__":
    for path in prepare(Path(sys.argv[1])):
        print(f"prepared {path}")
