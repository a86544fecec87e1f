"""Pieces shared by the command-line modules: consoles, exit codes, clean failures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from scheduler.errors import PlanError
from scheduler.text import counted

if TYPE_CHECKING:
    from scheduler.model import Plan
    from scheduler.roster import Roster

console = Console(stderr=True)
out = Console()
if not out.is_terminal:  # piped or redirected: do not squeeze the tables into 80 columns
    out = Console(width=140)

EXIT_INVALID = 1
EXIT_ERROR = 2
#: Longest search ``homecare solve`` runs unless ``--max-time-limit`` allows more (seconds):
#: the roster service's default cap (``HOMECARE_MAX_TIME_LIMIT_S``). ``SolveParams`` takes
#: at most a day (``solver.params.TIME_LIMIT_CEILING_S``).
DEFAULT_MAX_TIME_LIMIT_S = 600.0
#: Warn when a location is farther than this from the road network (metres); the
#: hard limit is ``SolveParams.snap_limit_m``.
SNAP_WARNING_M = 250.0


def _fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Print an error line and return the Exit to raise (no traceback).

    The line is not wrapped (paths stay whole for copying); the terminal wraps it.
    """
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _check_out_folder(folder: Path, what: str) -> None:
    """Make ``folder`` (if missing) and check a file can be written there, or print why not and exit 2.

    Commands call this before their work, so that a bad output path costs nothing:
    a search or a drawing is not lost to a folder that turns out to be a file.

    Parameters
    ----------
    folder
        Where the command will write.
    what
        How the message names it: ``--out out/``.

    Raises
    ------
    typer.Exit
        With code 2, after printing the reason.
    """
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except FileExistsError:
        raise _fail(f"{what}: {folder} is a file, not a folder") from None
    except NotADirectoryError:
        raise _fail(f"{what}: part of {folder} is a file, not a folder") from None
    except OSError as exc:
        raise _fail(f"{what}: cannot write in {folder} ({exc.strerror or exc})") from None


def _check_out_file(path: Path | None, option: str) -> None:
    """Check that the file ``path`` can be written (its folder made if missing), or print why not and exit 2.

    ``None`` and ``-`` (standard output) pass.
    """
    if path is None or str(path) == "-":
        return
    if path.is_dir():
        raise _fail(f"{option} {path} is a folder; give a file name")
    _check_out_folder(path.parent, f"{option} {path}")


def _invalid(what: str, exc: PlanError) -> typer.Exit:
    """Print every problem of an invalid plan (or roster) and return the Exit to raise (code 1).

    Parameters
    ----------
    what
        What was read, as the heading names it: ``plan bad.json``.
    exc
        The error, with its problems.

    Returns
    -------
    typer.Exit
        Exit with code 1 (:data:`EXIT_INVALID`).
    """
    console.print(f"[bold red]invalid {what}[/]: {counted(len(exc.problems), 'problem')}", highlight=False,
                  soft_wrap=True)
    for p in exc.problems:
        console.print(f"  - {p}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(EXIT_INVALID)


def _load_plan(path: Path) -> Plan:
    """Read a plan, or print every problem and exit (2 if missing, 1 if invalid)."""
    from scheduler.io import load_plan

    try:
        return load_plan(path)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    except PlanError as exc:
        raise _invalid(f"plan {path}", exc) from None


def _load_roster(roster_path: Path) -> Roster:
    """Read a roster file, or print why not and exit (2 if missing, 1 if unreadable)."""
    from scheduler.io import load_roster

    try:
        return load_roster(roster_path)
    except FileNotFoundError:
        raise _fail(f"no roster at {roster_path}") from None
    except PlanError as exc:
        console.print(f"[bold red]unreadable roster[/] {roster_path}:", highlight=False, soft_wrap=True)
        for p in exc.problems:
            console.print(f"  - {p}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None


