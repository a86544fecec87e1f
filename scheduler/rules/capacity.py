"""A van carries no more than its ``capacity``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scheduler.model import Plan, Visit, Worker
from scheduler.rules.base import Refusal, Violation, refused_stops
from scheduler.rules.view import RosterView, route_visits


class CapacityRule:
    """A worker's stops carry no more demand than their capacity; so neither does one visit."""

    code = "capacity"

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse a worker who cannot carry the visit's demand at all."""
        if worker.capacity is None or visit.demand <= worker.capacity:
            return None
        return Refusal(self.code, f"demand {visit.demand} exceeds worker {worker.id!r}'s capacity {worker.capacity}")

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say that the demand exceeds every candidate's capacity."""
        return (f"demand {visit.demand} exceeds the capacity of every worker who could take it "
                f"(largest {max((w.capacity or 0) for w in candidates)})")

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker able to carry the demand."""
        return f"able to carry demand {visit.demand}"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop too heavy for its worker, and every route over capacity."""
        yield from refused_stops(self, view)
        for worker, route in view.routes:
            load = sum(view.plan.visit(s.visit_id).demand for s in route_visits(view, route))
            if worker.capacity is not None and load > worker.capacity:
                yield Violation(self.code, "worker", worker.id,
                                f"stops carry demand {load}, more than capacity {worker.capacity}")
