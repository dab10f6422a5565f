"""Which helper modules a piece of code runs, read from the package's own import graph, and one
digest of exactly that code.

A cached result is stale only when code it ran changed, so its key holds the digest of the
helper modules it imports, transitively, rather than of the whole package: an edit to
plots.py retires no trained model, and an edit to analysis/regimes.py retires only what
imports it. The graph is read from the source (every import statement, at any depth of a
module), so it is the code on disk; importing a module also runs its packages' `__init__`,
which counts with its own imports. A cached stage (`helpers.cache.cached_stage`) is resolved
by name, as a node `module:function` of its own: importing `dense_stage` from the
`helpers.stages` facade depends on that function's text and the modules it uses, not on
every experiment the facade imports. The digest also holds the
versions of the third-party distributions those modules import (the bundled data ships
inside skfolio and arch), so a new data release or numerical library retires what it could
change. When in doubt a name counts its whole module.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import re
import sys
from collections.abc import Iterable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
STAGE_DECORATOR = "cached_stage"
# Notebook lines that are not Python: IPython magics and shell escapes.
NOT_PYTHON = re.compile(r"^\s*[%!]")

Imported = tuple[str, str | None]  # (module, name), name None for `import a.b`


def packages_of(name: str) -> list[str]:
    """The packages whose `__init__` runs when `name` is imported: helpers.data for helpers.data.windows."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def _defined_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _stage_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)
            and any(isinstance(d, ast.Name) and d.id == STAGE_DECORATOR for d in node.decorator_list)}


class ImportGraph:
    """The import graph of one package on disk (the helpers, or a copy of them in a test)."""

    def __init__(self, package: Path = PACKAGE):
        self.package = Path(package)
        self.modules = {self.module_name(path): path for path in sorted(self.package.rglob("*.py"))}
        self._trees: dict[str, ast.Module] = {}
        self._edges: dict[str, frozenset[str]] = {}

    def module_name(self, path: Path) -> str:
        parts = path.relative_to(self.package.parent).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    def tree(self, name: str) -> ast.Module:
        if name not in self._trees:
            self._trees[name] = ast.parse(self.modules[name].read_text())
        return self._trees[name]

    def imported(self, node: ast.Import | ast.ImportFrom) -> list[Imported]:
        """`from helpers import cache` names the module helpers.cache; `from helpers.data import
        load` names `load` of the package helpers.data."""
        if isinstance(node, ast.Import):
            return [(alias.name, None) for alias in node.names]
        base = node.module or ""
        return [(f"{base}.{alias.name}", None) if f"{base}.{alias.name}" in self.modules else (base, alias.name)
                for alias in node.names]

    def imports_in(self, tree: ast.AST, top_level_only: bool = False) -> set[Imported]:
        nodes = tree.body if top_level_only and isinstance(tree, ast.Module) else ast.walk(tree)
        return {pair for node in nodes if isinstance(node, ast.Import | ast.ImportFrom) for pair in self.imported(node)}

    def stage_dependencies(self, module: str, function: str) -> set[str]:
        """What a cached stage's function uses directly: the helper modules of the names its
        body reads, a stage it calls as its node, and its whole module for any other name
        defined there, which cannot be told apart."""
        tree = self.tree(module)
        stages = _stage_functions(tree)
        if function not in stages:
            raise KeyError(f"{module}.{function} is not a function decorated with @{STAGE_DECORATOR}")
        bindings = {}
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias, pair in zip(node.names, self.imported(node), strict=True):
                    bindings[(alias.asname or alias.name).split(".")[0]] = pair
        defined = _defined_names(tree)
        used = {node.id for node in ast.walk(stages[function]) if isinstance(node, ast.Name)}
        dependencies = set(packages_of(module))
        for name in sorted(used - {function}):
            if name in bindings:
                dependencies |= self.resolved([bindings[name]])
            elif name in stages:
                dependencies.add(f"{module}:{name}")
            elif name in defined:
                dependencies.add(module)
        return dependencies

    def resolved(self, pairs: Iterable[Imported]) -> set[str]:
        """The nodes behind imported names: a cached stage imported by name is its own node,
        anything else counts its module."""
        found = set()
        for module, name in pairs:
            if module not in self.modules:
                continue
            is_stage = name is not None and name in _stage_functions(self.tree(module))
            found.add(f"{module}:{name}" if is_stage else module)
        return found

    def edges(self, name: str) -> frozenset[str]:
        """A node's direct dependencies: what a module imports anywhere in its body, or what a
        stage's function uses; and the packages whose `__init__` importing it runs."""
        if name not in self._edges:
            module, _, function = name.partition(":")
            used = self.stage_dependencies(module, function) if function else self.resolved(
                self.imports_in(self.tree(module)))
            self._edges[name] = frozenset(used | set(packages_of(module)))
        return self._edges[name]

    def text(self, name: str) -> bytes:
        """A module's file, or a stage's function as written in its module."""
        module, _, function = name.partition(":")
        source = self.modules[module].read_text()
        if not function:
            return source.encode()
        return ast.get_source_segment(source, _stage_functions(self.tree(module))[function]).encode()

    def closure(self, roots: Iterable[str]) -> set[str]:
        seen, pending = set(), list(roots)
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending.extend(self.edges(name))
        return seen

    def code_closure(self, source: str) -> set[str]:
        """The helper modules a chapter's code runs, transitively; its magics are skipped."""
        python = "\n".join("" if NOT_PYTHON.match(line) else line for line in source.splitlines())
        return self.closure(self.resolved(self.imports_in(ast.parse(python))))

    def stage_closure(self, module: str, function: str) -> set[str]:
        return self.closure([f"{module}:{function}"])

    def third_party(self, names: Iterable[str]) -> list[str]:
        """The installed distributions, with versions, that the given nodes' modules import."""
        modules = {name.partition(":")[0] for name in names}
        tops = {imported.split(".")[0] for name in modules for imported, _ in self.imports_in(self.tree(name))}
        tops -= {self.package.name, "__future__"} | set(sys.stdlib_module_names)
        versions = distribution_versions()
        return sorted(versions.get(top, f"{top} (not installed)") for top in tops)

    def digest(self, names: Iterable[str], extra: Iterable[str] = ()) -> str:
        """One digest of the given nodes' text, the distributions they import, and any further
        text that decides the result."""
        names = sorted(set(names))
        hashed = hashlib.sha256()
        for name in names:
            hashed.update(name.encode() + b"\0" + self.text(name) + b"\0")
        for line in [*self.third_party(names), *extra]:
            hashed.update(line.encode() + b"\0")
        return hashed.hexdigest()[:16]


@functools.cache
def distribution_versions() -> dict[str, str]:
    """Each importable top-level name and the distributions, with versions, that provide it."""
    return {
        top: ",".join(f"{d}=={importlib.metadata.version(d)}" for d in sorted(set(distributions)))
        for top, distributions in importlib.metadata.packages_distributions().items()
    }


@functools.cache
def helpers_graph() -> ImportGraph:
    """The helpers' graph, read once per process: that of the code a running kernel imported."""
    return ImportGraph(PACKAGE)
