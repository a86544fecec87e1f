"""A worker has every skill a visit requires."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scheduler.model import Plan, Visit, Worker
from scheduler.rules.base import Refusal, Violation, provider_phrase, refused_stops
from scheduler.rules.view import RosterView


def _skills(visit: Visit) -> str:
    skills = sorted(visit.required_skills)
    return f"skill{'s' if len(skills) > 1 else ''} {', '.join(repr(s) for s in skills)}"


class SkillsRule:
    """The worker has every ``required_skills`` of the visit."""

    code = "skill"

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse a worker lacking a required skill, naming the missing ones."""
        missing = visit.required_skills - worker.skills
        if not missing:
            return None
        return Refusal(self.code, f"worker {worker.id!r} lacks skill {', '.join(sorted(missing))}")

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say that no worker of the provider has the skills."""
        return f"no worker of {provider_phrase(visit)} has {_skills(visit)}"

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker with the skills."""
        return f"of {provider_phrase(visit)} with {_skills(visit)}"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop served by a worker lacking a required skill."""
        return refused_stops(self, view)
