"""Every `make rerun` command that README.md and book/rerun.md show, run as written, at the
chapter's smoke sizes: the smoke parameters go first and the documented ones override
them. yfinance answers from the stand-in; `$PWD/my_prices.csv` is the csv worked example,
written by the snippet book/rerun.md shows. Run by `make notebooks` (marker: documented)."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers.sweep import grid_runs
from tests.documented import ROOT, rerun_commands, sweep_commands, write_example_csv
from tests.prepare_smoke import smoke_parameters

pytestmark = pytest.mark.documented
COMMANDS = rerun_commands()


def test_the_documents_show_commands_for_several_chapters_and_every_extra_source():
    shown = " ".join(args for _, args in COMMANDS)
    assert len({notebook for notebook, _ in COMMANDS}) >= 2
    assert all(f"source {name}" in shown for name in ("synthetic", "yfinance", "csv"))


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("reader")
    write_example_csv(directory)
    return directory


@pytest.mark.parametrize(("notebook", "args"), COMMANDS, ids=[f"{n} {a}" for n, a in COMMANDS])
def test_documented_rerun_runs(notebook, args, example_dir, tmp_path):
    smoke = shlex.quote(json.dumps(smoke_parameters()[notebook]))  # JSON is YAML, on one line
    documented = args.replace("$PWD", str(example_dir))
    environment = os.environ | {
        "LATENT_MARKETS_YFINANCE_DOWNLOAD": "tests.yfinance_standin:download",
        "PYTHONPATH": str(ROOT),
        "LATENT_MARKETS_CACHE": str(tmp_path / "cache"),
    }
    finished = subprocess.run(
        ["make", "--no-print-directory", "rerun", f"NB={notebook}", f"ARGS=-y {smoke} {documented}",
         f"RERUNS={tmp_path}"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    executed = json.loads((tmp_path / f"{Path(notebook).stem}.ipynb").read_text())
    injected = executed["metadata"]["papermill"]["parameters"]
    tokens = shlex.split(documented)
    for flag, name in zip(tokens, tokens[1:], strict=False):
        if flag == "-p":
            assert name in injected, f"{name} was not injected"


@pytest.mark.parametrize(("notebook", "grid"), sweep_commands(), ids=[f"{n} {g}" for n, g in sweep_commands()])
def test_documented_sweep_runs(notebook, grid, tmp_path):
    written = yaml.safe_load((ROOT / grid).read_text())
    written["fixed"] = smoke_parameters()[notebook] | (written.get("fixed") or {})  # the documented values win
    smoke_grid = tmp_path / Path(grid).name
    smoke_grid.write_text(yaml.safe_dump(written))
    environment = os.environ | {"LATENT_MARKETS_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    finished = subprocess.run(
        ["make", "--no-print-directory", "sweep", f"NB={notebook}", f"GRID={smoke_grid}", "WORKERS=2"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    table = pd.read_parquet(ROOT / "_build" / "sweeps" / f"{Path(notebook).stem}-{smoke_grid.stem}" / "results.parquet")
    assert len(table) == len(grid_runs(yaml.safe_load((ROOT / grid).read_text())))
    assert (table["status"] == "ok").all() and table.filter(like="glued.").shape[1] > 10
