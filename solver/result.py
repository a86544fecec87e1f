"""What a solve returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scheduler.roster import Roster

if TYPE_CHECKING:
    from scheduler.validate import Violation
    from solver.travel import PlanTravel


@dataclass(frozen=True)
class SolveResult:
    """A roster and how the search went.

    ``objective`` is travel seconds plus unassigned penalties (``None`` when the
    search found nothing); ``status`` is OR-Tools' status name;
    ``first_solution_s`` is when the first feasible roster was found (seconds
    into the search); ``timings`` holds seconds spent per stage.
    """

    roster: Roster
    objective: int | None
    status: str
    runtime_s: float
    first_solution_s: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def is_feasible(self) -> bool:
        """Return whether every mandatory visit is assigned."""
        return self.roster.kpis.mandatory_unassigned == 0

    def summary(self) -> str:
        """Return a one-line summary of the roster and the search."""
        return f"{self.roster.summary()}; search {self.status} in {self.runtime_s:.1f} s"


@dataclass(frozen=True)
class RunResult:
    """What the solve pipeline (:func:`solver.run`) returns: the roster, its travel and its check.

    Parameters
    ----------
    roster
        The roster (the same object as ``search.roster``).
    travel
        The plan's travel matrices, as the search and the check used them.
    violations
        What :func:`scheduler.validate.check_roster` found wrong with the roster,
        given the locks and the lock time of the solve; empty for a valid roster.
    search
        The search figures (objective, status, times) of :func:`solver.solve`.
    """

    roster: Roster
    travel: PlanTravel
    violations: tuple[Violation, ...]
    search: SolveResult

    @property
    def runtime_s(self) -> float:
        """Search time (seconds)."""
        return self.search.runtime_s

    def summary(self) -> str:
        """Return the one-line summary of the roster and the search."""
        return self.search.summary()
