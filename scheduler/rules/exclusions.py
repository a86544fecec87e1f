"""A client's ``excluded_worker_ids`` never serve them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scheduler.model import Plan, Visit, Worker
from scheduler.rules.base import Refusal, Violation, refused_stops
from scheduler.rules.view import RosterView
from scheduler.text import names


class ExclusionRule:
    """The worker is not excluded by the visit's client."""

    code = "excluded"

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse a worker the client excludes."""
        client = plan.client(visit.client_id)
        if worker.id not in client.excluded_worker_ids:
            return None
        return Refusal(self.code, f"client {client.id!r} excludes worker {worker.id!r}")

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say that the client excludes every candidate."""
        return (f"client {visit.client_id!r} excludes {names([w.id for w in candidates])}, "
                "every worker who could serve it")

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker the client does not exclude."""
        return f"not excluded by client {visit.client_id!r}"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop served by a worker its client excludes."""
        return refused_stops(self, view)
