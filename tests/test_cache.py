"""Stage and book caches that cannot serve what the current code would not compute."""
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
import yaml

from helpers import cache
from helpers.cache import cached_stage, package_digest, retire_if_code_changed, stage_key
from helpers.experiments.embeddings import DenseStageConfig
from helpers.train import TrainConfig

ROOT = Path(__file__).resolve().parent.parent


def test_presentation_fields_are_left_out_of_the_key_and_computed_ones_are_not():
    plain = DenseStageConfig(train=TrainConfig(epochs=3))
    relabelled = DenseStageConfig(train=TrainConfig(epochs=3, description="another label", progress=False))
    longer = DenseStageConfig(train=TrainConfig(epochs=4))
    assert stage_key("dense_stage", plain) == stage_key("dense_stage", relabelled)
    assert stage_key("dense_stage", plain) != stage_key("dense_stage", longer)
    assert stage_key("dense_stage", plain) != stage_key("sparse_stage", plain)


def test_the_digest_follows_every_python_file_of_the_package(tmp_path):
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "model.py"
    model.write_text("WIDTH = 8\n")
    before = package_digest(tmp_path)
    model.write_text("WIDTH = 16\n")
    assert package_digest(tmp_path) != before
    assert stage_key("s", 1, package_digest(tmp_path)) != stage_key("s", 1, before)


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


def test_a_stage_is_computed_once_per_key_and_again_after_a_helper_changes(monkeypatch):
    square, calls = counting_stage()
    assert square(Config(size=5)) == 25 and square(Config(size=5)) == 25
    assert len(calls) == 1
    monkeypatch.setattr(cache, "code_digest", lambda: "edited helpers")
    assert square(Config(size=5)) == 25
    assert len(calls) == 2, "a changed helper must retire the cached result"
    assert square.func(Config(size=3)) == 9


def test_an_unreadable_entry_is_recomputed_with_a_warning(monkeypatch):
    monkeypatch.setattr(cache, "code_digest", lambda: "unreadable entry test")
    square, calls = counting_stage()
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


def test_a_stage_computed_by_concurrent_callers_serves_one_result(monkeypatch):
    monkeypatch.setattr(cache, "code_digest", lambda: "concurrent callers test")
    square, calls = counting_stage()
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


def test_the_book_caches_are_emptied_only_when_the_helpers_changed(tmp_path):
    book_cache, doctrees = tmp_path / ".jupyter_cache", tmp_path / ".doctrees"
    book_cache.mkdir()
    assert retire_if_code_changed([book_cache, doctrees], "first") and not book_cache.exists()
    for folder in (book_cache, doctrees):
        folder.mkdir()
        (folder / "kept").write_text("outputs")
    assert not retire_if_code_changed([book_cache, doctrees], "first")
    assert (book_cache / "kept").exists() and (doctrees / "kept").exists()
    assert retire_if_code_changed([book_cache, doctrees], "second")
    assert not book_cache.exists() and not doctrees.exists()


def test_make_book_retires_the_caches_it_builds_with_before_building():
    configured = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["cache"]
    commands = subprocess.run(["make", "-n", "book"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = commands.splitlines()
    retire = next(i for i, line in enumerate(lines) if f"-m helpers.cache {configured} _build/.doctrees" in line)
    build = next(i for i, line in enumerate(lines) if "jupyter-book build" in line)
    assert retire < build


def test_a_page_whose_text_did_not_change_is_executed_again_after_a_code_change(tmp_path):
    """Sphinx re-reads only pages whose text changed, so an emptied execution cache alone would
    leave every other page with the outputs of the old code."""
    (tmp_path / "_config.yml").write_text("title: probe\nexecute:\n  execute_notebooks: cache\n"
                                          "  cache: _build/.jupyter_cache\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "page.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n"
        "  display_name: Python 3\n---\n# Probe\n\n```{code-cell} ipython3\n"
        "from probe import VALUE\nprint(f'value={VALUE}')\n```\n")
    caches = [tmp_path / "_build" / ".jupyter_cache", tmp_path / "_build" / ".doctrees"]
    builder = Path(sys.executable).parent / "jupyter-book"

    def build_with(value: int, digest: str) -> str:
        (tmp_path / "probe.py").write_text(f"VALUE = {value}\n")
        retire_if_code_changed(caches, digest)
        subprocess.run([str(builder), "build", ".", "--builder", "html"], cwd=tmp_path, check=True, capture_output=True)
        return (tmp_path / "_build" / "html" / "page.html").read_text()

    assert "value=1" in build_with(1, "first")
    assert "value=22" in build_with(22, "second")
