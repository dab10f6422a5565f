"""The numbers a chapter glues into its prose, read back from an executed notebook.

Every figure the book quotes is glued (myst-nb's `glue`), so the glued values of the built
chapters are the book's results in one place: `make numbers` writes them as one table
(chapter, name, value), and comparing two such tables shows what a change moved.

    python -m helpers.glued _build/jupyter_execute/notebooks _build/numbers.csv
    python -m helpers.glued --compare before.csv after.csv
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
import pandas as pd

COLUMNS = ["chapter", "name", "value"]


def as_text(data: dict[str, str]) -> str:
    """Markdown as written, a number as printed, and a figure by its kind (image/png), so that a
    figure that appears or disappears still shows in a comparison."""
    if "text/markdown" in data:
        return str(data["text/markdown"])
    pictures = sorted(mime for mime in data if not mime.startswith("text/"))
    return f"<{', '.join(pictures)}>" if pictures else str(data.get("text/plain", ""))


def glued_outputs(path: Path) -> list[dict]:
    """The glue outputs of an executed chapter: from the `.glue.json` Jupyter Book writes beside
    the notebooks it executes (it strips them from the notebook), or from a notebook papermill
    executed, where they are outputs of the cells."""
    if path.name.endswith(".glue.json"):
        return list(json.loads(path.read_text()).values())
    cells = nbformat.read(path, as_version=4).cells
    return [output for cell in cells for output in cell.get("outputs", [])]


def glued_values(path: str | Path) -> dict[str, str]:
    """Each glued name of an executed chapter and its value as text."""
    values = {}
    for output in glued_outputs(Path(path)):
        record = output.get("metadata", {}).get("scrapbook")
        if record:
            prefix = record.get("mime_prefix", "")
            data = {mime.removeprefix(prefix): value for mime, value in output.get("data", {}).items()}
            values[record["name"]] = as_text(data)
    return values


def book_numbers(executed: str | Path) -> pd.DataFrame:
    """Every glued value of the executed chapters in a folder, one row per (chapter, name).
    A chapter's `.glue.json` is read where the book build wrote one, else its notebook."""
    chapters = {}
    for path in sorted(Path(executed).glob("[0-9][0-9]_*.ipynb")):
        chapters[path.stem] = path.with_suffix(".glue.json") if path.with_suffix(".glue.json").exists() else path
    if not chapters:
        raise FileNotFoundError(f"no executed chapters (NN_name.ipynb) in {executed}: build the book first (make book)")
    rows = [(chapter, name, value) for chapter, path in chapters.items() for name, value in glued_values(path).items()]
    return pd.DataFrame(rows, columns=COLUMNS)


def recorded_claims(executed: str | Path, pages: str = "[0-9][0-9]_*") -> dict[str, list[dict]]:
    """Each executed chapter's claims as its report recorded them (the glued `claims_data`,
    see helpers.findings), by chapter; a chapter that recorded none is left out. `pages`
    names the executed pages to read: the chapters by default."""
    claims = {}
    for path in sorted(Path(executed).glob(f"{pages}.glue.json")):
        entry = json.loads(path.read_text()).get("claims_data")
        if entry is not None:
            claims[path.name.removesuffix(".glue.json")] = json.loads(entry["data"]["text/plain"])
    return claims


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The (chapter, name) pairs whose value changed, appeared or disappeared."""
    merged = before.merge(after, on=COLUMNS[:2], how="outer", suffixes=("_before", "_after"))
    changed = merged["value_before"].fillna("<absent>") != merged["value_after"].fillna("<absent>")
    return merged[changed].fillna("<absent>").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs=2, help="EXECUTED_FOLDER OUTPUT.csv, or with --compare BEFORE.csv AFTER.csv")
    parser.add_argument("--compare", action="store_true", help="list the values that differ between two tables")
    arguments = parser.parse_args(argv)
    first, second = (Path(p) for p in arguments.paths)
    if arguments.compare:
        differences = compare(*(pd.read_csv(p, dtype=str, keep_default_na=False) for p in (first, second)))
        print(differences.to_string(index=False) if len(differences) else "no glued value differs")
        return 0
    numbers = book_numbers(first)
    second.parent.mkdir(parents=True, exist_ok=True)
    numbers.to_csv(second, index=False)
    print(f"{len(numbers)} glued values of {numbers['chapter'].nunique()} chapters written to {second}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
