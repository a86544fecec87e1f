"""Fair workload: each worker's share of their provider's visit minutes (a cost in the search, never a violation).

With ``SolveParams.balance_weight_s`` set, each minute of work above a worker's
fair share costs that many travel seconds (:mod:`solver.constraints.fair_workload`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from scheduler.rules.base import Violation

if TYPE_CHECKING:  # pragma: no cover - types only
    from scheduler.model import Plan, Visit


class FairWorkload:
    """Fair workload: a soft rule, so a finished roster never breaks it."""

    code = "fair_workload"

    def check(self, view: object) -> Iterable[Violation]:
        """Yield nothing: balance is a cost of the search."""
        return ()


def fair_share_min(plan: Plan, visits: Sequence[Visit]) -> list[int]:
    """Return, per worker of ``plan``, their provider's visit minutes per worker (the fair share, travel aside).

    A visit with no provider counts for every provider of its kind, shared by
    their workers. ``visits`` may repeat a visit (a double-handed visit's two
    model nodes count twice).
    """
    staff: dict[str, list[str]] = {}
    for w in plan.workers:
        staff.setdefault(w.provider_id, []).append(w.id)
    minutes: dict[str, float] = dict.fromkeys(staff, 0.0)
    for v in visits:
        owners = [v.provider_id] if v.provider_id else [p.id for p in plan.providers if p.kind == v.kind and p.id in staff]
        head = sum(len(staff[p]) for p in owners if p in staff)
        for p in owners:
            if p in staff and head:
                minutes[p] += v.duration_min * len(staff[p]) / head
    return [int(minutes[w.provider_id] / len(staff[w.provider_id])) for w in plan.workers]
