"""Sweeps: the grid, the table, and runs of a small chapter on a two-worker Dask cluster."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers import sweep as sweeping
from helpers.sweep import execute_run, finished_record, grid_runs, results_table, run_id, summary
from tests.prepare_smoke import smoke_parameters

CHAPTER = Path(__file__).resolve().parents[1] / "notebooks" / "01_data.md"


def test_a_grid_is_the_product_then_the_rows_each_with_the_fixed_values():
    runs = grid_runs({"product": {"seed": [0, 1], "synthetic_days": [600, 700]},
                      "rows": [{"seed": 7, "source": "bundled"}], "fixed": {"source": "synthetic"}})
    assert runs == [{"source": "synthetic", "seed": 0, "synthetic_days": 600},
                    {"source": "synthetic", "seed": 0, "synthetic_days": 700},
                    {"source": "synthetic", "seed": 1, "synthetic_days": 600},
                    {"source": "synthetic", "seed": 1, "synthetic_days": 700},
                    {"source": "bundled", "seed": 7}]
    assert grid_runs({"rows": [{"seed": 3}]}) == [{"seed": 3}]


@pytest.mark.parametrize("grid, message", [
    ({"product": {"seed": [0]}, "rows": [{"seed": 0}]}, "only 1 differ"),
    ({"product": {"seed": []}}, "non-empty list"),
    ({"product": {"seed": 3}}, "non-empty list"),
    ({"seeds": [0, 1]}, "keys among"),
    ({"fixed": {"seed": 1}}, "names no run"),
    ({"rows": ["seed=1"]}, "list of mappings"),
])
def test_a_bad_grid_is_refused_with_what_would_be_accepted(grid, message):
    with pytest.raises(ValueError, match=message):
        grid_runs(grid)


def test_a_run_is_named_by_its_parameters_in_any_order():
    assert run_id({"seed": 1, "source": "synthetic"}) == run_id({"source": "synthetic", "seed": 1})
    assert run_id({"seed": 1}) != run_id({"seed": 2})


def record(seed: int, status: str = "ok", **glued) -> dict:
    return {"run_id": run_id({"seed": seed}), "parameters": {"seed": seed}, "status": status,
            "error": "" if status == "ok" else "PapermillExecutionError: boom\nmore", "seconds": 1.0,
            "commit": "abc", "code_digest": "d1", "glued": glued}


def test_the_table_has_a_row_per_run_with_numbers_as_numbers_and_a_failure_as_a_row():
    table = results_table([record(0, n="0.5", word="calm"), record(1, n="0.7", word="stress"),
                           record(2, status="failed")])
    assert table["parameter.seed"].tolist() == [0, 1, 2]
    assert table["glued.n"].tolist()[:2] == [0.5, 0.7] and pd.isna(table["glued.n"].iloc[2])
    assert table["glued.word"].dtype == "string" and table["status"].tolist() == ["ok", "ok", "failed"]
    text = summary(table, 12.0)
    assert "3 runs: 2 done, 1 failed" in text and "PapermillExecutionError: boom" in text and "more" not in text
    assert "n " in text and "0.6" in text  # the moving number with its mean


def test_a_finished_record_is_read_back_only_with_the_same_code(tmp_path):
    (tmp_path / "record.json").write_text(json.dumps(record(0)))
    assert finished_record(tmp_path, "d1")["parameters"] == {"seed": 0}
    assert finished_record(tmp_path, "changed code") is None
    (tmp_path / "record.json").write_text(json.dumps(record(0, status="failed")))
    assert finished_record(tmp_path, "d1") is None, "a failed run is run again"


def test_a_parameter_the_chapter_does_not_declare_stops_the_sweep_before_any_run(tmp_path):
    with pytest.raises(SystemExit, match="has no parameter 'sede'.*did you mean 'seed'"):
        sweeping.sweep(CHAPTER, [{"sede": 1}], tmp_path)


# Runs of a chapter: papermill executions, at the chapter's smoke sizes.
SMALL = smoke_parameters()["notebooks/01_data.md"] | {"source": "synthetic"}
GRID = grid_runs({"product": {"seed": [0, 1], "synthetic_days": [600, 700]}, "fixed": SMALL})


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        with Client(local) as client:
            yield client


@pytest.mark.smoke
def test_a_two_by_two_grid_gives_four_rows_with_the_runs_numbers(tmp_path, cluster):
    table = sweeping.sweep(CHAPTER, GRID, tmp_path, client=cluster)
    assert len(table) == 4 and (table["status"] == "ok").all(), table["error"].tolist()
    assert table[["parameter.seed", "parameter.synthetic_days"]].values.tolist() == [[0, 600], [0, 700],
                                                                                     [1, 600], [1, 700]]
    assert table["glued.n_assets"].notna().all() and (table["seconds"] > 0).all()
    assert pd.read_parquet(tmp_path / "results.parquet").equals(table)
    alone = results_table([execute_run(str(tmp_path / "01_data.ipynb"), GRID[3], str(tmp_path / "alone"), "d", "c")])
    pd.testing.assert_series_equal(alone.filter(like="glued.").iloc[0], table.filter(like="glued.").iloc[3],
                                   check_names=False, check_dtype=False)  # the same run alone: the same numbers


@pytest.mark.smoke
def test_a_finished_sweep_is_read_back_without_running_anything(tmp_path, cluster, monkeypatch):
    first = sweeping.sweep(CHAPTER, GRID[:2], tmp_path, client=cluster)
    monkeypatch.setattr(sweeping, "execute_run", lambda *arguments, **options: pytest.fail("ran a finished run"))
    again = sweeping.sweep(CHAPTER, GRID[:2], tmp_path, client=cluster)
    assert again.drop(columns="seconds").equals(first.drop(columns="seconds"))


@pytest.mark.smoke
def test_a_sweep_survives_a_worker_killed_mid_run(tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local, \
            Client(local) as client:
        result = {}
        running = threading.Thread(target=lambda: result.update(table=sweeping.sweep(CHAPTER, GRID, tmp_path,
                                                                                       client=client)))
        running.start()
        deadline = time.monotonic() + 120
        while not any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # a run is under way on the victim
        victim = next(address for address, tasks in client.processing().items() if tasks)
        os.kill(client.run(os.getpid)[victim], signal.SIGKILL)  # its nanny starts a new one
        running.join(timeout=600)
        assert victim not in client.scheduler_info()["workers"], "the worker was killed"
    table = result["table"]
    assert len(table) == 4 and (table["status"] == "ok").all(), table["error"].tolist()


def test_the_command_names_a_missing_grid_file_and_a_bad_grid(tmp_path):
    with pytest.raises(SystemExit, match="no grid file at GRID=nowhere.yml"):
        sweeping.main([str(CHAPTER), "nowhere.yml"])
    bad = tmp_path / "bad.yml"
    bad.write_text("seeds: [0, 1]\n")
    with pytest.raises(SystemExit, match="bad.yml: grid=.*keys among"):
        sweeping.main([str(CHAPTER), str(bad)])
    with pytest.raises(SystemExit, match="no notebook at NB=notebooks/99_none.md"):
        sweeping.main(["notebooks/99_none.md", str(bad)])
