"""Write every chapter as a notebook with its smoke parameters injected, ready for nbval.

    python -m tests.prepare_smoke OUTPUT_DIR [--source bundled|synthetic|yfinance|csv]

Each chapter in notebooks/ needs an entry in tests/smoke.yml; papermill only injects the
parameters (prepare_only), and nbval then executes and checks every cell. With --source,
every chapter runs on that source: "yfinance" needs the stand-in switched on
(LATENT_MARKETS_YFINANCE_DOWNLOAD=tests.yfinance_standin:download) and "csv" reads the
worked example of book/rerun.md, written next to the notebooks by the snippet shown there.
On the synthetic source each chapter also ends with its injected result (tests/injections.py),
so that the run nbval makes of the chapter also shows that its checks can fail.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import jupytext
import nbformat
import papermill
import yaml

from helpers.data import SOURCES
from tests.documented import write_example_csv
from tests.injections import with_injection

ROOT = Path(__file__).resolve().parent.parent
SMOKE_PARAMETERS = ROOT / "tests" / "smoke.yml"


def chapters() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


def smoke_parameters() -> dict[str, dict]:
    return yaml.safe_load(SMOKE_PARAMETERS.read_text()) or {}


def source_parameters(source: str, output_dir: Path) -> dict:
    if source not in SOURCES:
        raise SystemExit(f"--source {source!r}; expected one of {list(SOURCES)}")
    if source == "csv":
        return {"source": "csv", "prices_path": str(write_example_csv(output_dir).resolve())}
    return {"source": source}


def prepare(output_dir: Path, source: str = "bundled") -> list[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    parameters = smoke_parameters()
    missing = [str(c.relative_to(ROOT)) for c in chapters() if str(c.relative_to(ROOT)) not in parameters]
    if missing:
        raise SystemExit(f"no smoke parameters for {missing}: add them to {SMOKE_PARAMETERS.relative_to(ROOT)}")
    extra = source_parameters(source, output_dir)
    written = []
    for chapter in chapters():
        source_notebook = output_dir / f"{chapter.stem}.source.ipynb"
        target = output_dir / f"{chapter.stem}.ipynb"
        jupytext.write(jupytext.read(chapter), source_notebook)
        papermill.execute_notebook(
            str(source_notebook),
            str(target),
            parameters=parameters[str(chapter.relative_to(ROOT))] | extra,
            prepare_only=True,
            progress_bar=False,
        )
        source_notebook.unlink()
        if source == "synthetic":
            nbformat.write(with_injection(nbformat.read(target, as_version=4), chapter.stem), target)
        written.append(target)
    return written


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("output_dir", type=Path)
    arguments.add_argument("--source", default="bundled", choices=SOURCES)
    options = arguments.parse_args()
    for path in prepare(options.output_dir, options.source):
        print(f"prepared {path}")
