"""What README.md and book/rerun.md show a reader: their `make rerun` and `make sweep`
commands and the Python snippet that writes the csv source's worked example. The tests run these texts
themselves, so a documented example cannot break unseen."""
from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = (ROOT / "README.md", ROOT / "book" / "rerun.md")
RERUN = re.compile(r"""make rerun NB=(?P<notebook>\S+) ARGS=(?P<quote>["'])(?P<args>.*?)(?P=quote)""")
SWEEP = re.compile(r"make sweep NB=(?P<notebook>\S+) GRID=(?P<grid>\S+)")
EXAMPLE_FILE = "my_prices.csv"


def rerun_commands() -> list[tuple[str, str]]:
    """(notebook, ARGS) of every `make rerun` command in the documents, in order, once each."""
    found = []
    for document in DOCUMENTS:
        for match in RERUN.finditer(document.read_text()):
            command = (match["notebook"], match["args"])
            if command not in found:
                found.append(command)
    return found


def sweep_commands() -> list[tuple[str, str]]:
    """(notebook, grid file) of every `make sweep` command in book/rerun.md, once each."""
    found = []
    for match in SWEEP.finditer((ROOT / "book" / "rerun.md").read_text()):
        if (match["notebook"], match["grid"]) not in found:
            found.append((match["notebook"], match["grid"]))
    return found


def example_snippet() -> str:
    """The Python block of book/rerun.md that writes the csv example."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "book" / "rerun.md").read_text(), flags=re.S)
    writers = [block for block in blocks if EXAMPLE_FILE in block]
    if len(writers) != 1:
        raise ValueError(f"book/rerun.md has {len(writers)} Python blocks writing {EXAMPLE_FILE}; expected one")
    return writers[0]


def write_example_csv(directory: Path) -> Path:
    """Run the documented snippet in `directory` and return the file it writes."""
    directory.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    os.chdir(directory)
    try:
        exec(compile(example_snippet(), "book/rerun.md", "exec"), {})
    finally:
        os.chdir(here)
    return directory / EXAMPLE_FILE
