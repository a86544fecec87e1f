"""At most N double-handed visits per carer per day: hoisting and two-carer transfers are physically hard.

The limit is the worker's ``max_double_handed``, else their provider's (both
plan fields; ``null``: no limit). A worker with limit 0 makes no double-handed
visit. The search counts each worker's double-handed places in a dimension
(:mod:`solver.constraints.double_handed_limit`); the validator reports a day
over the limit with code ``double_handed_limit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from scheduler.rules.base import Refusal, Violation
from scheduler.text import counted, names

if TYPE_CHECKING:  # pragma: no cover - types only
    from scheduler.model import Plan, Visit, Worker
    from scheduler.roster import Stop

CODE = "double_handed_limit"


def limit(plan: Plan, worker: Worker) -> int | None:
    """Return the most double-handed visits ``worker`` may make today, or ``None`` for no limit."""
    if worker.max_double_handed is not None:
        return worker.max_double_handed
    return plan.provider(worker.provider_id).max_double_handed


def double_handed_in(plan: Plan, stops: Sequence[Stop]) -> int:
    """Return how many of ``stops`` are places of double-handed visits (stops of unknown visits aside)."""
    return sum(1 for s in stops if plan.has_visit(s.visit_id) and plan.visit(s.visit_id).workers_required == 2)


def room_for(plan: Plan, worker: Worker, stops: Sequence[Stop], visit: Visit) -> Refusal | None:
    """Return why ``worker``'s day of ``stops`` cannot take ``visit`` under this rule, or ``None``."""
    most = limit(plan, worker)
    if most is None or visit.workers_required != 2:
        return None
    have = double_handed_in(plan, stops)
    if have < most:
        return None
    return Refusal(CODE, f"worker {worker.id!r} already makes {counted(have, 'double-handed visit')} today, "
                         f"their limit (max_double_handed {most})")


class DoubleHandedLimit:
    """The rule: a worker's double-handed places in a day stay within their limit."""

    code = CODE

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse every double-handed visit to a worker whose limit is 0."""
        if visit.workers_required == 2 and limit(plan, worker) == 0:
            return Refusal(CODE, f"worker {worker.id!r} makes no double-handed visits (max_double_handed 0)")
        return None

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say that every worker left makes no double-handed visits."""
        return (f"double-handed visit needs 2 workers who make double-handed visits; "
                f"{names([w.id for w in candidates])} have max_double_handed 0")

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker this rule allows."""
        return "allowed double-handed visits (max_double_handed above 0)"

    def check(self, view: object) -> Iterable[Violation]:
        """Yield a violation for each route with more double-handed places than its worker's limit."""
        plan = view.plan  # type: ignore[attr-defined]
        for route in view.roster.routes:  # type: ignore[attr-defined]
            if not plan.has_worker(route.worker_id):
                continue  # the reference rule reports it
            worker = plan.worker(route.worker_id)
            most = limit(plan, worker)
            have = double_handed_in(plan, route.stops)
            if most is not None and have > most:
                yield Violation(CODE, "worker", worker.id,
                                f"makes {counted(have, 'double-handed visit')}, more than max_double_handed {most}")
