"""Pieces shared by the command-line modules: consoles, exit codes, clean failures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from scheduler.errors import PlanError

if TYPE_CHECKING:
    from scheduler.model import Plan
    from scheduler.roster import Roster

console = Console(stderr=True)
out = Console()
if not out.is_terminal:  # piped or redirected: do not squeeze the tables into 80 columns
    out = Console(width=140)

EXIT_INVALID = 1
EXIT_ERROR = 2
#: Warn when a location is farther than this from the road network (metres); the
#: hard limit is ``SolveParams.snap_limit_m``.
SNAP_WARNING_M = 250.0


def _fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Print an error line and return the Exit to raise (no traceback)."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _load_plan(path: Path) -> Plan:
    """Read a plan, or print every problem and exit (2 if missing, 1 if invalid)."""
    from scheduler.io import load_plan

    try:
        return load_plan(path)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    except PlanError as exc:
        console.print(f"[bold red]invalid plan[/] {path}: {len(exc.problems)} problem(s)", highlight=False)
        for p in exc.problems:
            console.print(f"  - {p}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INVALID) from None


def _load_roster(roster_path: Path) -> Roster:
    """Read a roster file, or print why not and exit (2 if missing, 1 if unreadable)."""
    from scheduler.io import load_roster

    try:
        return load_roster(roster_path)
    except FileNotFoundError:
        raise _fail(f"no roster at {roster_path}") from None
    except PlanError as exc:
        console.print(f"[bold red]unreadable roster[/] {roster_path}:", highlight=False)
        for p in exc.problems:
            console.print(f"  - {p}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INVALID) from None


