"""Check a `make rerun` command before it runs: the notebook exists and every parameter it
sets is one the chapter declares.

papermill only warns about a parameter the notebook does not declare and then runs the
defaults, so a misspelt `-p sourse synthetic` would quietly rerun the book's own numbers.
"""
from __future__ import annotations

import ast
import base64
import difflib
import sys
from pathlib import Path

import jupytext
import yaml

NAME_OPTIONS = ("-p", "--parameters", "-r", "--parameters_raw")
YAML_OPTIONS = ("-y", "--parameters_yaml")
FILE_OPTIONS = ("-f", "--parameters_file")
BASE64_OPTIONS = ("-b", "--parameters_base64")


def declared_parameters(notebook: Path) -> list[str]:
    """The names assigned in the notebook's cell tagged `parameters`."""
    cells = [cell for cell in jupytext.read(notebook).cells if "parameters" in cell.metadata.get("tags", [])]
    if len(cells) != 1:
        raise SystemExit(f"make rerun: {notebook} has {len(cells)} cells tagged 'parameters'; expected one")
    names = []
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


def requested_parameters(arguments: list[str]) -> list[str]:
    """The parameter names a papermill command line sets, in every form papermill accepts."""
    names, position = [], 0
    while position < len(arguments):
        option = arguments[position]
        value = arguments[position + 1] if position + 1 < len(arguments) else None
        if option in NAME_OPTIONS + YAML_OPTIONS + FILE_OPTIONS + BASE64_OPTIONS and value is None:
            raise SystemExit(f"make rerun: {option} needs a value, as in ARGS=\"-p seed 7\"")
        if option in NAME_OPTIONS:
            names.append(value)
            position += 3
            continue
        if option in YAML_OPTIONS:
            names += list(yaml.safe_load(value) or {})
        elif option in FILE_OPTIONS:
            names += list(yaml.safe_load(Path(value).read_text()) or {})
        elif option in BASE64_OPTIONS:
            names += list(yaml.safe_load(base64.b64decode(value)) or {})
        else:
            position += 1
            continue
        position += 2
    return names


def chapter_path(notebook: str, command: str) -> Path:
    """The chapter's path, or an error that lists the chapters."""
    path = Path(notebook)
    if not path.is_file():
        chapters = sorted(str(p) for p in Path("notebooks").glob("*.md"))
        raise SystemExit(f"{command}: no notebook at NB={notebook}; the chapters are {', '.join(chapters)}")
    return path


def check_names(path: Path, names, command: str) -> None:
    """Every name is a parameter the chapter declares, or an error that suggests the nearest."""
    declared = declared_parameters(path)
    unknown = [name for name in names if name not in declared]
    if unknown:
        said = "; ".join(f"{name!r}" + "".join(f" (did you mean {hint!r}?)"
                                               for hint in difflib.get_close_matches(name, declared, n=1))
                         for name in unknown)
        raise SystemExit(f"{command}: {path.name} has no parameter {said}. "
                         f"Its parameters are: {', '.join(declared)}")


def check(notebook: str, arguments: list[str]) -> None:
    check_names(chapter_path(notebook, "make rerun"), requested_parameters(arguments), "make rerun")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m helpers.rerun NOTEBOOK [papermill arguments], "
                         "e.g. notebooks/01_data.md -p seed 7")
    check(sys.argv[1], sys.argv[2:])
