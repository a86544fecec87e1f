"""Every visit is served, or listed once as unassigned with a reason.

A visit is served by ``workers_required`` workers or listed once as unassigned,
with a reason; a mandatory visit only when nobody has room for it; and the
roster names only records of the plan.
"""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.rules.base import Violation
from scheduler.rules.view import RosterView
from scheduler.timeutil import format_hhmm


class ReferenceRule:
    """Routes, stops and unassigned entries name workers and visits of the plan; a worker has one route."""

    code = "reference"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every unknown worker or visit, and every worker with more than one route."""
        plan = view.plan
        seen: set[str] = set()
        for route in view.roster.routes:
            wid = route.worker_id
            if not plan.has_worker(wid):
                yield Violation(self.code, "route", wid, f"worker {wid!r} is not in the plan")
                continue
            if wid in seen:
                yield Violation(self.code, "route", wid, f"worker {wid!r} has more than one route")
            seen.add(wid)
            for n, stop in enumerate(route.stops, start=1):
                if not plan.has_visit(stop.visit_id):
                    yield Violation(self.code, "stop", stop.visit_id,
                                    f"worker {wid!r} stop {n}: visit {stop.visit_id!r} is not in the plan")
        for u in view.roster.unassigned:
            if not plan.has_visit(u.visit_id):
                yield Violation(self.code, "unassigned", u.visit_id, f"visit {u.visit_id!r} is not in the plan")


class ReasonRule:
    """An unassigned visit has a reason; one left out as ``past`` really is past at the re-plan time."""

    code = "reason"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every unassigned visit without a reason, or wrongly said to be past."""
        plan = view.plan
        for u in view.roster.unassigned:
            if plan.has_visit(u.visit_id) and not u.reason.strip():
                yield Violation(self.code, "visit", u.visit_id, "unassigned without a reason")
        lock = view.lock_time
        for u in view.roster.unassigned:
            if u.code == "past" and plan.has_visit(u.visit_id) and u.visit_id not in view.past:
                yield Violation(self.code, "visit", u.visit_id, "unassigned as past, but its window is still open at "
                                "the re-plan time " + (format_hhmm(lock) if lock is not None else "(none given)")
                                + " and no kept stop of it is gone")


class CoverageRule:
    """Each visit appears ``workers_required`` times, or once as unassigned and never served."""

    code = "coverage"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every visit served too often or too rarely, or both served and unassigned."""
        for visit in view.plan.visits:
            stops = view.served.get(visit.id, [])
            n_unassigned = view.unassigned.get(visit.id, 0)
            if n_unassigned:
                if stops:
                    yield Violation(self.code, "visit", visit.id,
                                    f"listed as unassigned but served by {', '.join(w for w, _ in stops)}")
                if n_unassigned > 1:
                    yield Violation(self.code, "visit", visit.id, f"listed {n_unassigned} times as unassigned")
                continue
            if len(stops) != visit.workers_required:
                yield Violation(self.code, "visit", visit.id, f"served {len(stops)} times, needs "
                                f"{visit.workers_required} worker(s) or an unassigned entry")


class MandatoryRule:
    """A mandatory visit is unassigned only when no worker has room for it (checked with a network).

    The proof of room is the view's ``free_slot`` (:func:`scheduler.validate.free_slot`).
    """

    code = "mandatory"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every unassigned mandatory visit (not past) that a worker has room for."""
        if view.travel is None or view.free_slot is None:
            return
        plan = view.plan
        for visit_id in view.unassigned:
            if plan.has_visit(visit_id) and plan.visit(visit_id).priority == "mandatory" and visit_id not in view.past:
                slot = view.free_slot(plan, view.roster.routes, plan.visit(visit_id), view.travel,
                                      not_before=view.lock_time)
                if slot:
                    yield Violation(self.code, "visit", visit_id, f"mandatory visit is unassigned but {slot}")
