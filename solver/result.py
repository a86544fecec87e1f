"""What a solve returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scheduler.roster import Roster


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
