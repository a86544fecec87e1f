"""Re-planning and pins: what is kept stays, what is gone is not used.

Kept stops stay as they were, nothing new starts before the lock time, workers
who went off take nothing new, and pinned visits go to their worker.
"""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.errors import PlanError
from scheduler.roster import worker_off_from
from scheduler.rules.base import Violation
from scheduler.rules.view import RosterView
from scheduler.timeutil import format_hhmm


class LockedRule:
    """Every stop to keep is in the roster exactly (same worker and start); a stop marked ``locked`` is one of them."""

    code = "locked"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every stop marked locked but not kept, and every kept stop moved or dropped."""
        if view.locked:
            for route in view.roster.routes:
                for st in route.stops:
                    if st.locked and (st.visit_id, route.worker_id, st.start) not in view.kept:
                        yield Violation(self.code, "visit", st.visit_id, f"worker {route.worker_id!r}'s stop at "
                                        f"{format_hhmm(st.start)} is marked locked but is not one of the stops to keep")
        for lock in view.locked:
            if lock.visit_id in view.past:
                continue
            places = view.served.get(lock.visit_id, [])
            if not any(wid == lock.worker_id and st.start == lock.start for wid, st in places):
                now = ", ".join(f"{wid} at {format_hhmm(st.start)}" for wid, st in places) or "unassigned"
                yield Violation(self.code, "visit", lock.visit_id, f"locked to worker {lock.worker_id!r} at "
                                f"{format_hhmm(lock.start)}, but the roster has it {now}")


class PastRule:
    """After a re-plan, no stop that is not kept starts before the lock time, nor leaves home before it."""

    code = "past"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for an unreadable lock time, and every new stop or departure before the lock time."""
        if view.lock_problem is not None:
            yield Violation(self.code, "plan", None, view.lock_problem)
        lock = view.lock_time
        if lock is None:
            return
        for route in view.roster.routes:
            wid = route.worker_id
            held = view.held(route)
            for st, kept in zip(route.stops, held, strict=True):
                if not kept and st.start < lock:
                    yield Violation(self.code, "visit", st.visit_id, f"worker {wid!r} starts it at "
                                    f"{format_hhmm(st.start)}, before the re-plan time {format_hhmm(lock)}, and it is "
                                    "not a kept stop")
            if route.stops and route.departure is not None and route.departure < lock \
                    and not any(kept and st.start < lock for st, kept in zip(route.stops, held, strict=True)):
                yield Violation(self.code, "worker", wid, f"leaves home at {format_hhmm(route.departure)}, before the "
                                f"re-plan time {format_hhmm(lock)}, with no kept stop before it")


class OffRule:
    """A worker ``off_from`` a time starts nothing new from then on."""

    code = "off"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for an unreadable ``off_from``, and every new stop from it on."""
        for route in view.roster.routes:
            wid = route.worker_id
            if not view.plan.has_worker(wid):
                continue
            try:
                off = worker_off_from(view.plan.worker(wid))
            except PlanError as exc:
                yield Violation(self.code, "worker", wid, str(exc.problems[0]))
                continue
            if off is None:
                continue
            for st, kept in zip(route.stops, view.held(route), strict=True):
                if st.start >= off and not kept:
                    yield Violation(self.code, "visit", st.visit_id, f"worker {wid!r} is off from "
                                    f"{format_hhmm(off)} but starts it at {format_hhmm(st.start)}")


class PinnedRule:
    """A visit with ``pinned_worker_id`` is served by that worker (when served)."""

    code = "pinned"

    def check(self, view: RosterView) -> Iterator[Violation]:
        """Yield a violation for every served pinned visit its worker does not serve."""
        for visit in view.plan.visits:
            places = view.served.get(visit.id)
            if visit.pinned_worker_id and places and visit.pinned_worker_id not in [wid for wid, _ in places]:
                yield Violation(self.code, "visit", visit.id, f"pinned to worker {visit.pinned_worker_id!r} but "
                                "served by " + ", ".join(wid for wid, _ in places))
