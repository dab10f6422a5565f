"""Run a chapter over a grid of parameters on a Dask cluster, and collect every number it
glues into one table.

papermill runs one notebook; a sweep runs the same chapter once per row of a grid, each run
one papermill execution in its own folder, as a task on a Dask distributed cluster: a
`LocalCluster` of one-thread worker processes on this machine, or the scheduler at an
address (`--scheduler`, or Dask's own `DASK_SCHEDULER_ADDRESS`), so the same command runs
on a laptop or a cluster. A run that fails is a row with its error, not a failed sweep; a
worker that dies has its runs taken over by another. Runs that already finished with the
same parameters and the same code are read back, not run again.

    python -m helpers.sweep notebooks/07_anomalies.md grid.yml --workers 2

The grid file:

    product:            # every combination of these lists
      seed: [0, 1, 2]
      synthetic_days: [800, 1600]
    rows:               # and these runs as written (optional)
      - {seed: 7, source: synthetic}
    fixed:              # set in every run (optional)
      max_epochs: 10
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dask
import jupytext
import pandas as pd
import papermill
import yaml
from distributed import Client, LocalCluster, as_completed
from tqdm.auto import tqdm

from helpers.cache import PACKAGE, write_atomically
from helpers.freshness import notebook_digest
from helpers.glued import glued_values
from helpers.rerun import chapter_path, check_names
from helpers.threads import pin_threads
from helpers.validate import InputError

GRID_KEYS = ("product", "rows", "fixed")
RECORD = "record.json"


def grid_runs(grid: dict) -> list[dict]:
    """The runs a grid names: every combination of its `product` lists, then its `rows`,
    each with `fixed` set. The same run named twice is an error, not a silent duplicate."""
    if not isinstance(grid, dict) or not grid or set(grid) - set(GRID_KEYS):
        raise InputError(f"grid={grid!r}; expected a mapping with keys among {GRID_KEYS}")
    product, rows, fixed = grid.get("product") or {}, grid.get("rows") or [], grid.get("fixed") or {}
    for name, values in product.items():
        if not isinstance(values, list) or not values:
            raise InputError(f"product: {name}={values!r}; expected a non-empty list of values")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise InputError(f"rows={rows!r}; expected a list of mappings, one per run")
    combinations = [dict(zip(product, values, strict=True)) for values in itertools.product(*product.values())]
    runs = [{**fixed, **row} for row in (combinations if product else []) + rows]
    if not runs:
        raise InputError("the grid names no run: give `product` lists or `rows`")
    seen = {}
    for run in runs:
        seen.setdefault(run_id(run), run)
    if len(seen) < len(runs):
        raise InputError(f"the grid names {len(runs)} runs but only {len(seen)} differ; each run must be distinct")
    return runs


def run_id(parameters: dict) -> str:
    """A short name of a run's parameters, the same whatever their order."""
    text = json.dumps(parameters, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def code_digest(notebook: Path) -> str:
    """What a run's numbers depend on besides its parameters: the chapter and the helpers it
    imports, transitively."""
    return hashlib.sha256((notebook_digest(notebook) + notebook.read_text()).encode()).hexdigest()[:16]


def git_commit() -> str:
    """The commit of the working tree, or "unknown" outside a git checkout."""
    done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=PACKAGE.parent)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def finished_record(folder: Path, digest: str) -> dict | None:
    """The record of a run that finished with this code, or None: a rerun skips it."""
    path = folder / RECORD
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    return record if record.get("status") == "ok" and record.get("code_digest") == digest else None


