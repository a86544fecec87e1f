"""Import rules from STYLE.md, checked on the source rather than trusted."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The OR-Tools model builders: the home-care model (with its search filter for tied
#: starts: double-handed and linked visits) and its two benchmark twins.
ORTOOLS_MODULES = {"solver/routing.py", "solver/gaps.py", "solver/vrptw.py", "solver/hhcrsp.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_only_the_model_builders_import_ortools():
    """OR-Tools is imported by the model builders only (routing.py, its filter, vrptw, hhcrsp)."""
    importers = {p.relative_to(ROOT).as_posix() for pkg in ("scheduler", "solver", "api")
                 for p in _sources(pkg) if "ortools" in _imports(p)}
    assert importers <= ORTOOLS_MODULES
    assert "solver/routing.py" in importers


def test_scheduler_imports_no_solver_stack():
    """scheduler/ imports no OR-Tools, OSMnx, FastAPI or SQL at module level, except the CLI shells."""
    shells = {"cli.py", "cli_care.py", "cli_view.py", "cli_common.py"}
    for path in _sources("scheduler"):
        if path.name in shells:
            continue
        heavy = _imports(path) & {"ortools", "osmnx", "fastapi", "sqlalchemy", "api"}
        assert not heavy, f"{path.relative_to(ROOT)} imports {heavy}"
