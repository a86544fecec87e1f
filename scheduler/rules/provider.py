"""A worker serves only visits of their provider (or, for a visit naming none, of their provider's kind)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scheduler.model import Plan, Visit, Worker
from scheduler.rules.base import Refusal, Violation, provider_phrase, refused_stops
from scheduler.rules.view import RosterView


def serves_kind(plan: Plan, worker: Worker, visit: Visit) -> bool:
    """Return whether ``worker`` belongs to the visit's provider, or to one of its kind."""
    if visit.provider_id is not None:
        return worker.provider_id == visit.provider_id
    return plan.provider(worker.provider_id).kind == visit.kind


class ProviderRule:
    """The worker is of the visit's provider, or of its kind when it names no provider."""

    code = "no_provider"

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse a worker of another provider (or kind)."""
        if serves_kind(plan, worker, visit):
            return None
        return Refusal(self.code, f"worker {worker.id!r} of provider {worker.provider_id!r} is not of "
                       f"{provider_phrase(visit)}")

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say that no worker of the provider (or kind) is in the plan."""
        return f"no worker of {provider_phrase(visit)} is in the plan"

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker of the provider (or kind)."""
        return f"of {provider_phrase(visit)} in the plan"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop served by a worker of another provider (or kind)."""
        return refused_stops(self, view)
