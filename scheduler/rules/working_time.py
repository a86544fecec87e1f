"""A worker's day stays within their working time: ``max_working_min`` and what the weekly cap leaves today."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scheduler.model import Plan, Visit, Worker
from scheduler.rules.base import Refusal, Violation
from scheduler.rules.view import RosterView
from scheduler.text import names


def _time_left(plan: Plan, worker: Worker) -> str:
    if worker.max_visits == 0:
        return f"{worker.id} (max_visits 0)"
    limit = plan.day_limit_min(worker)
    cap = plan.provider(worker.provider_id).weekly_cap_min
    return f"{worker.id} ({limit} min left today, {worker.week_worked_min / 60:g} h of {cap / 60:g} h worked this week)"


class WorkingTimeRule:
    """Visits and travel (the leg home included) stay within the day's limit (:meth:`scheduler.model.Plan.day_limit_min`).

    A worker with less time left than the visit lasts, or with ``max_visits`` 0,
    may not take it.
    """

    code = "working_time"

    def refuse(self, plan: Plan, worker: Worker, visit: Visit) -> Refusal | None:
        """Refuse a worker with less working time left today than the visit lasts, or no visits left."""
        if worker.max_visits == 0:
            return Refusal(self.code, f"worker {worker.id!r} has max_visits 0")
        limit = plan.day_limit_min(worker)
        if limit is not None and limit < visit.duration_min:
            return Refusal(self.code, f"worker {worker.id!r} has only {limit} min of working time left today")
        return None

    def none_can(self, plan: Plan, visit: Visit, candidates: Sequence[Worker]) -> str:
        """Say that every candidate has used up their working time, with what each has left."""
        return ("every worker who could serve it has used up their working time: "
                + names([_time_left(plan, w) for w in candidates]))

    def requirement(self, plan: Plan, visit: Visit) -> str:
        """Describe a worker with working time left."""
        return "with working time left"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every worker whose visits and travel exceed the day's limit."""
        plan = view.plan
        for worker, route in view.routes:
            limit = plan.day_limit_min(worker)
            if limit is None or not route.stops:
                continue
            last = worker.start_location
            for s in route.stops:
                if plan.has_visit(s.visit_id):
                    last = plan.visit_location(plan.visit(s.visit_id))
            back = view.travel.leg(worker, last, worker.end_location)[0] if view.travel is not None else route.end_travel_s
            worked = sum(s.end - s.start + s.travel_s for s in route.stops) + back
            if worked > limit * 60:
                cap = plan.provider(worker.provider_id).weekly_cap_min
                yield Violation(self.code, "worker", worker.id,
                                f"works {worked / 60:.0f} min on visits and travel, more than the {limit} min allowed "
                                f"today (max_working_min {worker.max_working_min}, {worker.week_worked_min} of {cap} "
                                "min worked this week)")