def execute_run(notebook: str, parameters: dict, folder: str, digest: str, commit: str, threads: int = 1) -> dict:
    """One papermill execution of the chapter, in `folder`, its kernel pinned to `threads`
    threads; its record (parameters, status, error, seconds, glued values) is returned and
    written beside the executed notebook. A failing chapter is a record, not an exception."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    executed = folder / "notebook.ipynb"
    pin_threads(threads)
    os.environ["TQDM_DISABLE"] = "1"
    started = time.perf_counter()
    try:
        papermill.execute_notebook(notebook, executed, parameters=parameters, cwd=str(PACKAGE.parent / "notebooks"),
                                   kernel_name="python3", progress_bar=False)
        status, error = "ok", ""
    except Exception as failure:  # the record says what failed; the sweep goes on
        status, error = "failed", f"{type(failure).__name__}: {failure}"[:4000]
    record = {"run_id": run_id(parameters), "parameters": parameters, "status": status, "error": error,
              "seconds": time.perf_counter() - started, "commit": commit, "code_digest": digest,
              "glued": glued_values(executed) if executed.exists() else {}}
    write_atomically(folder / RECORD, lambda target: target.write_text(json.dumps(record, default=str)))
    return record


def lost_record(parameters: dict, error: BaseException, digest: str, commit: str) -> dict:
    """The record of a run whose task itself failed (every worker that took it died)."""
    return {"run_id": run_id(parameters), "parameters": parameters, "status": "failed",
            "error": f"{type(error).__name__}: {error}"[:4000], "seconds": float("nan"), "commit": commit,
            "code_digest": digest, "glued": {}}


def as_numbers(column: pd.Series) -> pd.Series:
    """A glued column as numbers where every value present reads as one, else as text."""
    converted = pd.to_numeric(column, errors="coerce")
    return converted if converted.notna().sum() == column.notna().sum() else column.astype("string")


def results_table(records: list[dict]) -> pd.DataFrame:
    """One row per run: its parameters (`parameter.NAME`), status, error, seconds, commit and
    code digest, and every value it glued (`glued.NAME`), numbers as numbers."""
    rows = [{"run_id": record["run_id"],
             **{f"parameter.{name}": value for name, value in record["parameters"].items()},
             **{key: record[key] for key in ("status", "error", "seconds", "commit", "code_digest")},
             **{f"glued.{name}": value for name, value in record["glued"].items()}} for record in records]
    table = pd.DataFrame(rows)
    for column in table.columns:
        if column.startswith(("glued.", "parameter.")):
            table[column] = as_numbers(table[column].map(lambda value: value if isinstance(value, str | int | float)
                                                         or value is None else json.dumps(value)))
    return table


def summary(table: pd.DataFrame, seconds: float) -> str:
    """Runs done and failed, the time taken, and each glued number's mean and range over the
    runs (the numbers that do not move are counted, not listed)."""
    done = int((table["status"] == "ok").sum())
    lines = [f"{len(table)} runs: {done} done, {len(table) - done} failed, in {seconds:.0f} s"]
    lines += [f"  failed {row.run_id}: {row.error.splitlines()[0] if row.error else ''}"
              for row in table[table["status"] != "ok"].itertuples()]
    numbers = table[[c for c in table.columns if c.startswith("glued.") and pd.api.types.is_numeric_dtype(table[c])]]
    moving = numbers.loc[:, numbers.nunique() > 1]
    if len(moving.columns):
        spread = moving.agg(["mean", "min", "max"]).T.rename(index=lambda name: name.removeprefix("glued."))
        lines.append(spread.to_string(float_format=lambda value: f"{value:.4g}"))
    lines.append(f"{numbers.shape[1] - moving.shape[1]} glued numbers are the same in every run")
    return "\n".join(lines)


def connect(workers: int | None, scheduler: str | None):
    """A client of the scheduler at `scheduler` (or Dask's configured address), else of a new
    LocalCluster of `workers` one-thread processes (default: one per core)."""
    address = scheduler or dask.config.get("scheduler-address", None)
    if address:
        return Client(address)
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise InputError(f"workers={workers!r}; expected a positive number of worker processes")
    dashboard = ":0" if importlib.util.find_spec("bokeh") else None  # Dask's dashboard needs bokeh
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=dashboard)
    return Client(cluster)


def sweep(notebook: str | Path, runs: list[dict], out: str | Path, workers: int | None = None,
          scheduler: str | None = None, threads: int = 1, client=None) -> pd.DataFrame:
    """Every run of `runs` on the cluster, or read back where it already finished with this
    code; the table of all of them is written to `out`/results.parquet and returned."""
    notebook, out = Path(notebook), Path(out)
    check_names(notebook, {name for run in runs for name in run}, "make sweep")
    out.mkdir(parents=True, exist_ok=True)
    executable = out / f"{notebook.stem}.ipynb"
    jupytext.write(jupytext.read(notebook), executable)
    digest, commit = code_digest(notebook), git_commit()
    records = {run_id(run): finished_record(out / run_id(run), digest) for run in runs}
    pending = [run for run in runs if records[run_id(run)] is None]
    started = time.perf_counter()
    if pending:
        own = client is None
        client = connect(workers, scheduler) if own else client
        try:
            if "dashboard" in client.scheduler_info().get("services", {}):
                print(f"Dask dashboard: {client.dashboard_link}")
            futures = {client.submit(execute_run, str(executable.resolve()), run, str((out / run_id(run)).resolve()),
                                     digest, commit, threads, key=f"run-{run_id(run)}-{digest}", pure=False): run
                       for run in pending}
            for future in tqdm(as_completed(futures), total=len(futures), desc=f"{notebook.stem} runs"):
                run = futures[future]
                try:
                    records[run_id(run)] = future.result()
                except Exception as error:  # the task was lost with its workers
                    records[run_id(run)] = lost_record(run, error, digest, commit)
        finally:
            if own:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()
    table = results_table([records[run_id(run)] for run in runs])
    table.to_parquet(out / "results.parquet", index=False)
    print(summary(table, time.perf_counter() - started))
    print(f"{len(runs) - len(pending)} runs read back from earlier; table: {out / 'results.parquet'}")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="the chapter, e.g. notebooks/07_anomalies.md")
    parser.add_argument("grid", help="the grid file (YAML): product, rows, fixed")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--out", default=None, help="output folder (default: _build/sweeps/CHAPTER-GRID)")
    arguments = parser.parse_args(argv)
    notebook = chapter_path(arguments.notebook, "make sweep")
    grid_path = Path(arguments.grid)
    if not grid_path.is_file():
        raise SystemExit(f"make sweep: no grid file at GRID={arguments.grid}")
    try:
        runs = grid_runs(yaml.safe_load(grid_path.read_text()))
    except InputError as error:
        raise SystemExit(f"make sweep: {grid_path}: {error}") from None
    out = Path(arguments.out or PACKAGE.parent / "_build" / "sweeps" / f"{notebook.stem}-{grid_path.stem}")
    table = sweep(notebook, runs, out, arguments.workers, arguments.scheduler)
    return 0 if (table["status"] == "ok").all() else 1


if __name__ == "__main__":
    sys.exit(main())
