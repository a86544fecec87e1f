"""What every benchmark run reports, whatever the problem class or solver."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class BenchRow:
    """One solver's run on one instance.

    Parameters
    ----------
    suite
        Instance set, e.g. ``solomon`` or ``mankowska``.
    instance
        Instance name as in the best-known table (``C101``, ``A1``).
    solver
        ``ours``, ``pyvrp`` or ``vroom``.
    time_limit_s
        Wall-clock limit given to the solver (seconds).
    objective
        Objective in the suite's own convention (see ``benchmarks/RESULTS.md``),
        recomputed by our independent checker from the solution, not taken from
        the solver; ``nan`` if no solution was found.
    bks
        Best-known objective in the same convention.
    vehicles
        Routes used.
    first_feasible_s
        Seconds from the start of the search to the first feasible solution
        (``nan`` if unknown or none).
    runtime_s
        Wall-clock seconds of the whole solve (model building included).
    feasible
        The independent checker found no violation.
    violations
        What the checker found (empty when feasible).
    """

    suite: str
    instance: str
    solver: str
    time_limit_s: float
    objective: float
    bks: float
    vehicles: int
    first_feasible_s: float
    runtime_s: float
    feasible: bool
    violations: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gap_pct(self) -> float:
        """Gap to the best-known objective (percent); ``nan`` without a solution."""
        if not self.feasible or math.isnan(self.objective) or not self.bks:
            return math.nan
        return 100.0 * (self.objective - self.bks) / self.bks

    def as_dict(self) -> dict[str, Any]:
        """Return a flat dict for CSV output (violations joined with ``; ``)."""
        d = asdict(self)
        extra = d.pop("extra")
        d["violations"] = "; ".join(self.violations)
        d["gap_pct"] = self.gap_pct
        d.update({f"x_{k}": v for k, v in extra.items()})
        return d
