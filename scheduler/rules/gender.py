"""A client's ``gender_preference`` is met."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scheduler.model import Plan, Visit, Worker
from scheduler.rules.base import Refusal, Violation, refused_stops
from scheduler.rules.view import RosterView
from scheduler.text import names


class GenderRule:
    """The worker is of the gender the visit's client prefers, if any."""

    code = "gender"

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse a worker of another gender than the client prefers."""
        client = plan.client(visit.client_id)
        if client.gender_preference is None or worker.gender == client.gender_preference:
            return None
        return Refusal(self.code, f"client {client.id!r} prefers gender {client.gender_preference!r}, "
                       f"worker {worker.id!r} is {worker.gender!r}")

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say that none of the candidates is of the preferred gender."""
        client = plan.client(visit.client_id)
        return (f"client {client.id!r} prefers gender {client.gender_preference!r} and none of the "
                f"workers who could serve it ({names([w.id for w in candidates])}) is")

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker of the preferred gender."""
        client = plan.client(visit.client_id)
        return f"of gender {client.gender_preference!r} (client {client.id!r}'s preference)"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop served by a worker of another gender than the client prefers."""
        return refused_stops(self, view)
