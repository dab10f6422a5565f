"""The helpers' import graph: no cycles, and every dependency visible at the top of a module."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "helpers"
# Imported inside the one function that needs them, each for a stated reason (see the line).
DEFERRED = {("helpers.analysis.embedding", "umap"), ("helpers.data.yahoo", "yfinance")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): ast.parse(path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))}


def imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    # `from helpers.data import load` names a package; `from helpers import cache` a module.
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]


def helpers_imports(tree: ast.Module) -> set[str]:
    names = {name for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom) for name in imported(node)}
    return {name for name in names if name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of a directed graph as a path that returns to its start, or None."""
    finished, on_path = set(), []

    def visit(name: str) -> list[str] | None:
        if name in on_path:
            return on_path[on_path.index(name):] + [name]
        if name in finished:
            return None
        on_path.append(name)
        for target in sorted(graph.get(name, ())):
            if cycle := visit(target):
                return cycle
        on_path.pop()
        finished.add(name)
        return None

    return next((cycle for name in sorted(graph) if (cycle := visit(name))), None)


def test_no_import_cycle_among_the_helpers():
    graph = {name: helpers_imports(tree) for name, tree in MODULES.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle_and_reads_both_import_forms():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert helpers_imports(ast.parse("import helpers.cache")) == {"helpers.cache"}
    assert helpers_imports(ast.parse("from helpers.data import load")) == {"helpers.data"}
    assert helpers_imports(ast.parse("from helpers import cache")) == {"helpers.cache"}


def test_imports_are_at_the_top_of_each_module():
    local = sorted(
        (module, name)
        for module, tree in MODULES.items()
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in imported(node)
    )
    assert set(local) <= DEFERRED, f"imports inside functions: {sorted(set(local) - DEFERRED)}"
