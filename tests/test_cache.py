"""Stage caches that cannot serve what the current code would not compute."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joblib
import pytest

from helpers import cache
from helpers.cache import cached_stage, stage_key
from helpers.data import MarketSpec, WindowSpec
from helpers.experiments.embeddings import DenseStageConfig
from helpers.train import TrainConfig

ROOT = Path(__file__).resolve().parent.parent


def test_presentation_fields_are_left_out_of_the_key_and_computed_ones_are_not():
    plain = DenseStageConfig(train=TrainConfig(epochs=3))
    relabelled = DenseStageConfig(train=TrainConfig(epochs=3, description="another label", progress=False))
    longer = DenseStageConfig(train=TrainConfig(epochs=4))
    assert stage_key("dense_stage", plain, "code") == stage_key("dense_stage", relabelled, "code")
    assert stage_key("dense_stage", plain, "code") != stage_key("dense_stage", longer, "code")
    assert stage_key("dense_stage", plain, "code") != stage_key("sparse_stage", plain, "code")
    assert stage_key("dense_stage", plain, "code") != stage_key("dense_stage", plain, "edited code")


@dataclasses.dataclass(frozen=True)
class Config:
    size: int


def counting_stage():
    calls = []

    @cached_stage
    def square(config: Config) -> int:
        calls.append(config)
        return config.size**2

    return square, calls


def test_a_stage_is_computed_once_per_key_and_again_when_its_code_digest_changes():
    square, calls = counting_stage()
    assert square(Config(size=5)) == 25 and square(Config(size=5)) == 25
    assert len(calls) == 1
    square.digest = "edited helpers"
    assert square(Config(size=5)) == 25
    assert len(calls) == 2, "changed code must retire the cached result"
    assert square.func(Config(size=3)) == 9


def test_an_unreadable_entry_is_recomputed_with_a_warning():
    square, calls = counting_stage()
    square.digest = "unreadable entry test"
    square(Config(size=4))
    entry = cache.cache_root() / "stages" / square.__qualname__ / f"{square.key(Config(size=4))}.joblib"
    entry.write_bytes(b"half a pickle")
    with pytest.warns(UserWarning, match="unreadable"):
        assert square(Config(size=4)) == 16
    assert len(calls) == 2
    assert square(Config(size=4)) == 16 and len(calls) == 2, "the healed entry serves the next call"


def test_concurrent_writers_of_one_entry_leave_one_whole_entry(tmp_path):
    entry = tmp_path / "entry.joblib"
    payloads = [list(range(size * 10_000)) for size in range(1, 9)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda payload: cache.write_atomically(entry, lambda target: joblib.dump(payload, target)),
                      payloads))
    assert joblib.load(entry) in payloads
    assert [path.name for path in tmp_path.iterdir()] == ["entry.joblib"], "no partial file is left behind"


def test_a_stage_computed_by_concurrent_callers_serves_one_result():
    square, calls = counting_stage()
    square.digest = "concurrent callers test"
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(square, [Config(size=6)] * 4))
    assert results == [36] * 4 and square(Config(size=6)) == 36
    assert len(calls) == 1, "the callers that missed the entry together computed it once"


@cached_stage
def slow_square(config: Config) -> int:
    """A stage that takes long enough for other processes to miss its entry, and records each call."""
    with open(os.environ["CALLS_FILE"], "a") as calls:
        calls.write(f"{os.getpid()}\n")
    time.sleep(1.5)
    return config.size**2


def test_processes_that_miss_one_stage_together_compute_it_once(tmp_path):
    environment = {**os.environ, "LATENT_MARKETS_CACHE": str(tmp_path / "cache"), "CALLS_FILE": str(tmp_path / "calls")}
    command = [sys.executable, "-c", "from tests.test_cache import Config, slow_square; print(slow_square(Config(7)))"]
    processes = [subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True,
                                  cwd=Path(__file__).parents[1]) for _ in range(3)]
    outputs = [process.communicate(timeout=120)[0].strip() for process in processes]
    assert outputs == ["49"] * 3 and all(process.returncode == 0 for process in processes)
    assert len((tmp_path / "calls").read_text().split()) == 1, "one process trained, the others read its entry"


def test_a_key_follows_the_content_of_the_file_a_stage_reads(tmp_path):
    closes = tmp_path / "closes.csv"
    closes.write_text("date,A,B\n2020-01-01,1,2\n")
    config = DenseStageConfig(windows=WindowSpec(market=MarketSpec(source="csv", prices_path=str(closes))))
    before = stage_key("dense_stage", config, "code")
    assert stage_key("dense_stage", config, "code") == before
    closes.write_text("date,A,B\n2020-01-01,1,3\n")
    assert stage_key("dense_stage", config, "code") != before, "an edited file of closes retires the entry"
