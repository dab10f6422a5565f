"""The helpers' import graph, which the caches read to know what a result depends on: no cycles,
every dependency visible to it (at the top of a module, or declared), and no import it cannot see."""
from __future__ import annotations

import ast

from helpers.dependencies import ImportGraph, helpers_graph
from helpers.freshness import notebook_code
from tests.test_freshness import ROOT, notebook_pages

GRAPH = helpers_graph()
# Imported inside the one function that needs them, each for a stated reason (see the line).
DEFERRED = {("helpers.analysis.embedding", "umap"), ("helpers.data.yahoo", "yfinance")}
# Imports by name at run time, which no graph can follow; each must import nothing of the helpers.
DYNAMIC = {("helpers.data.yahoo", "import_module")}  # the stand-in for yfinance.download that tests name
DYNAMIC_CALLS = {"__import__", "import_module", "run_module", "run_path", "exec", "spec_from_file_location"}


def top_level_helpers(graph: ImportGraph, name: str) -> set[str]:
    return {module for module, _ in graph.imports_in(graph.tree(name), top_level_only=True) if module in graph.modules}


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


def dynamic_imports(tree: ast.AST) -> set[str]:
    """The calls in code that import by a name computed at run time."""
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
            if name in DYNAMIC_CALLS:
                called.add(name)
    return called


def test_no_import_cycle_among_the_helpers():
    cycle = find_cycle({name: top_level_helpers(GRAPH, name) for name in GRAPH.modules})
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle_and_reads_both_import_forms():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert GRAPH.resolved(GRAPH.imports_in(ast.parse("import helpers.cache"))) == {"helpers.cache"}
    assert GRAPH.resolved(GRAPH.imports_in(ast.parse("from helpers.data import load"))) == {"helpers.data"}
    assert GRAPH.resolved(GRAPH.imports_in(ast.parse("from helpers import cache"))) == {"helpers.cache"}
    assert GRAPH.resolved(GRAPH.imports_in(ast.parse("from helpers.stages import dense_stage"))) == {
        "helpers.stages:dense_stage"}


def test_imports_are_at_the_top_of_each_module():
    local = sorted(
        (module, name)
        for module in GRAPH.modules
        for function in ast.walk(GRAPH.tree(module))
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name, _ in GRAPH.imported(node)
    )
    assert set(local) <= DEFERRED, f"imports inside functions: {sorted(set(local) - DEFERRED)}"


def test_no_helper_or_page_imports_what_the_graph_cannot_see():
    found = {(module, call) for module in GRAPH.modules for call in dynamic_imports(GRAPH.tree(module))}
    assert found == DYNAMIC, f"imports by a run-time name, which no cache key can follow: {sorted(found - DYNAMIC)}"
    for page in notebook_pages():
        code = "\n".join(line for line in notebook_code(page).splitlines() if not line.lstrip().startswith(("%", "!")))
        assert not dynamic_imports(ast.parse(code)), f"{page.relative_to(ROOT)} imports by a run-time name"


def test_the_dynamic_import_check_finds_each_form():
    planted = ("import importlib, runpy\nm = importlib.import_module('helpers.plots')\nn = __import__('helpers')\n"
               "runpy.run_path('x.py')\nexec('import helpers.cache')\n")
    assert dynamic_imports(ast.parse(planted)) == {"import_module", "__import__", "run_path", "exec"}
    assert not dynamic_imports(ast.parse("from helpers import plots\nmodel.eval()\n"))
