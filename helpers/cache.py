"""Where the book keeps what it downloads and what it computes once.

Shared stages (a trained model and its outputs for one configuration) are cached on disk:
a chapter that needs another chapter's result recomputes it or finds it here, never in a
file that exists only because another notebook ran first. A stage's key is its name, its
configuration without the fields that only change how it is shown (a progress label), and
a digest of the code it runs: the helper modules its function uses, transitively, with its
own source (`helpers.dependencies`). Editing a module a stage runs retires its entries
instead of serving a result the new code would not compute; editing any other module keeps
them. The book's execution cache is retired chapter by chapter the same way
(`helpers.freshness`).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import joblib
from filelock import FileLock

from helpers.dependencies import helpers_graph

DOWNLOAD_ENV = "LATENT_MARKETS_YFINANCE_DOWNLOAD"
PACKAGE = Path(__file__).resolve().parent
# Mark a dataclass field that changes how a computation is shown, not what it computes:
# `field(default=..., metadata=PRESENTATION)` leaves it out of cache keys.
PRESENTATION = {"presentation": True}
# Mark a field that names a file the computation reads (a reader's csv of closes): cache keys
# hold the digest of the file's content beside its path, so an edited file retires the entry.
INPUT_FILE = {"input_file": True}

Result = TypeVar("Result")


def cache_root() -> Path:
    """$LATENT_MARKETS_CACHE if set, else .cache/ at the top of the repository.

    With a stand-in for yfinance switched on (see `helpers.data.yahoo`), everything goes to
    a `standin` folder inside it, so that simulated downloads, and models trained on them,
    are never served as real ones.
    """
    configured = os.environ.get("LATENT_MARKETS_CACHE")
    root = Path(configured) if configured else PACKAGE.parent / ".cache"
    return root / "standin" if os.environ.get(DOWNLOAD_ENV) else root


def file_digest(path: str | os.PathLike | None) -> tuple[Any, str | None]:
    """A path with the digest of the file's content (None where there is no file)."""
    if path is None or not Path(path).is_file():
        return path, None
    return str(path), hashlib.sha256(Path(path).read_bytes()).hexdigest()


def computed_fields(value: Any) -> Any:
    """A dataclass (nested ones too) as its type and the fields that decide what it computes,
    with the content of the files it reads."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            f.name: file_digest(getattr(value, f.name)) if f.metadata.get("input_file")
            else computed_fields(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.metadata.get("presentation")
        }
        return (type(value).__qualname__, fields)
    if isinstance(value, list | tuple):
        return type(value)(computed_fields(item) for item in value)
    return value


def stage_key(name: str, config: Any, digest: str) -> str:
    return joblib.hash((name, computed_fields(config), digest))


def stage_digest(compute: Callable) -> str:
    """The digest of the code a stage runs, read when it is defined (as its module is imported),
    so that it names the code a running kernel imported even if the files change under it. A
    stage defined outside the helpers (in a test) counts every helper module."""
    graph = helpers_graph()
    if compute.__module__ in graph.modules and compute.__qualname__ == compute.__name__:
        return graph.digest(graph.stage_closure(compute.__module__, compute.__name__))
    return graph.digest(graph.modules, extra=[inspect.getsource(compute)])


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Write a cache entry through a temporary file renamed into place: a reader finds the whole
    entry or none, and concurrent writers of one entry each leave a whole one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".partial",
                                     delete=False) as handle:
        temporary = Path(handle.name)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_or_heal(path: Path, read: Callable[[Path], Result], action: str) -> Result | None:
    """A cache entry, or None when there is none or it cannot be read (a truncated or empty
    file, a disk error): then it is removed with a warning saying so, and the caller makes it
    again instead of failing on every later run."""
    if not path.exists():
        return None
    try:
        return read(path)
    except Exception as error:
        warnings.warn(f"{action}: the cached {path} is unreadable ({error!r}); removed it", stacklevel=3)
        path.unlink(missing_ok=True)
        return None


def cached_stage(compute: Callable[[Any], Result]) -> Callable[[Any], Result]:
    """Cache a stage, a function of one frozen config, on disk under its key.

    An entry is written whole or not at all, and one that cannot be read is recomputed with
    a warning (see `write_atomically` and `read_or_heal`). Callers that miss the same entry
    at once, in threads or in processes (the runs of a sweep), take a lock file beside it in
    turn: the first computes, the others wait and read, so a stage is never trained twice
    for one key. `.func` is the uncached stage, `.digest` that of the code it runs and
    `.key(config)` its key.
    """

    def key(config) -> str:
        return stage_key(compute.__qualname__, config, stage.digest)

    @functools.wraps(compute)
    def stage(config):
        path = cache_root() / "stages" / compute.__qualname__ / f"{key(config)}.joblib"
        cached = read_or_heal(path, joblib.load, f"recomputing {compute.__qualname__}")
        if cached is not None:
            return cached
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(path.parent / f".{path.name}.lock"):
            cached = read_or_heal(path, joblib.load, f"recomputing {compute.__qualname__}")
            if cached is not None:  # another process computed it while this one waited
                return cached
            result = compute(config)
            write_atomically(path, lambda target: joblib.dump(result, target))
        return result

    stage.func = compute
    stage.digest = stage_digest(compute)
    stage.key = key
    return stage
