"""Import rules from STYLE.md, checked on the source rather than trusted.

The layers, bottom up: ``scheduler`` (the domain), ``solver`` (network, matrices and the
OR-Tools search), ``api`` (the roster service), and ``homecare_cli`` (the ``homecare``
command line) on top. Every import counts, at module level or inside a function, and
those under ``TYPE_CHECKING`` too: there are no exemptions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Our packages, bottom layer first.
PACKAGES = ("scheduler", "solver", "api", "homecare_cli")
#: The routing side, the only modules that import OR-Tools: the home-care model (built in
#: ``solver.model`` with its search filter for tied starts, ``solver.gaps``; searched in
#: ``solver.improve`` and ``solver.search``; read back in ``solver.decode``) and its two
#: benchmark twins.
ORTOOLS_MODULES = {"solver.model", "solver.improve", "solver.search", "solver.decode", "solver.gaps",
                   "solver.bench.vrptw", "solver.bench.hhcrsp"}
#: The model's rule hooks (``solver/constraints/``) are the routing side too.
ORTOOLS_PACKAGES = ("solver.constraints",)
#: Cycles left to break, each written from its smallest module name, in import order. None
#: is left: the first-roster construction and the regions use the model (``solver.model``)
#: and one search (``solver.improve``), and only the day's search (``solver.search``) runs them.
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name."""
    paths = (p for pkg in packages for p in sorted((root / pkg).rglob("*.py")))
    return {_module_name(p, root): p for p in paths}


def _imported(path: Path, module: str) -> set[str]:
    """Dotted names of everything ``path`` imports, at any depth (function-level imports too).

    ``from a.b import c`` yields ``a.b.c`` (the module ``a.b.c`` if there is one, else the name
    ``c`` of ``a.b``); relative imports are resolved against ``module``.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names |= {f"{source}.{a.name}" for a in node.names}
    return names


def import_graph(root: Path, packages: tuple[str, ...]) -> nx.DiGraph:
    """Build the import graph of ``packages``: an edge from each module to each of ours it imports.

    ``from solver import decompose`` points at the module ``solver.decompose``;
    ``from solver import solve`` points at ``solver`` (its ``__init__``).
    """
    modules = _modules(root, packages)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        for name in _imported(path, module):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                graph.add_edge(module, name)
    return graph


def _external(package: str) -> dict[str, set[str]]:
    """Top-level names each module of ``package`` imports (``ortools``, ``solver``, ...)."""
    return {module: {name.split(".")[0] for name in _imported(path, module)}
            for module, path in _modules(ROOT, (package,)).items()}


def _cycles(graph: nx.DiGraph) -> set[tuple[str, ...]]:
    """Every elementary cycle, rotated to start at its smallest module name."""
    out = set()
    for cycle in nx.simple_cycles(graph):
        i = cycle.index(min(cycle))
        out.add(tuple(cycle[i:] + cycle[:i]))
    return out


def test_only_the_routing_side_imports_ortools():
    """Only the routing side imports OR-Tools (model, filter, search, decode, the two benchmark models)."""
    importers = {module for pkg in PACKAGES for module, names in _external(pkg).items()
                 if "ortools" in names}
    outside = {m for m in importers - ORTOOLS_MODULES if not m.startswith(tuple(p + "." for p in ORTOOLS_PACKAGES))}
    assert not outside, f"OR-Tools imported outside the routing side: {outside}"
    assert "solver.model" in importers


@pytest.mark.parametrize(("package", "forbidden"), [
    ("scheduler", {"solver", "api", "homecare_cli",
                   "ortools", "osmnx", "fastapi", "sqlalchemy", "uvicorn"}),
    ("solver", {"api", "homecare_cli", "fastapi", "sqlalchemy", "uvicorn"}),
    ("api", {"homecare_cli"}),
])
def test_imports_point_down_the_layers(package, forbidden):
    """The domain imports no solver, api, CLI or heavy stack; solver no api or CLI; api no CLI."""
    wrong = {module: sorted(names & forbidden) for module, names in _external(package).items()
             if names & forbidden}
    assert not wrong, f"imports against the layers: {wrong}"


def test_the_command_line_lives_on_top():
    """No module named like a CLI shell is left inside scheduler, solver or api."""
    shells = [m for m in _modules(ROOT, PACKAGES[:3]) if m.rpartition(".")[2].startswith("cli")]
    assert not shells, f"command-line modules below the CLI package: {shells}"
    assert "homecare_cli.main" in _modules(ROOT, ("homecare_cli",))


def test_no_import_cycles():
    """The import graph, function-level imports included, has no cycle but the known ones."""
    found = _cycles(import_graph(ROOT, PACKAGES))
    assert not found - KNOWN_CYCLES, f"new import cycles: {sorted(found - KNOWN_CYCLES)}"
    assert not KNOWN_CYCLES - found, f"gone, drop from KNOWN_CYCLES: {sorted(KNOWN_CYCLES - found)}"


def test_the_cycle_check_sees_function_level_and_relative_imports(tmp_path):
    """The graph sees a cycle closed inside a function, and resolves relative imports."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import thing\n")
    (pkg / "b.py").write_text("def thing():\n    from . import c\n")
    (pkg / "c.py").write_text("def later():\n    from .a import x\n")
    (pkg / "d.py").write_text("from pkg import a\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert _cycles(graph) == {("pkg.a", "pkg.b", "pkg.c")}
    assert graph.has_edge("pkg.d", "pkg.a")
