"""Find the bundled fixtures (networks, plans) and resolve paths written in plans.

The fixtures live in the repository's ``fixtures/`` folder; a wheel carries a
copy under ``scheduler/_bundled/fixtures``. A plan's ``network`` may be
relative: to the current folder (as in ``docs/CONTRACT.md``: ``fixtures/networks/…``),
to the plan's own folder or one of its parents, or to the bundled fixtures.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
DEFAULT_PLAN = "fixtures/plans/cambridge_weekday.json"


def bundled_roots() -> list[Path]:
    """Return folders that may hold ``fixtures/``: the wheel's copy, then the source tree."""
    return [p for p in (_PACKAGE / "_bundled", _PACKAGE.parent) if (p / "fixtures").is_dir()]


def resolve_path(path: str | Path, *, near: Path | None = None) -> Path:
    """Resolve a path from a plan or the command line to an existing file.

    Parameters
    ----------
    path
        Absolute, or relative to the current folder, to ``near`` or one of its
        parents, or to the bundled fixtures' root.
    near
        The file or folder the path was written in (a plan).

    Returns
    -------
    Path
        The first candidate that exists, or ``path`` itself if none does (the
        caller reports it missing).
    """
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    candidates = []
    if near is not None:
        base = near if near.is_dir() else near.parent
        candidates += [base / path, *(parent / path for parent in base.resolve().parents)]
    candidates += [root / path for root in bundled_roots()]
    return next((c for c in candidates if c.exists()), path)


def default_plan() -> Path:
    """Return the bundled Cambridge weekday plan.

    Raises
    ------
    FileNotFoundError
        If neither the source tree nor the installed wheel holds it.
    """
    found = resolve_path(DEFAULT_PLAN)
    if not found.exists():
        raise FileNotFoundError(f"the bundled plan {DEFAULT_PLAN} is missing from this installation")
    return found
